using System.Text;
using Stax.IO;
using Stax.Tests.Infrastructure;
using static Stax.Tests.IO.IOTestUtil;

namespace Stax.Tests.IO;

public class NpyTests
{
    /// <summary>A version 1.0 .npy file from a header dict literal, padded per the spec to <paramref name="align"/> bytes.</summary>
    static byte[] Build(string dict, byte[] data, int align = 64, byte major = 1)
    {
        int lenField = major == 1 ? 2 : 4;
        int prefix = 6 + 2 + lenField;
        int total = (prefix + dict.Length + 1 + align - 1) / align * align;
        string header = dict.PadRight(total - prefix - 1) + "\n";
        var len = major == 1 ? BitConverter.GetBytes((ushort)header.Length) : BitConverter.GetBytes((uint)header.Length);
        return Concat(new byte[] { 0x93 }, Ascii("NUMPY"), new byte[] { major, 0 }, len, Encoding.Latin1.GetBytes(header), data);
    }

    static InvalidDataException Corrupt(byte[] file, params string[] fragments)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.npy");
        File.WriteAllBytes(path, file);
        return Check.Throws<InvalidDataException>(() => Npy.Load(path), fragments.Append(path).ToArray());
    }

    static byte[] Ints(params int[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void MatchesTheBytesNumPyWritesForArange6Reshaped()
    {
        // np.save(f, np.arange(6, dtype='<i4').reshape(2, 3)): magic, version 1.0, header length 118 (uint16 LE),
        // the dict literal padded with spaces and a newline so the data starts at byte 128, then 0..5 as int32 LE.
        const string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
        var expected = Concat(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 },
            Ascii(dict + new string(' ', 118 - 1 - dict.Length) + "\n"), Ints(0, 1, 2, 3, 4, 5));
        Assert.Equal(128 + 24, expected.Length);

        var t = Npy.Deserialize(expected);
        Assert.Equal(DType.Int32, t.DType);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, t.ToArray<int>());

        Assert.Equal(expected, Npy.Serialize(Tensor.FromArray(new[] { 0, 1, 2, 3, 4, 5 }, 2, 3)));
    }

    [Fact]
    public void HeadersOfScalarsAndVectorsFollowPythonRepr()
    {
        string Header(Tensor t)
        {
            var b = Npy.Serialize(t);
            int len = BitConverter.ToUInt16(b, 8);
            Assert.Equal(0, (10 + len) % 64);
            Assert.Equal((byte)'\n', b[10 + len - 1]);
            return Encoding.ASCII.GetString(b, 10, len).TrimEnd();
        }
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", Header(Tensor.Scalar(1)));
        Assert.Equal("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", Header(Tensor.Zeros(new Shape(5), DType.UInt8)));
        Assert.Equal("{'descr': '|b1', 'fortran_order': False, 'shape': (0, 3), }", Header(Tensor.Zeros(new Shape(0, 3), DType.Bool)));
        Assert.Equal("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2, 3), }", Header(Tensor.Zeros(new Shape(1, 2, 3), DType.Float16)));
    }

    [Fact]
    public void RoundTripsEveryDtypeNumPyHas()
    {
        using var dir = new TempDir();
        foreach (var (name, t) in EveryDtype(withBFloat16: false))
        {
            string path = dir.File(name + ".npy");
            Npy.Save(path, t);
            SameTensor(t, Npy.Load(path), name);
            SameTensor(t, Npy.Load(new ForwardOnlyStream(new MemoryStream(Npy.Serialize(t)))), name);
        }
        Check.Throws<NotSupportedException>(() => Npy.Serialize(Tensor.Zeros(new Shape(2), DType.BFloat16)), "bfloat16", "SafeTensors");
    }

    [Fact]
    public void FortranOrderIsTransposedOnRead()
    {
        // [[0, 1, 2], [3, 4, 5]] stored column-major.
        var t = Npy.Deserialize(Build("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", Ints(0, 3, 1, 4, 2, 5)));
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, t.ToArray<int>());

        // 3-D: element (i, j, k) = 100i + 10j + k at column-major position i + 2j + 6k.
        var f = new double[2 * 3 * 4];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) f[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
        var t3 = Npy.Deserialize(Build("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", f.SelectMany(BitConverter.GetBytes).ToArray()));
        var c = t3.ToArray<double>();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) Assert.Equal(100 * i + 10 * j + k, c[i * 12 + j * 4 + k]);

        // 1-D Fortran order is the same as C order; empty arrays work too.
        Assert.Equal(new[] { 7, 8 }, Npy.Deserialize(Build("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }", Ints(7, 8))).ToArray<int>());
        Assert.Equal(new Shape(0, 2), Npy.Deserialize(Build("{'descr': '<i4', 'fortran_order': True, 'shape': (0, 2), }", Array.Empty<byte>())).Shape);
    }

    [Fact]
    public void ReadsOtherWritersVariations()
    {
        // Old NumPy: 16-byte alignment, Python 2 long literals, key order, double quotes, no trailing comma.
        var t = Npy.Deserialize(Build("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<u4\"}", Ints(3, 4), align: 16));
        Assert.Equal(new Shape(2, 1), t.Shape);
        Assert.Equal(new[] { 3u, 4u }, t.ToArray<uint>());
        // Version 2.0 (uint32 header length) and 3.0 (UTF-8 header).
        Assert.Equal(new[] { 5 }, Npy.Deserialize(Build("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", Ints(5), major: 2)).ToArray<int>());
        Assert.Equal(new[] { 6 }, Npy.Deserialize(Build("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", Ints(6), major: 3)).ToArray<int>());
        // Big-endian data is swapped.
        var be = Npy.Deserialize(Build("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new byte[] { 0x3F, 0x80, 0, 0, 0xC0, 0x20, 0, 0 }));
        Assert.Equal(new[] { 1f, -2.5f }, be.ToArray<float>());
        // Native-order and '<u1' descrs.
        Assert.Equal(new byte[] { 1, 2 }, Npy.Deserialize(Build("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", new byte[] { 1, 2 })).ToArray<byte>());
        Assert.Equal(new[] { 9 }, Npy.Deserialize(Build("{'descr': '=i4', 'fortran_order': False, 'shape': (1,), }", Ints(9))).ToArray<int>());
    }

    [Fact]
    public void TypesStaxLacksNeedAConversion()
    {
        var i8 = Build("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new long[] { -3, 1L << 33 }.SelectMany(BitConverter.GetBytes).ToArray());
        Check.Throws<NotSupportedException>(() => Npy.Deserialize(i8), "'<i8'", "convertTo");
        Assert.Equal(new[] { -3f, 8589934592f }, Npy.Deserialize(i8, DType.Float32).ToArray<float>());
        Check.Throws<OverflowException>(() => Npy.Deserialize(i8, DType.Int32), "int32");
        var i2 = Build("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", new byte[] { 0xFF, 0xFE, 0x01, 0x00 });
        Assert.Equal(new[] { -2, 256 }, Npy.Deserialize(i2, DType.Int32).ToArray<int>());
        var f2 = Build("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", new byte[] { 0x00, 0x3C });
        Assert.Equal(new[] { 1f }, Npy.Deserialize(f2, DType.Float32).ToArray<float>());
        var u1 = Build("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", new byte[] { 0, 255 });
        Assert.Equal(new[] { 0.0, 255.0 }, Npy.Deserialize(u1, DType.Float64).ToArray<double>());
        Check.Throws<NotSupportedException>(() => Npy.Deserialize(Build("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8])), "'<c8'", "not supported");
        Check.Throws<NotSupportedException>(() => Npy.Deserialize(Build("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new byte[12])), "'<U3'");
        Check.Throws<NotSupportedException>(() => Npy.Deserialize(Build("{'descr': [('x', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[4])), "structured");
    }

    [Fact]
    public void CorruptAndTruncatedFilesGiveClearErrors()
    {
        var good = Npy.Serialize(Tensor.FromArray(new[] { 1f, 2f, 3f }));
        Corrupt(good[..6], "truncated");
        Corrupt(Concat(Ascii("PK\u0003\u0004"), good[4..]), "magic");
        Corrupt(Concat(good[..6], new byte[] { 9, 0 }, good[8..]), "version 9.0");
        Corrupt(good[..^1], "truncated", "needs 12 data bytes but only 11 remain");
        Corrupt(Concat(good, new byte[] { 0 }), "1 unexpected bytes");
        Corrupt(Concat(good[..8], new byte[] { 0xFF, 0xFF }, good[10..]), "header length 65535 exceeds");
        Corrupt(good[..50], "header length", "exceeds");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", new byte[8]), "not a valid Python literal");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", new byte[8]), "unexpected text");
        Corrupt(Build("{'descr': '<f4', 'shape': (2,), }", new byte[8]), "exactly the keys");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", new byte[8]), "exactly the keys", "'extra'");
        Corrupt(Build("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", new byte[8]), "appears twice");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", new byte[8]), "'fortran_order' must be True or False");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", new byte[8]), "'shape' must be a tuple");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }", new byte[8]), "'shape' must be a tuple");
        Corrupt(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", new byte[8]), "99999999999");
        Corrupt(Build("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new byte[] { 0, 5 }), "must be 0 or 1");
        Corrupt(Build("[1, 2]", new byte[8]), "not a dict");
    }
}
