using System.Diagnostics;
using System.IO.Compression;
using Stax.IO;
using Stax.Tests.Infrastructure;
using static Stax.Tests.IO.IOTestUtil;

namespace Stax.Tests.IO;

/// <summary>The defects found by attacking the readers, the creation paths and saves, one test each.</summary>
public class HostileInputTests
{
    static byte[] NpyWithHeader(string dict)
    {
        var h = Ascii(dict);
        int pad = 64 - (12 + h.Length + 1) % 64;
        var len = BitConverter.GetBytes((uint)(h.Length + pad + 1));
        return Concat(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 }, len, h, Ascii(new string(' ', pad) + "\n"));
    }

    [Fact]
    public void DeeplyNestedNpyHeaderIsRejectedWithoutRecursingPerLevel()
    {
        // 100,000 levels once overflowed the stack; run on a small stack so a per-level recursion would fail here too.
        var bytes = NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + new string('(', 100_000) + "1" + new string(')', 100_000) + ", }");
        Exception? caught = null;
        var thread = new Thread(() => { try { Npy.Deserialize(bytes); } catch (Exception e) { caught = e; } }, 256 << 10);
        thread.Start();
        thread.Join();
        var ex = Assert.IsType<InvalidDataException>(caught);
        Assert.Contains("nest", ex.Message);
    }

    [Fact]
    public void ElementCountsThatOverflowAreRejected()
    {
        Check.Throws<ArgumentException>(() => new Shape(65536, 65536, 65536, 65536), "Shape", "(65536, 65536, 65536, 65536)", "elements");
        Check.Throws<ArgumentException>(() => Np.Zeros(new Shape(65536, 65536, 65536, 65536)), "Shape");
        Assert.Equal(0, new Shape(65536, 65536, 65536, 65536, 0).Size); // an empty tensor is fine
        var npy = NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536, 65536), }");
        Check.Throws<InvalidDataException>(() => Npy.Deserialize(npy), "Npy.Load", "'shape'");
        var idx = Concat(new byte[] { 0, 0, 8, 4 }, Enumerable.Repeat(new byte[] { 0, 1, 0, 0 }, 4).SelectMany(x => x).ToArray());
        Check.Throws<InvalidDataException>(() => IdxFile.Parse(idx, "tiny.idx"), "tiny.idx", "shape");
    }

    [Fact]
    public void HugeTensorCreationFailsBeforeAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Check.Throws<OutOfMemoryException>(() => Np.Ones(new Shape(40000, 40000)), "Tensor.Full", "(40000, 40000)", "float32", "6400000000 bytes");
        Check.Throws<OutOfMemoryException>(() => Np.Zeros(new Shape(50000, 50000)), "Tensor.Full", "(50000, 50000)");
        Check.Throws<OutOfMemoryException>(() => Np.Full(new Shape(3, 1 << 30), 2.0, DType.UInt8), "Tensor.Full", "uint8");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the failed creations allocated their arrays");
    }

    [Fact]
    public void NpzEntryDeclaringGigabytesAllocatesOnlyWhatItHolds()
    {
        var npy = Npy.Serialize(Tensor.FromArray(new float[] { 1, 2, 3, 4 }));
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var s = zip.CreateEntry("w.npy", CompressionLevel.Optimal).Open()) s.Write(npy);
        var bytes = ms.ToArray();
        // Patch the uncompressed size in the local header (offset 22) and the central directory record (offset 24).
        int central = Array.LastIndexOf(bytes, (byte)'P');
        while (!(bytes[central + 1] == 'K' && bytes[central + 2] == 1 && bytes[central + 3] == 2)) central = Array.LastIndexOf(bytes, (byte)'P', central - 1);
        BitConverter.GetBytes(int.MaxValue - 1000).CopyTo(bytes, 22);
        BitConverter.GetBytes(int.MaxValue - 1000).CopyTo(bytes, central + 24);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
            Check.Throws<InvalidDataException>(() => Npz.Deserialize(bytes), "Npz.Load", "'w.npy'");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the reader allocated the declared size");
    }

    [Fact]
    public void GzipIdxIsInflatedOnlyAsFarAsItsHeaderDeclares()
    {
        using var dir = new TempDir();
        string longer = dir.File("longer.idx.gz"), huge = dir.File("huge.idx.gz"), good = dir.File("good.idx.gz");
        File.WriteAllBytes(longer, Fuzz.FileFormats.Gzip(Concat(new byte[] { 0, 0, 8, 1, 0, 0, 0, 4 }, new byte[1 << 20])));
        File.WriteAllBytes(huge, Fuzz.FileFormats.Gzip(Concat(new byte[] { 0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0 }, new byte[100])));
        File.WriteAllBytes(good, Fuzz.FileFormats.Gzip(new byte[] { 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4 }));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Check.Throws<InvalidDataException>(() => IdxFile.Read(longer), "longer.idx.gz", "more data than the 4 bytes");
        Check.Throws<OutOfMemoryException>(() => IdxFile.Read(huge), "huge.idx.gz", "4294967296 elements");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader inflated more than the header declares");
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, IdxFile.Read(good).ToArray<byte>());
    }

    [Fact]
    public void NpzErrorsFromTheZipLayerNameTheFile()
    {
        var bytes = Npz.Serialize(new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new[] { 1f }) });
        bytes[8] = 99; // an unknown compression method in the local header
        int central = Array.LastIndexOf(bytes, (byte)'P');
        while (!(bytes[central + 1] == 'K' && bytes[central + 2] == 1 && bytes[central + 3] == 2)) central = Array.LastIndexOf(bytes, (byte)'P', central - 1);
        bytes[central + 10] = 99;
        var ex = Assert.ThrowsAny<Exception>(() => Npz.Deserialize(bytes));
        Assert.True(ex is InvalidDataException or NotSupportedException, ex.GetType().Name);
        Assert.StartsWith("Npz.Load: bytes", ex.Message);
    }

    [Fact]
    public void SafeTensorsRejectsInvalidUtf8InTheHeader()
    {
        var header = Concat(Ascii("{\"__metadata__\":{\"k\":\""), new byte[] { 0xFF, 0xFE }, Ascii("\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"));
        var file = Concat(BitConverter.GetBytes((ulong)header.Length), header, BitConverter.GetBytes(1f));
        Check.Throws<InvalidDataException>(() => SafeTensors.Deserialize(file), "SafeTensors.Load", "UTF-8");
    }

    [Fact]
    public void SmallApiDefects()
    {
        Check.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 1f, 2f }).AsType((DType)99), "convert_element_type", "99", "not a dtype");
        Check.Throws<ArgumentException>(() => Tensor.Zeros(new Shape(2), (DType)99), "Tensor.Full", "99");
        Assert.Equal(new Shape(1), Tensor.FromArray(new float[] { 5 }).Shape);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 });
        var ex = Check.Throws<ArgumentException>(() => x.At(Tensor.FromArray(new[] { 0, 1 })).Set(Tensor.FromArray(new float[] { 7, 8, 9 })), "at.set", "(3,)", "(2,)");
        Assert.DoesNotContain("broadcast_to", ex.Message);
    }

    [Fact]
    public void FortranOrderNpyIsTransposedIntoRowMajor()
    {
        // A (3, 4, 5) float32 array stored column-major: element (i, j, k) at i + 3 j + 12 k holds 100 i + 10 j + k.
        var data = new float[60];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) for (int k = 0; k < 5; k++) data[i + 3 * j + 12 * k] = 100 * i + 10 * j + k;
        var bytes = Concat(NpyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4, 5), }"), data.SelectMany(BitConverter.GetBytes).ToArray());
        var t = Npy.Deserialize(bytes);
        Assert.Equal(new Shape(3, 4, 5), t.Shape);
        var got = t.ToArray<float>();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) for (int k = 0; k < 5; k++) Assert.Equal(100 * i + 10 * j + k, got[20 * i + 5 * j + k]);
    }
}
