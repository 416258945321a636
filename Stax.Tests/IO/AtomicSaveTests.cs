using Stax.IO;
using Stax.Tests.Infrastructure;
using static Stax.Tests.IO.IOTestUtil;

namespace Stax.Tests.IO;

/// <summary>A failed save must leave the previous file byte-identical and no temp file behind.</summary>
public class AtomicSaveTests
{
    static readonly Dictionary<string, Tensor> Good = new()
    {
        ["a"] = Tensor.FromArray(new[] { 1f, 2f, 3f }),
        ["b"] = Tensor.FromArray(new[] { 4, 5 }),
    };

    /// <summary>Runs <paramref name="save"/> with a traced tensor named 'z' (written after 'a', so mid-way).</summary>
    static void WithTracedTensor(Action<Dictionary<string, Tensor>> save)
    {
        Transforms.Jvp(x =>
        {
            save(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(new[] { 9f, 9f, 9f, 9f }), ["z"] = x });
            return x;
        }, Tensor.FromArray(new[] { 1f, 2f }), Tensor.FromArray(new[] { 1f, 1f }));
    }

    static void AssertUnchanged(TempDir dir, string path, byte[] before)
    {
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { Path.GetFileName(path) }, dir.Files());
    }

    [Fact]
    public void SafeTensorsFailureMidWriteKeepsThePreviousFile()
    {
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        SafeTensors.Save(path, Good, new Dictionary<string, string> { ["step"] = "1" });
        var before = File.ReadAllBytes(path);

        Check.Throws<InvalidOperationException>(() => WithTracedTensor(d => SafeTensors.Save(path, d)), "SafeTensors.Save", "tensor 'z'", "traced");
        AssertUnchanged(dir, path, before);

        Check.Throws<IOException>(() => SafeTensors.Save(path, new ThrowingDictionary(Good, 1)), "simulated failure");
        AssertUnchanged(dir, path, before);

        // The file still loads, and a successful save does replace it.
        SameTensors(Good, SafeTensors.Load(path).Tensors);
        var next = new Dictionary<string, Tensor> { ["c"] = Tensor.Scalar(7) };
        SafeTensors.Save(path, next);
        SameTensors(next, SafeTensors.Load(path).Tensors);
        Assert.Single(dir.Files());
    }

    [Fact]
    public void FailedFirstSaveLeavesNoFile()
    {
        using var dir = new TempDir();
        string path = dir.File("new.safetensors");
        Assert.Throws<IOException>(() => SafeTensors.Save(path, new ThrowingDictionary(Good, 0)));
        Assert.Empty(dir.Files());
    }

    [Fact]
    public void NpyAndNpzFailuresKeepThePreviousFile()
    {
        using var dir = new TempDir();
        string npy = dir.File("x.npy"), npz = dir.File("x.npz");
        Npy.Save(npy, Good["a"]);
        Npz.Save(npz, Good);
        var beforeNpy = File.ReadAllBytes(npy);
        var beforeNpz = File.ReadAllBytes(npz);

        Check.Throws<InvalidOperationException>(() => WithTracedTensor(d => Npz.Save(npz, d)), "Npz.Save", "tensor 'z'");
        Check.Throws<InvalidOperationException>(() => WithTracedTensor(d => Npy.Save(npy, d["z"])), "Npy.Save", "traced");
        Check.Throws<IOException>(() => Npz.Save(npz, new ThrowingDictionary(Good, 1)), "simulated failure");
        Check.Throws<NotSupportedException>(() => Npz.Save(npz, new Dictionary<string, Tensor> { ["bf"] = Tensor.Zeros(new Shape(2), DType.BFloat16) }), "bfloat16");

        Assert.Equal(beforeNpy, File.ReadAllBytes(npy));
        Assert.Equal(beforeNpz, File.ReadAllBytes(npz));
        Assert.Equal(new[] { "x.npy", "x.npz" }, dir.Files().OrderBy(f => f, StringComparer.Ordinal));
        SameTensors(Good, Npz.Load(npz));
    }
}
