using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;

namespace Stax.Tests.RandomTests;

/// <summary>Bits, uniforms and normals: bit-exact against a scalar model of JAX's algorithm, identical on every path.</summary>
public class SamplerTests
{
    static readonly Key K = Rng.Key(0x0123456789ABCDEFL);
    const uint K0 = 0x01234567, K1 = 0x89ABCDEF;

    static IEnumerable<int[]> Shapes => TestData.Shapes.Append(TestData.Large);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void BitsMatchTheScalarModel(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var shape in Shapes)
        {
            var bits = Rng.Bits(K, shape).ToArray<uint>();
            Assert.Equal(new Shape(shape).Size, bits.Length);
            for (int i = 0; i < bits.Length; i++)
                if (bits[i] != Ref.RefBits(K0, K1, i)) Assert.Fail($"bits {Shape.Format(shape)} element {i}: {bits[i]} != {Ref.RefBits(K0, K1, i)}");
            var bytes = Rng.Bits(K, shape, DType.UInt8).ToArray<byte>();
            for (int i = 0; i < bytes.Length; i++) Assert.Equal((byte)Ref.RefBits(K0, K1, i), bytes[i]);
        }
        Assert.Equal(DType.UInt32, Rng.Bits(K, new[] { 2 }).DType);
        Assert.Equal(Shape.Scalar, Rng.Bits(K).Shape);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void UniformsMatchTheScalarModelBitForBit(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var shape in Shapes)
        {
            var u = Rng.Uniform(K, shape).ToArray<float>();
            for (int i = 0; i < u.Length; i++)
                if (BitConverter.SingleToUInt32Bits(u[i]) != BitConverter.SingleToUInt32Bits(Ref.RefUniform32(K0, K1, i)))
                    Assert.Fail($"uniform f32 {Shape.Format(shape)} element {i}: {u[i]:R} != {Ref.RefUniform32(K0, K1, i):R}");
        }
        var shape2 = new[] { 1001 };
        var scaled = Rng.Uniform(K, shape2, DType.Float32, -2.5, 7.25).ToArray<float>();
        for (int i = 0; i < scaled.Length; i++) Assert.Equal(Ref.RefUniform32(K0, K1, i, -2.5f, 7.25f), scaled[i]);
        var d = Rng.Uniform(K, shape2, DType.Float64, -3, 0.1).ToArray<double>();
        for (int i = 0; i < d.Length; i++) Assert.Equal(Ref.RefUniform64(K0, K1, i, -3, 0.1), d[i]);
        var d01 = Rng.Uniform(K, shape2, DType.Float64).ToArray<double>();
        for (int i = 0; i < d01.Length; i++) Assert.Equal(Ref.RefUniform64(K0, K1, i), d01[i]);
        // Tensor bounds broadcast: per-row minval.
        var lo = Tensor.FromArray(new[] { 0f, 10f, -5f }, 3, 1);
        var t = Rng.Uniform(K, new[] { 3, 4 }, DType.Float32, lo, 20.0).ToArray<float>();
        for (int i = 0; i < 12; i++) Assert.Equal(Ref.RefUniform32(K0, K1, i, new[] { 0f, 10f, -5f }[i / 4], 20f), t[i]);
    }

    [Fact]
    public void HalfPrecisionUniforms()
    {
        var h = Rng.Uniform(K, new[] { 500 }, DType.Float16).ToDoubleArray();
        var b = Rng.Uniform(K, new[] { 500 }, DType.BFloat16).ToDoubleArray();
        for (int i = 0; i < 500; i++)
        {
            uint bits = Ref.RefBits(K0, K1, i);
            Assert.Equal(((bits & 0xFFFF) >> 6) / 1024.0, h[i]);
            Assert.Equal(((bits & 0xFF) >> 1) / 128.0, b[i]);
        }
    }

    [Fact]
    public void NormalsMatchTheScalarModelAndAreIdenticalOnEveryPath()
    {
        var shape = new[] { 65537 + 130 };
        byte[]? first = null;
        foreach (var isa in Config.AvailableIsas)
            foreach (var threads in new[] { 1, 2 })
                using (Config.UseIsa(isa))
                using (Config.UseThreads(threads))
                {
                    var bytes = Rng.Normal(K, shape).ToBytes()
                        .Concat(Rng.Uniform(K, shape).ToBytes()).Concat(Rng.Bits(K, shape).ToBytes()).ToArray();
                    if (first is null) first = bytes;
                    else Assert.True(first.AsSpan().SequenceEqual(bytes), $"normal/uniform/bits differ on {isa} with {threads} threads");
                }
        // sqrt(2) * erf_inv(u), u uniform in [nextafter(-1, 0), 1): against an exact erf_inv of the same u
        // (XLA's float32 erf_inv, which Stax follows, is up to ~64 ulp off near ±1).
        var n = Rng.Normal(K, new[] { 4000 }).ToArray<float>();
        float lo = BitConverter.UInt32BitsToSingle(0xBF7FFFFF);
        for (int i = 0; i < n.Length; i++)
        {
            float u = Ref.RefUniform32(K0, K1, i, lo, 1f);
            double expected = (float)Math.Sqrt(2) * Ref.RefErfInv(u);
            Assert.True(Math.Abs(n[i] - expected) <= 8e-6 * Math.Abs(expected) + 1e-7, $"normal element {i}: {n[i]:R} vs {expected:R} (u = {u:R})");
        }
        var n64 = Rng.Normal(K, new[] { 500 }, DType.Float64).ToArray<double>();
        for (int i = 0; i < n64.Length; i++)
        {
            double expected = Math.Sqrt(2) * Ref.RefErfInv(Ref.RefUniform64(K0, K1, i, Math.BitIncrement(-1.0), 1));
            Assert.True(Math.Abs(n64[i] - expected) <= 1e-12 * Math.Abs(expected) + 1e-15, $"normal f64 element {i}: {n64[i]:R} vs {expected:R}");
        }
    }

    [Fact]
    public void BadArguments()
    {
        Check.Throws<ArgumentException>(() => Rng.Bits(K, new[] { 2 }, DType.Int32), "Rng.Bits", "uint32 or uint8", "int32");
        Check.Throws<ArgumentException>(() => Rng.Uniform(K, new[] { 2 }, DType.Int32), "Rng.Uniform", "floating-point", "int32");
        Check.Throws<ArgumentException>(() => Rng.Uniform(K, new[] { 2 }, DType.Float32, Tensor.FromArray(new[] { 0f, 1, 2 }, 3), 5.0), "Rng.Uniform", "minval", "(3", "(2");
        Check.Throws<ArgumentException>(() => Rng.Normal(K, new[] { 2 }, DType.UInt8), "Rng.Normal", "floating-point");
        Check.Throws<ArgumentException>(() => Rng.TruncatedNormal(K, -1.0, 1.0, new Shape(2), DType.Float16), "Rng.TruncatedNormal", "float32 or float64");
        Check.Throws<ArgumentException>(() => Rng.RandInt(K, new[] { 2 }, 0, 5, DType.Float32), "Rng.RandInt", "int32, uint32 or uint8");
        Check.Throws<ArgumentException>(() => Rng.RandInt(K, new[] { 2 }, Tensor.FromArray(new[] { 0, 1, 2 }, 3), 5), "Rng.RandInt", "minval", "(3");
        Check.Throws<ArgumentException>(() => Rng.Categorical(K, Tensor.FromArray(new[] { 1, 2 }, 2)), "Rng.Categorical", "floating point");
        Check.Throws<ArgumentException>(() => Rng.Categorical(K, Tensor.Scalar(1.0f)), "Rng.Categorical", "at least one dimension");
        Check.Throws<ArgumentException>(() => Rng.Categorical(K, Tensor.Zeros(new[] { 3, 4 }), axis: 2), "Rng.Categorical", "axis 2");
        Check.Throws<ArgumentException>(() => Rng.Categorical(K, Tensor.Zeros(new[] { 3, 4 }), shape: new Shape(5)), "Rng.Categorical", "not compatible", "(3");
        Check.Throws<ArgumentException>(() => Rng.Permutation(K, -1), "Rng.Permutation", "-1");
        Check.Throws<ArgumentException>(() => Rng.Permutation(K, Tensor.Scalar(3.0f)), "Rng.Permutation", "at least one dimension");
        Check.Throws<ArgumentException>(() => Rng.Shuffle(K, Tensor.Zeros(new[] { 3 }), axis: 1), "Rng.Shuffle", "axis");
        Check.Throws<ArgumentException>(() => Rng.Choice(K, 3, new Shape(4), replace: false), "Rng.Choice", "larger sample", "population (3)");
        Check.Throws<ArgumentException>(() => Rng.Choice(K, 0, new Shape(1)), "Rng.Choice", "greater than 0");
        Check.Throws<ArgumentException>(() => Rng.Choice(K, 3, new Shape(2), p: Tensor.FromArray(new[] { 0.5f, 0.5f }, 2)), "Rng.Choice", "p must have shape (3)");
        Check.Throws<ArgumentException>(() => Rng.Choice(K, Tensor.Scalar(3.0f), new Shape(2)), "Rng.Choice", "at least one dimension");
    }
}
