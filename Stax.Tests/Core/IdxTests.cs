using Stax.IO;

namespace Stax.Tests.Core;

public class IdxTests
{
    [Fact]
    public void ParsesHandBuiltFile()
    {
        // magic 0x00000803 (ubyte, rank 3), dims 2 x 1 x 2, then 4 bytes of data
        var bytes = new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 9, 8, 7, 6 };
        var t = IdxFile.Parse(bytes);
        Assert.Equal(new Shape(2, 1, 2), t.Shape);
        Assert.Equal(new byte[] { 9, 8, 7, 6 }, t.ToArray<byte>());
    }

    [Fact]
    public void CorruptFilesGiveClearErrors()
    {
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(new byte[] { 1, 2, 3, 4 })).Message);
        Assert.Contains("0x0d", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(new byte[] { 0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0 })).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(new byte[] { 0, 0, 8, 2, 0, 0 })).Message);
        Assert.Contains("should hold 4 elements", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(new byte[] { 0, 0, 8, 1, 0, 0, 0, 4, 1, 2 })).Message);
    }

    [Fact]
    public void ReadsShippedMnist()
    {
        string dir = Path.Combine(Path.GetDirectoryName(ReadmeDir())!, "data", "mnist");
        var labels = IdxFile.Read(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(new Shape(10000), labels.Shape);
        // The first test labels of MNIST are 7, 2, 1, 0, 4 (a well-known fact of the dataset).
        Assert.Equal(new byte[] { 7, 2, 1, 0, 4 }, labels.ToArray<byte>()[..5]);
        var images = IdxFile.Read(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"));
        Assert.Equal(new Shape(10000, 28, 28), images.Shape);
    }

    static string ReadmeDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Stax.sln"))) return Path.Combine(d.FullName, "Stax.sln");
        throw new FileNotFoundException("Stax.sln not found");
    }
}
