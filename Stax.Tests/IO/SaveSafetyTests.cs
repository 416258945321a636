using System.Diagnostics;
using Stax.IO;

namespace Stax.Tests.IO;

/// <summary>What a save keeps: a symbolic link stays a link, a file keeps its mode, and temp files
/// that killed saves left behind are removed.</summary>
public class SaveSafetyTests
{
    static readonly Dictionary<string, Tensor> Tensors = new() { ["w"] = Tensor.FromArray(new[] { 1f, 2f }) };

    [Fact]
    public void SavingThroughASymbolicLinkKeepsTheLink()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string real = dir.File("real.safetensors"), link = dir.File("link.safetensors");
        SafeTensors.Save(real, new Dictionary<string, Tensor> { ["old"] = Tensor.Scalar(1) });
        File.CreateSymbolicLink(link, real);
        SafeTensors.Save(link, Tensors);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(new[] { "w" }, SafeTensors.Load(real).Tensors.Keys);
        Assert.Equal(new[] { "link.safetensors", "real.safetensors" }, dir.Files().OrderBy(f => f, StringComparer.Ordinal));
    }

    [Fact]
    public void SavingKeepsTheFileMode()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string path = dir.File("ckpt.npz");
        Npz.Save(path, Tensors);
        const UnixFileMode privateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.SetUnixFileMode(path, privateMode);
        Npz.Save(path, Tensors);
        Assert.Equal(privateMode, File.GetUnixFileMode(path));
        Checkpoint.Save(path, new Dictionary<string, object?> { ["p"] = Tensors["w"] });
        Assert.Equal(privateMode, File.GetUnixFileMode(path));
    }

    [Fact]
    public void StaleTempFilesOfDeadSaversAreRemoved()
    {
        using var dir = new TempDir();
        string path = dir.File("model.npy");
        // A process that has exited: its pid no longer runs (pids are not reused this quickly).
        using var done = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        done.WaitForExit();
        using var alive = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            string stale = dir.File($".model.npy.{done.Id}-{Guid.NewGuid():N}.tmp");
            string busy = dir.File($".model.npy.{alive.Id}-{Guid.NewGuid():N}.tmp");
            string other = dir.File($".other.npy.{done.Id}-{Guid.NewGuid():N}.tmp");
            foreach (var f in new[] { stale, busy, other }) File.WriteAllBytes(f, new byte[100]);
            Npy.Save(path, Tensors["w"]);
            Assert.False(File.Exists(stale), "the temp file of a dead save was kept");
            Assert.True(File.Exists(busy), "the temp file of a running save was removed");
            Assert.True(File.Exists(other), "a temp file of another target was removed");
        }
        finally { alive.Kill(); }
    }
}
