using System.Text;
using System.Text.Json;
using Stax.IO;
using Stax.Tests.Infrastructure;
using static Stax.Tests.IO.IOTestUtil;

namespace Stax.Tests.IO;

public class SafeTensorsTests
{
    /// <summary>A safetensors file from its parts: 8-byte little-endian length, the header, the data.</summary>
    static byte[] Build(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return Concat(BitConverter.GetBytes((ulong)header.Length), header, data);
    }

    static InvalidDataException Corrupt(byte[] file, params string[] fragments)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, file);
        return Check.Throws<InvalidDataException>(() => SafeTensors.Load(path), fragments.Append(path).ToArray());
    }

    [Fact]
    public void RoundTripsEveryDtypeEmptyScalarAndMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("all.safetensors");
        var tensors = EveryDtype();
        var meta = new Dictionary<string, string> { ["format"] = "stax", ["step"] = "12", ["note"] = "ünïcode \"quoted\" <tag>" };
        SafeTensors.Save(path, tensors, meta);
        var (loaded, loadedMeta) = SafeTensors.Load(path);
        SameTensors(tensors, loaded);
        Assert.Equal(meta, loadedMeta);
        Assert.Equal(new[] { "all.safetensors" }, dir.Files());
    }

    [Fact]
    public void RoundTripsThroughBytesAndNonSeekableStreams()
    {
        var tensors = EveryDtype();
        var bytes = SafeTensors.Serialize(tensors);
        SameTensors(tensors, SafeTensors.Deserialize(bytes).Tensors);
        var (fromStream, meta) = SafeTensors.Load(new ForwardOnlyStream(new MemoryStream(bytes)), name: "net");
        SameTensors(tensors, fromStream);
        Assert.Empty(meta);
    }

    [Fact]
    public void EmptyDictionaryIsAValidFile()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor>());
        // "{}" padded with six spaces to 8 bytes, after the 8-byte length.
        Assert.Equal(Concat(BitConverter.GetBytes(8UL), Ascii("{}      ")), bytes);
        var (t, m) = SafeTensors.Deserialize(bytes);
        Assert.Empty(t);
        Assert.Empty(m);
    }

    [Fact]
    public void NamesAreArbitraryStrings()
    {
        var names = new[] { "layers/0/w", "params['dense'].kernel", "ü名前", "quote\"back\\slash", "", "tab\tnl\n" };
        var tensors = names.Select((n, i) => (n, Tensor.Full(new Shape(2), i))).ToDictionary(x => x.n, x => x.Item2);
        SameTensors(tensors, SafeTensors.Deserialize(SafeTensors.Serialize(tensors)).Tensors);
    }

    [Fact]
    public void ReservedNameAndNullsAreRejected()
    {
        Check.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Scalar(1) }), "__metadata__", "reserved");
        Check.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["x"] = null! }), "'x'", "null");
    }

    [Fact]
    public void ReadsAFileBuiltByteByByteFromTheFormatDescription()
    {
        // Header written by hand; data: F32 [1, -2.5], BF16 [1, -2], U8 [1, 2, 255], BOOL [1, 0], F16 scalar 0.5.
        string json = "{\"__metadata__\":{\"format\":\"pt\"}," +
                      "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," +
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]}," +
                      "\"m\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[12,15]}," +
                      "\"flags\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[15,17]}," +
                      "\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[17,19]}}";
        var data = new byte[]
        {
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0, // float32 1.0, -2.5
            0x80, 0x3F, 0x00, 0xC0,                         // bfloat16 1.0 (0x3F80), -2.0 (0xC000)
            1, 2, 255,                                      // uint8
            1, 0,                                           // bool
            0x00, 0x38,                                     // float16 0.5 (0x3800)
        };
        var (t, meta) = SafeTensors.Deserialize(Build(json, data)); // unpadded header: readers must accept it
        Assert.Equal("pt", meta["format"]);
        Assert.Equal(new[] { 1f, -2.5f }, t["w"].ToArray<float>());
        Assert.Equal(DType.BFloat16, t["b"].DType);
        Assert.Equal(new Shape(1, 2), t["b"].Shape);
        Assert.Equal(new[] { 1.0, -2.0 }, t["b"].ToDoubleArray());
        Assert.Equal(new byte[] { 1, 2, 255 }, t["m"].ToArray<byte>());
        Assert.Equal(new[] { true, false }, t["flags"].ToArray<bool>());
        Assert.Equal(Shape.Scalar, t["h"].Shape);
        Assert.Equal((Half)0.5, t["h"].Item<Half>());

        // Converted on request: everything becomes float32.
        var (c, _) = SafeTensors.Deserialize(Build(json + "   ", data), DType.Float32);
        Assert.All(c.Values, x => Assert.Equal(DType.Float32, x.DType));
        Assert.Equal(new[] { 1f, -2f }, c["b"].ToArray<float>());
        Assert.Equal(new[] { 1f, 2f, 255f }, c["m"].ToArray<float>());
        Assert.Equal(new[] { 1f, 0f }, c["flags"].ToArray<float>());
        Assert.Equal(0.5f, c["h"].Item<float>());
    }

    [Fact]
    public void OurFilesAreReadableByAnIndependentReader()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.u8"] = Tensor.FromArray(new byte[] { 9, 8, 7 }),
            ["z.f64"] = Tensor.FromArray(new[] { 1.5, -0.25 }),
            ["m.f32"] = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3),
            ["b.bf16"] = Tensor.FromArray(new[] { 1f, -3f }).AsType(DType.BFloat16),
            ["s.i32"] = Tensor.Scalar(-7, DType.Int32),
        };
        var expectedBytes = new Dictionary<string, byte[]>
        {
            ["a.u8"] = new byte[] { 9, 8, 7 },
            ["z.f64"] = Concat(BitConverter.GetBytes(1.5), BitConverter.GetBytes(-0.25)),
            ["m.f32"] = new[] { 1f, 2f, 3f, 4f, 5f, 6f }.SelectMany(BitConverter.GetBytes).ToArray(),
            ["b.bf16"] = new byte[] { 0x80, 0x3F, 0x40, 0xC0 },
            ["s.i32"] = BitConverter.GetBytes(-7),
        };
        var expectedType = new Dictionary<string, (string, int[])>
        {
            ["a.u8"] = ("U8", new[] { 3 }), ["z.f64"] = ("F64", new[] { 2 }), ["m.f32"] = ("F32", new[] { 2, 3 }),
            ["b.bf16"] = ("BF16", new[] { 2 }), ["s.i32"] = ("I32", Array.Empty<int>()),
        };
        var file = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["k"] = "v" });

        // --- the independent reader ---
        ulong n = BitConverter.ToUInt64(file, 0);
        Assert.Equal(0UL, n % 8);
        var headerBytes = file.AsSpan(8, (int)n).ToArray();
        string headerText = Encoding.UTF8.GetString(headerBytes);
        Assert.Matches(@"^\{.*\} *$", headerText.Replace("\n", ""));
        var buffer = file.AsSpan(8 + (int)n).ToArray();
        using var doc = JsonDocument.Parse(headerBytes);
        var seen = new List<(long Begin, long End, string Name)>();
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                Assert.Equal("v", prop.Value.GetProperty("k").GetString());
                continue;
            }
            var (dt, shape) = expectedType[prop.Name];
            Assert.Equal(dt, prop.Value.GetProperty("dtype").GetString());
            Assert.Equal(shape, prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            var off = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(2, off.Length);
            Assert.Equal(expectedBytes[prop.Name], buffer[(int)off[0]..(int)off[1]]);
            seen.Add((off[0], off[1], prop.Name));
        }
        Assert.Equal(tensors.Count, seen.Count);
        seen.Sort();
        long at = 0;
        foreach (var (b, e, _) in seen) { Assert.Equal(at, b); at = e; }
        Assert.Equal(buffer.Length, at);
        // Layout: larger elements first (alignment), then by name.
        Assert.Equal(new[] { "z.f64", "m.f32", "s.i32", "b.bf16", "a.u8" }, seen.Select(s => s.Name).ToArray());
        foreach (var (b, _, name) in seen)
            Assert.Equal(0, (8 + (long)n + b) % tensors[name].DType.SizeOf());
    }

    [Fact]
    public void ReadHeaderListsEntriesWithoutData()
    {
        using var dir = new TempDir();
        string path = dir.File("h.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(new Shape(2, 2)), ["y"] = Tensor.Zeros(new Shape(3), DType.UInt8) },
            new Dictionary<string, string> { ["a"] = "b" });
        var (infos, meta) = SafeTensors.ReadHeader(path);
        Assert.Equal("b", meta["a"]);
        Assert.Equal(new[] { "x", "y" }, infos.Select(i => i.Name));
        Assert.Equal(new[] { "F32", "U8" }, infos.Select(i => i.StoredDType));
        Assert.Equal(new Shape(2, 2), infos[0].Shape);
        Assert.Equal((16L, 19L), (infos[1].Begin, infos[1].End));
        Assert.Equal(DType.UInt8, infos[1].DType);
    }

    static string One(string dtype, string shape, string offsets) => $"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}";

    [Fact]
    public void CorruptAndTruncatedFilesGiveClearErrors()
    {
        var good = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(new[] { 1f, 2f }), ["b"] = Tensor.FromArray(new[] { 3f }) });
        Corrupt(good[..5], "truncated", "fewer than the 8-byte header length");
        Corrupt(Concat(BitConverter.GetBytes(1000UL), Ascii("{}")), "header length 1000 exceeds the 2 bytes");
        Corrupt(Concat(BitConverter.GetBytes(ulong.MaxValue), Ascii("{}")), "limit");
        Corrupt(good[..^1], "runs past the end of the data buffer", "truncated");
        Corrupt(good[..(good.Length - 12)], "tensor 'a'", "runs past");
        Corrupt(Concat(good, new byte[] { 0 }), "trailing bytes");
        Corrupt(Build("[1, 2]", Array.Empty<byte>()), "does not start with '{'");
        Corrupt(Build("{\"t\": {\"dtype\": \"F32\",", new byte[4]), "not valid JSON");
        Corrupt(Build("{\"t\": 5}", new byte[4]), "must be an object");
        Corrupt(Build("{} x", Array.Empty<byte>()), "not valid JSON");
        Corrupt(Build(One("F33", "[1]", "[0,4]"), new byte[4]), "unknown dtype 'F33'");
        Corrupt(Build(One("F32", "[2]", "[0,4]"), new byte[4]), "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] span 4");
        Corrupt(Build(One("F32", "[1]", "[0,4]"), new byte[8]), "cover 4 bytes but the data buffer holds 8");
        Corrupt(Build(One("F32", "[1]", "[4,8]"), new byte[8]), "gap after offset 0");
        Corrupt(Build(One("F32", "[1]", "[0,4]"), new byte[2]), "runs past", "(2 bytes");
        Corrupt(Build(One("F32", "[1]", "[8,4]"), new byte[4]), "end before they begin");
        Corrupt(Build(One("F32", "[1]", "[0]"), new byte[4]), "two numbers");
        Corrupt(Build(One("F32", "[-1]", "[0,4]"), new byte[4]), "non-negative integers", "-1");
        Corrupt(Build(One("F32", "[1.5]", "[0,4]"), new byte[4]), "non-negative integers", "1.5");
        Corrupt(Build(One("F32", "[4294967296]", "[0,4]"), new byte[4]), "too large");
        Corrupt(Build(One("F32", "[65536,65536,65536,65536,65536]", "[0,4]"), new byte[4]), "too large");
        Corrupt(Build(One("F32", "\"x\"", "[0,4]"), new byte[4]), "'shape' must be an array");
        Corrupt(Build("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "lacks 'shape'");
        Corrupt(Build("{\"t\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "'dtype' must be a string");
        Corrupt(Build(One("BOOL", "[2]", "[0,2]"), new byte[] { 1, 2 }), "bool", "must be 0 or 1");
        // Overlapping tensors and duplicate names.
        Corrupt(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
            "tensor 'b'", "overlaps");
        Corrupt(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", new byte[2]),
            "'a' appears twice");
        // Metadata must be a string map.
        Corrupt(Build("{\"__metadata__\":{\"k\":1}}", Array.Empty<byte>()), "metadata value of 'k' must be a string");
        Corrupt(Build("{\"__metadata__\":[]}", Array.Empty<byte>()), "must be an object of strings");
        // Invalid UTF-8 in a name.
        var badUtf8 = Concat(Ascii("{\"t"), new byte[] { 0xFF }, Ascii("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}"));
        Corrupt(Concat(BitConverter.GetBytes((ulong)badUtf8.Length), badUtf8, new byte[1]), "not valid");
    }

    [Fact]
    public void UnknownFieldsAreIgnoredAndNullMetadataAccepted()
    {
        var (t, m) = SafeTensors.Deserialize(Build("{\"__metadata__\":null,\"t\":{\"extra\":{\"x\":[1]},\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[] { 42 }));
        Assert.Empty(m);
        Assert.Equal(new byte[] { 42 }, t["t"].ToArray<byte>());
    }

    [Fact]
    public void TypesStaxLacksNeedAConversion()
    {
        var i64 = Build(One("I64", "[3]", "[0,24]"), new long[] { -5, 0, 1L << 40 }.SelectMany(BitConverter.GetBytes).ToArray());
        Check.Throws<NotSupportedException>(() => SafeTensors.Deserialize(i64), "tensor 't'", "I64", "convertTo");
        Assert.Equal(new[] { -5.0, 0, 1L << 40 }, SafeTensors.Deserialize(i64, DType.Float64).Tensors["t"].ToArray<double>());
        Check.Throws<OverflowException>(() => SafeTensors.Deserialize(i64, DType.Int32), "1099511627776", "int32");

        var i8 = Build(One("I8", "[3]", "[0,3]"), new byte[] { 0xFF, 0x7F, 0x80 });
        Assert.Equal(new[] { -1, 127, -128 }, SafeTensors.Deserialize(i8, DType.Int32).Tensors["t"].ToArray<int>());
        var u16 = Build(One("U16", "[2]", "[0,4]"), new byte[] { 0xFF, 0xFF, 0x01, 0x00 });
        Assert.Equal(new[] { 65535u, 1u }, SafeTensors.Deserialize(u16, DType.UInt32).Tensors["t"].ToArray<uint>());
        // float8_e4m3fn: 0x38 = 1.0, 0xC4 = -3.0 (1.5 * 2), 0x7F = NaN, 0x01 = 2^-9 (smallest subnormal).
        var e4m3 = Build(One("F8_E4M3", "[4]", "[0,4]"), new byte[] { 0x38, 0xC4, 0x7F, 0x01 });
        var f = SafeTensors.Deserialize(e4m3, DType.Float32).Tensors["t"].ToArray<float>();
        Assert.Equal(new[] { 1f, -3f }, f[..2]);
        Assert.True(float.IsNaN(f[2]));
        Assert.Equal(MathF.Pow(2, -9), f[3]);
        // float8_e5m2 is the top byte of a float16: 0x3C = 1.0, 0xC0 = -2.0, 0x7C = +inf.
        var e5m2 = Build(One("F8_E5M2", "[3]", "[0,3]"), new byte[] { 0x3C, 0xC0, 0x7C });
        Assert.Equal(new[] { 1f, -2f, float.PositiveInfinity }, SafeTensors.Deserialize(e5m2, DType.Float32).Tensors["t"].ToArray<float>());
        // Sub-byte floats cannot be loaded even with a conversion.
        var f4 = Build(One("F4", "[2]", "[0,1]"), new byte[1]);
        Check.Throws<NotSupportedException>(() => SafeTensors.Deserialize(f4, DType.Float32), "F4", "neither load nor convert");
    }

    [Fact]
    public void PerTensorConversionKeepsOtherTensors()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(new[] { 1.5f, -2f }).AsType(DType.BFloat16),
            ["h"] = Tensor.FromArray(new[] { 0.25f }).AsType(DType.Float16),
            ["step"] = Tensor.Scalar(3, DType.Int32),
        };
        using var dir = new TempDir();
        string path = dir.File("mixed.safetensors");
        SafeTensors.Save(path, tensors);
        var (t, _) = SafeTensors.Load(path, info => info.DType is { } d && d.IsFloat() ? DType.Float32 : null);
        Assert.Equal(new[] { 1.5f, -2f }, t["w"].ToArray<float>());
        Assert.Equal(new[] { 0.25f }, t["h"].ToArray<float>());
        Assert.Equal(DType.Int32, t["step"].DType);
        Assert.Equal(3, t["step"].Item<int>());
        // Narrowing on request rounds like AsType.
        var (n, _) = SafeTensors.Load(path, DType.Float16);
        Assert.Equal(DType.Float16, n["step"].DType);
        Assert.Equal((Half)1.5, n["w"].ToArray<Half>()[0]);
    }
}
