using System.Diagnostics;
using Stax.IO;

namespace Stax.Tests.Fuzz;

/// <summary>
/// Mutated and known-bad files must load or be rejected with a clear error, never crash the
/// process, throw an unnamed exception or allocate what the file merely declares. The readers run
/// in a child process (<see cref="ReaderHost"/>), so a stack overflow shows up as a failed test.
/// <c>STAX_FUZZ_CASES</c> sets the number of mutated files per format (default 300; set it to
/// tens of thousands for a long local run).
/// </summary>
public class FuzzTests
{
    static int Cases => int.TryParse(Environment.GetEnvironmentVariable("STAX_FUZZ_CASES"), out int n) && n > 0 ? n : 300;

    static string CorpusDir => Path.Combine(AppContext.BaseDirectory, "Fuzz", "corpus");

    public static IEnumerable<object[]> Formats => FileFormats.Names.Select(f => new object[] { f });

    public static IEnumerable<object[]> CorpusFiles =>
        Directory.GetDirectories(CorpusDir).SelectMany(d => Directory.GetFiles(d).Select(f => new object[] { Path.GetFileName(d), Path.GetFileName(f) }));

    /// <summary>Runs the reader host on files in a child process; returns its exit code and output lines.</summary>
    static (int Exit, string[] Lines, string Errors) RunReader(string format, IReadOnlyList<string> files)
    {
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(ReaderHost).Assembly.Location);
        psi.ArgumentList.Add("--read");
        psi.ArgumentList.Add(format);
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var proc = Process.Start(psi)!;
        var stderr = proc.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (proc.StandardOutput.ReadLine() is { } line) lines.Add(line);
        if (!proc.WaitForExit(120_000)) { proc.Kill(entireProcessTree: true); Assert.Fail($"{format}: the reader hung"); }
        return (proc.ExitCode, lines.ToArray(), stderr.Result);
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void CorpusFileIsRejectedWithAClearError(string format, string file)
    {
        var ex = Assert.ThrowsAny<Exception>(() => FileFormats.Load(format, Path.Combine(CorpusDir, format, file)));
        Assert.True(FileFormats.IsCleanRejection(ex), $"{format}/{file}: {ex.GetType().Name}: {ex.Message}");
        Assert.Contains(file, ex.Message);
    }

    [Fact]
    public void CorpusFilesDoNotKillAChildProcess()
    {
        foreach (var dir in Directory.GetDirectories(CorpusDir))
        {
            string format = Path.GetFileName(dir);
            var files = Directory.GetFiles(dir);
            var (exit, lines, errors) = RunReader(format, files);
            Assert.True(exit == 0, $"{format}: the reader exited with {exit}: {string.Join("\n", lines)}\n{errors}");
            Assert.Equal(files.Length, lines.Length);
            Assert.All(lines, l => Assert.StartsWith("rejected ", l));
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void MutatedFilesLoadOrFailCleanly(string format)
    {
        var samples = FileFormats.Samples(format).ToArray();
        using var dir = new IO.TempDir();
        var files = new List<string>();
        for (int c = 0; c < Cases; c++)
        {
            var bytes = new Mutator(c).Mutate(samples[c % samples.Length]);
            string path = dir.File($"case{c:D6}.{format}");
            File.WriteAllBytes(path, bytes);
            files.Add(path);
        }
        var (exit, lines, errors) = RunReader(format, files);
        var bugs = lines.Where(l => l.StartsWith("BUG ", StringComparison.Ordinal)).ToArray();
        Assert.True(bugs.Length == 0, $"{format}: {bugs.Length} of {files.Count} mutated files failed badly:\n{string.Join("\n", bugs.Take(10))}");
        Assert.True(exit == 0 && lines.Length == files.Count,
            $"{format}: the reader died after {lines.Length} of {files.Count} files (exit {exit}); next file: {files.ElementAtOrDefault(lines.Length)}\n{errors}");
        // Most mutations must be caught; the valid samples themselves load.
        Assert.True(lines.Count(l => l.StartsWith("rejected ", StringComparison.Ordinal)) > files.Count / 4, $"{format}: too few rejections");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EverySingleBitFlipInNpzDataIsCaught(bool compress)
    {
        var tensors = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }) };
        var good = Npz.Serialize(tensors, compress);
        var expected = tensors["w"].ToBytes();
        // The entry's data (stored or deflated) sits between its local header and the central directory.
        int dataStart = 30 + "w.npy".Length, dataEnd = FindCentralDirectory(good);
        int silent = 0, flips = 0;
        for (int i = dataStart; i < dataEnd; i++)
            for (int bit = 0; bit < 8; bit++)
            {
                var bad = (byte[])good.Clone();
                bad[i] ^= (byte)(1 << bit);
                flips++;
                try
                {
                    if (!Npz.Deserialize(bad)["w"].ToBytes().SequenceEqual(expected)) silent++;
                }
                catch (InvalidDataException e) { Assert.StartsWith("Npz.Load", e.Message); }
                catch (NotSupportedException e) { Assert.StartsWith("Npz.Load", e.Message); }
            }
        Assert.True(flips > 8 * 60, $"only {flips} flips: the data range was not found");
        Assert.Equal(0, silent);
    }

    static int FindCentralDirectory(byte[] zip)
    {
        for (int i = zip.Length - 4; i >= 0; i--)
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 1 && zip[i + 3] == 2) return i;
        throw new InvalidOperationException("no central directory");
    }
}
