using System.IO.Compression;
using Stax.IO;
using Stax.Tests.Infrastructure;
using static Stax.Tests.IO.IOTestUtil;

namespace Stax.Tests.IO;

public class NpzTests
{
    static Dictionary<string, Tensor> Sample() => new(EveryDtype(withBFloat16: false))
    {
        ["layers/0/w"] = TestData.Tensor(11, new[] { 3, 4 }),
        ["ü"] = Tensor.Scalar(1, DType.Int32),
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTrips(bool compress)
    {
        using var dir = new TempDir();
        string path = dir.File("arrays.npz");
        var tensors = Sample();
        Npz.Save(path, tensors, compress);
        SameTensors(tensors, Npz.Load(path));
        SameTensors(tensors, Npz.Load(new ForwardOnlyStream(new MemoryStream(File.ReadAllBytes(path)))));
        Assert.Single(dir.Files());
    }

    [Fact]
    public void ArchiveHoldsOneNpyEntryPerArray()
    {
        var tensors = Sample();
        using var zip = new ZipArchive(new MemoryStream(Npz.Serialize(tensors)), ZipArchiveMode.Read);
        Assert.Equal(tensors.Keys.Select(k => k + ".npy").OrderBy(k => k, StringComparer.Ordinal),
            zip.Entries.Select(e => e.FullName).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var e in zip.Entries)
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            Assert.Equal(Npy.Serialize(tensors[e.FullName[..^4]]), ms.ToArray());
        }
    }

    static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                s.Write(data);
            }
        return ms.ToArray();
    }

    static readonly byte[] ArangeNpy = Concat(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 },
        Ascii("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }".PadRight(117) + "\n"),
        new[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes).ToArray());

    [Fact]
    public void ReadsAHandBuiltArchiveAndConvertsOnRequest()
    {
        var npz = Zip(("x.npy", ArangeNpy), ("dir/", Array.Empty<byte>()));
        var t = Npz.Deserialize(npz);
        Assert.Equal(new[] { "x" }, t.Keys);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, t["x"].ToArray<int>());
        Assert.Equal(new[] { 0f, 1, 2, 3, 4, 5 }, Npz.Deserialize(npz, DType.Float32)["x"].ToArray<float>());
    }

    [Fact]
    public void CorruptArchivesGiveClearErrors()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.npz");
        void Bad(byte[] bytes, params string[] fragments)
        {
            File.WriteAllBytes(path, bytes);
            Check.Throws<InvalidDataException>(() => Npz.Load(path), fragments.Append(path).ToArray());
        }
        var good = Npz.Serialize(Sample());
        Bad(Ascii("not a zip file at all, just some text"), "not a valid zip archive");
        Bad(good[..(good.Length / 2)], "not a valid zip archive");
        Bad(Zip(("readme.txt", Ascii("hi"))), "entry 'readme.txt'", "not a .npy file");
        Bad(Zip(("x.npy", ArangeNpy[..^3])), "entry 'x.npy'", "truncated");
        Bad(Zip(("x.npy", ArangeNpy), ("x.npy", ArangeNpy)), "'x.npy' twice");
        File.WriteAllBytes(path, Zip(("x.npy", Concat(ArangeNpy[..22], Ascii("f8"), ArangeNpy[24..]))));
        Check.Throws<InvalidDataException>(() => Npz.Load(path), "needs 48 data bytes but only 24 remain");
    }
}
