using System.Text;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.IO;

/// <summary>A fresh temp directory per test, deleted afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stax-io-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).ToArray()!;
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

public static class IOTestUtil
{
    /// <summary>One tensor of every Stax dtype, with awkward values, an empty tensor and a scalar.</summary>
    public static Dictionary<string, Tensor> EveryDtype(bool withBFloat16 = true)
    {
        var d = new Dictionary<string, Tensor>
        {
            ["f32"] = TestData.Tensor(1, new[] { 2, 3 }, DType.Float32, specials: true),
            ["f64"] = TestData.Tensor(2, new[] { 7 }, DType.Float64, specials: true),
            ["f16"] = TestData.Tensor(3, new[] { 3, 1, 2 }, DType.Float16, specials: true),
            ["i32"] = TestData.Tensor(5, new[] { 4 }, DType.Int32, specials: true),
            ["u32"] = TestData.Tensor(6, new[] { 2, 2 }, DType.UInt32, specials: true),
            ["u8"] = TestData.Tensor(7, new[] { 5 }, DType.UInt8),
            ["bool"] = TestData.Tensor(8, new[] { 3, 3 }, DType.Bool),
            ["empty"] = Tensor.Zeros(new Shape(0, 3)),
            ["empty_i32"] = Tensor.Zeros(new Shape(2, 0), DType.Int32),
            ["scalar"] = Tensor.Scalar(2.5),
            ["scalar_u8"] = Tensor.Scalar(200, DType.UInt8),
        };
        if (withBFloat16) d["bf16"] = TestData.Tensor(4, new[] { 6 }, DType.BFloat16, specials: true);
        return d;
    }

    public static void SameTensor(Tensor expected, Tensor actual, string name)
    {
        Assert.True(expected.DType == actual.DType, $"{name}: dtype {actual.DType} != {expected.DType}");
        Assert.True(expected.Shape == actual.Shape, $"{name}: shape {actual.Shape} != {expected.Shape}");
        Assert.Equal(expected.ToBytes(), actual.ToBytes());
    }

    public static void SameTensors(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (k, v) in expected) SameTensor(v, actual[k], k);
    }

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A non-seekable wrapper, to exercise stream overloads.</summary>
    public sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A dictionary whose enumeration throws after yielding <paramref name="before"/> entries.</summary>
    public sealed class ThrowingDictionary(Dictionary<string, Tensor> inner, int before) : IReadOnlyDictionary<string, Tensor>
    {
        public Tensor this[string key] => inner[key];
        public IEnumerable<string> Keys => inner.Keys;
        public IEnumerable<Tensor> Values => inner.Values;
        public int Count => inner.Count;
        public bool ContainsKey(string key) => inner.ContainsKey(key);
        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => inner.TryGetValue(key, out value);
        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
        {
            int i = 0;
            foreach (var kv in inner)
            {
                if (i++ == before) throw new IOException("simulated failure while enumerating");
                yield return kv;
            }
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
