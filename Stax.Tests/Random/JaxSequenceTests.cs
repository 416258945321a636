namespace Stax.Tests.RandomTests;

/// <summary>
/// JAX's samplers are fixed sequences of IEEE float32 operations on the threefry bits; XLA:CPU
/// fuses every compiled multiply-add into one FMA (its LLVM target options always allow FP-op
/// fusion). Each test redoes JAX's documented sequence in scalar C# (MathF.FusedMultiplyAdd where
/// XLA fuses) from the raw bits and requires bit equality over many keys.
/// </summary>
public class JaxSequenceTests
{
    static float Unit(uint bits) => BitConverter.UInt32BitsToSingle((bits >> 9) | 0x3F800000u) - 1f;

    static uint[] RawBits(Key key, int n) => Rng.Bits(key, new Shape(n)).ToArray<uint>();

    /// <summary>jax.random.uniform(key, (n,), float32, lo, hi) as XLA:CPU computes it.</summary>
    static float[] JaxUniform(Key key, int n, float lo, float hi)
        => RawBits(key, n).Select(b => Math.Max(lo, MathF.FusedMultiplyAdd(Unit(b), hi - lo, lo))).ToArray();

    static void SameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, JAX's sequence gives {expected[i]:R}");
    }

    [Fact]
    public void FusedMultiplyAddCompositionIsCorrectlyRounded()
    {
        // Random operands over many binades, including cancellation (c ≈ -a·b) and ties: the
        // composition must equal the hardware FMA everywhere.
        var rnd = new System.Random(12345);
        const int n = 200_000;
        var a = new float[n]; var b = new float[n]; var c = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-30, 30)));
            b[i] = (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-30, 30)));
            c[i] = (i % 3) switch
            {
                0 => -(a[i] * b[i]),                                                    // cancellation
                1 => (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-60, 60))),
                _ => (float)(a[i] * (double)b[i] * (1 + (rnd.NextDouble() - 0.5) * 1e-6)),
            };
            if (i % 7 == 0) a[i] = (rnd.Next(1 << 23)) * MathF.Pow(2, -23);              // uniform's 23-bit values
        }
        var got = Rng.FusedMulAddF32(Tensor.FromArray(a), Tensor.FromArray(b), Tensor.FromArray(c)).ToArray<float>();
        SameBits(Enumerable.Range(0, n).Select(i => MathF.FusedMultiplyAdd(a[i], b[i], c[i])).ToArray(), got, "fma");
    }

    [Theory]
    [InlineData(-0.5f, 2f)]
    [InlineData(-3f, 5f)]
    [InlineData(0.1f, 0.7f)]
    [InlineData(-1.7320508f, 1.7320508f)]
    [InlineData(-1e-3f, 3.3f)]
    public void UniformWithRangeIsJaxsFusedSequence(float lo, float hi)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var key = Rng.Key(seed);
            SameBits(JaxUniform(key, 4096, lo, hi), Rng.Uniform(key, new Shape(4096), DType.Float32, lo, hi).ToArray<float>(), $"uniform({lo}, {hi}) seed {seed}");
            // Tensor bounds (not known when the computation is built) take the same path.
            var traced = Transforms.Jit((Tensor a, Tensor b) => Rng.Uniform(key, new Shape(4096), DType.Float32, a, b));
            SameBits(JaxUniform(key, 4096, lo, hi), traced(Tensor.Scalar(lo, DType.Float32), Tensor.Scalar(hi, DType.Float32)).ToArray<float>(), $"jit uniform({lo}, {hi}) seed {seed}");
        }
    }

    [Theory]
    [InlineData(-2.0, 2.0)]
    [InlineData(-1.0, 3.0)]
    [InlineData(0.5, 1.5)]
    public void TruncatedNormalIsJaxsSequence(double lower, double upper)
    {
        // JAX: a = erf(lower/√2), b = erf(upper/√2) (float32), u = uniform(key, shape, a, b) (fused),
        // out = √2·erf_inv(u), clipped to [nextafter(lower, +inf), nextafter(upper, -inf)].
        float sqrt2 = MathF.Sqrt(2f);
        float lo = (float)lower, hi = (float)upper;
        var ab = Lax.Erf(Tensor.FromArray(new[] { lo / sqrt2, hi / sqrt2 })).ToArray<float>();
        for (int seed = 0; seed < 20; seed++)
        {
            var key = Rng.Key(seed * 7 + 1);
            var u = JaxUniform(key, 4096, ab[0], ab[1]);
            var e = Lax.ErfInv(Tensor.FromArray(u)).ToArray<float>();
            var expected = e.Select(x => Math.Min(Math.Max(sqrt2 * x, MathF.BitIncrement(lo)), MathF.BitDecrement(hi))).ToArray();
            SameBits(expected, Rng.TruncatedNormal(key, lower, upper, new Shape(4096)).ToArray<float>(), $"truncated_normal({lower}, {upper}) seed {seed}");
        }
    }

    [Fact]
    public void NormalGumbelAndUnitUniformNeedNoFusion()
    {
        // nextafter(-1, 0)..1 spans exactly 2 in float32, [tiny, 1) spans 1 and [0, 1) has minval 0,
        // so the product (or the sum) is exact and the fused result equals the plain one.
        var key = Rng.Key(3);
        var bits = RawBits(key, 4096);
        float m1 = BitConverter.UInt32BitsToSingle(0xBF7FFFFF);
        var uNormal = bits.Select(b => Math.Max(m1, MathF.FusedMultiplyAdd(Unit(b), 1f - m1, m1))).ToArray();
        var expected = Lax.ErfInv(Tensor.FromArray(uNormal)).ToArray<float>().Select(x => MathF.Sqrt(2f) * x).ToArray();
        SameBits(expected, Rng.Normal(key, new Shape(4096)).ToArray<float>(), "normal");
        SameBits(bits.Select(Unit).ToArray(), Rng.Uniform(key, new Shape(4096)).ToArray<float>(), "uniform");
    }

    [Fact]
    public void InitializersFollowJaxDefinitions()
    {
        // jax.nn.initializers.truncated_normal(stddev)(key, shape) = truncated_normal(key, -2, 2) * stddev;
        // variance_scaling(..., 'truncated_normal') = truncated_normal(key, -2, 2) * (sqrt(variance) / .87962566103423978);
        // 'uniform' = uniform(key, -1, 1) * sqrt(3 * variance).
        var key = Rng.Key(9);
        var shape = new Shape(64, 32);
        var tn = Rng.TruncatedNormal(key, -2.0, 2.0, shape).ToArray<float>();
        SameBits(tn.Select(x => x * 0.01f).ToArray(), Stax.Nn.Initializers.TruncatedNormal()(key, shape, DType.Float32).ToArray<float>(), "truncated_normal init");
        SameBits(tn.Select(x => x * 0.3f).ToArray(), Stax.Nn.Initializers.TruncatedNormal(0.3)(key, shape, DType.Float32).ToArray<float>(), "truncated_normal(0.3)");
        // The factors in float32, as JAX computes them from variance = float32(scale / fan).
        float Tn(double variance) => MathF.Sqrt((float)variance) / (float).87962566103423978;
        SameBits(tn.Select(x => x * Tn(1.0 / 64)).ToArray(), Stax.Nn.Initializers.LecunNormal()(key, shape, DType.Float32).ToArray<float>(), "lecun_normal");
        SameBits(tn.Select(x => x * Tn(2.0 / 64)).ToArray(), Stax.Nn.Initializers.HeNormal()(key, shape, DType.Float32).ToArray<float>(), "he_normal");
        SameBits(tn.Select(x => x * Tn(1.0 / 48)).ToArray(), Stax.Nn.Initializers.GlorotNormal()(key, shape, DType.Float32).ToArray<float>(), "glorot_normal");
        float glorot = MathF.Sqrt(3f * (float)(1.0 / 48));
        var u = JaxUniform(key, 64 * 32, -1f, 1f);
        SameBits(u.Select(x => x * glorot).ToArray(), Stax.Nn.Initializers.GlorotUniform()(key, shape, DType.Float32).ToArray<float>(), "glorot_uniform");
        // The truncated normal's standard deviation is .8796 of the untruncated one.
        double sd = Math.Sqrt(Rng.TruncatedNormal(Rng.Key(10), -2.0, 2.0, new Shape(200_000)).ToDoubleArray().Select(x => x * x).Average());
        Assert.InRange(sd, 0.8796 - 0.004, 0.8796 + 0.004);
    }
}
