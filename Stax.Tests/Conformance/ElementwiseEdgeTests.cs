using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>XLA edge cases, cross-ISA bit identity, thread determinism and bad inputs.</summary>
public class ElementwiseEdgeTests
{
    static Tensor F(params float[] v) => Tensor.FromArray(v, v.Length);
    static Tensor I(params int[] v) => Tensor.FromArray(v, v.Length);
    static Tensor U(params uint[] v) => Tensor.FromArray(v, v.Length);
    static Tensor B(params byte[] v) => Tensor.FromArray(v, v.Length);

    // Every check runs on every ISA path (inputs of 37 elements so vector bodies and tails both run).
    static T[] Rep<T>(T[] v) => Enumerable.Range(0, 37).Select(i => v[i % v.Length]).ToArray();
    static T[] Run<T>(Func<Tensor> f, Isa isa) where T : unmanaged
    {
        using (Config.UseIsa(isa))
        {
            var t = f();
            return t.DType == DType.Bool ? (T[])(object)t.ToBytes() : t.ToArray<T>();
        }
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void IntegerDivisionEdgeCases(Isa isa)
    {
        var x = Rep(new[] { 7, -7, int.MinValue, int.MinValue, 5, -5, 0 });
        var y = Rep(new[] { 0, 0, -1, 0, -2, 2, 3 });
        var q = Run<int>(() => Lax.Div(I(x), I(y)), isa);
        var r = Run<int>(() => Lax.Rem(I(x), I(y)), isa);
        for (int i = 0; i < x.Length; i++)
        {
            int eq = y[i] == 0 ? -1 : x[i] == int.MinValue && y[i] == -1 ? int.MinValue : x[i] / y[i];
            int er = y[i] == 0 ? x[i] : y[i] == -1 ? 0 : x[i] % y[i];
            Assert.Equal(eq, q[i]);
            Assert.Equal(er, r[i]);
        }
        Assert.Equal(uint.MaxValue, Run<uint>(() => Lax.Div(U(Rep(new[] { 9u })), U(Rep(new[] { 0u }))), isa)[36]);
        Assert.Equal(9u, Run<uint>(() => Lax.Rem(U(Rep(new[] { 9u })), U(Rep(new[] { 0u }))), isa)[36]);
        Assert.Equal((byte)255, Run<byte>(() => Lax.Div(B(Rep(new byte[] { 9 })), B(Rep(new byte[] { 0 }))), isa)[5]);
        Assert.Equal((byte)9, Run<byte>(() => Lax.Rem(B(Rep(new byte[] { 9 })), B(Rep(new byte[] { 0 }))), isa)[5]);
        // Wrapping arithmetic.
        Assert.Equal(int.MinValue, Run<int>(() => Lax.Add(I(Rep(new[] { int.MaxValue })), I(Rep(new[] { 1 }))), isa)[36]);
        Assert.Equal(int.MinValue, Run<int>(() => Lax.Neg(I(Rep(new[] { int.MinValue }))), isa)[36]);
        Assert.Equal(int.MinValue, Run<int>(() => Lax.Abs(I(Rep(new[] { int.MinValue }))), isa)[36]);
        Assert.Equal(unchecked((int)0x80000000u * 3), Run<int>(() => Lax.Mul(I(Rep(new[] { int.MinValue })), I(Rep(new[] { 3 }))), isa)[36]);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ShiftCountsOutOfRange(Isa isa)
    {
        var counts = Rep(new[] { 32, -1, 100, 31, 0, 1 });
        var x = Rep(new[] { -8 });
        var shl = Run<int>(() => Lax.ShiftLeft(I(x), I(counts)), isa);
        var shrl = Run<int>(() => Lax.ShiftRightLogical(I(x), I(counts)), isa);
        var shra = Run<int>(() => Lax.ShiftRightArithmetic(I(x), I(counts)), isa);
        for (int i = 0; i < counts.Length; i++)
        {
            int c = counts[i];
            bool outOfRange = c < 0 || c >= 32;
            Assert.Equal(outOfRange ? 0 : -8 << c, shl[i]);
            Assert.Equal(outOfRange ? 0 : (int)(0xFFFFFFF8u >> c), shrl[i]);
            Assert.Equal(outOfRange ? -1 : -8 >> c, shra[i]);
        }
        var u = Run<uint>(() => Lax.ShiftRightArithmetic(U(Rep(new[] { 0x80000000u })), U(Rep(new[] { 4u, 40u }))), isa);
        Assert.Equal(0xF8000000u, u[0]);
        Assert.Equal(0xFFFFFFFFu, u[1]);
        var b = Run<byte>(() => Lax.ShiftLeft(B(Rep(new byte[] { 0x81 })), B(Rep(new byte[] { 1, 8, 200 }))), isa);
        Assert.Equal(new byte[] { 0x02, 0, 0 }, b[..3]);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void FloatSpecialValues(Isa isa)
    {
        float nan = float.NaN, inf = float.PositiveInfinity;
        var mx = Run<float>(() => Lax.Max(F(Rep(new[] { nan, 1f, -0f, 0f })), F(Rep(new[] { 1f, nan, 0f, -0f }))), isa);
        var mn = Run<float>(() => Lax.Min(F(Rep(new[] { nan, 1f, -0f, 0f })), F(Rep(new[] { 1f, nan, 0f, -0f }))), isa);
        Assert.True(float.IsNaN(mx[0]) && float.IsNaN(mx[1]) && float.IsNaN(mn[0]) && float.IsNaN(mn[1]));
        Assert.True(float.IsPositive(mx[2]) && float.IsPositive(mx[3]) && float.IsNegative(mn[2]) && float.IsNegative(mn[3]));

        var s = Run<float>(() => Lax.Sign(F(Rep(new[] { -0f, 0f, nan, -2f, 3f, -inf }))), isa);
        Assert.True(float.IsNegative(s[0]) && s[0] == 0 && float.IsPositive(s[1]) && float.IsNaN(s[2]));
        Assert.Equal(new[] { -1f, 1f, -1f }, s[3..6]);

        var away = Run<float>(() => Lax.Round(F(Rep(new[] { 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4999998f, -0.4f })), RoundingMethod.AwayFromZero), isa);
        Assert.Equal(new[] { 1f, 2f, 3f, -1f, -3f, 2f, -0f }, away[..7]);
        Assert.True(float.IsNegative(away[6]));
        var even = Run<float>(() => Lax.Round(F(Rep(new[] { 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4999998f, -0.4f })), RoundingMethod.ToNearestEven), isa);
        Assert.Equal(new[] { 0f, 2f, 2f, -0f, -2f, 2f, -0f }, even[..7]);
        Assert.True(float.IsNegative(even[3]));

        Assert.Equal(new[] { inf, 0f, 1f }, Run<float>(() => Lax.Exp(F(Rep(new[] { 100f, -200f, 0f }))), isa)[..3]);
        var log = Run<float>(() => Lax.Log(F(Rep(new[] { 0f, -1f, inf, 1f, 1e-40f }))), isa);
        Assert.Equal(-inf, log[0]); Assert.True(float.IsNaN(log[1])); Assert.Equal(inf, log[2]); Assert.Equal(0f, log[3]);
        Assert.Equal(Math.Log(1e-40f), log[4], 1e-5);
        Assert.Equal(new[] { 1f, -1f }, Run<float>(() => Lax.Tanh(F(Rep(new[] { inf, -inf }))), isa)[..2]);
        var lg = Run<float>(() => Lax.Logistic(F(Rep(new[] { 100f, -100f, -inf, inf }))), isa);
        Assert.Equal(1f, lg[0]); Assert.True(lg[1] > 0); Assert.Equal(1 / (1 + Math.Exp(100)), lg[1], 1e-45); Assert.Equal(0f, lg[2]); Assert.Equal(1f, lg[3]);
        var ei = Run<float>(() => Lax.ErfInv(F(Rep(new[] { 1f, -1f, 1.5f, 0f }))), isa);
        Assert.Equal(inf, ei[0]); Assert.Equal(-inf, ei[1]); Assert.True(float.IsNaN(ei[2])); Assert.Equal(0f, ei[3]);
        // -0 survives the odd functions.
        foreach (var f in new Func<Tensor, Tensor>[] { Lax.Sin, Lax.Tanh, Lax.Expm1, Lax.Log1p, Lax.Erf, Lax.ErfInv, Lax.Neg, Lax.Sqrt })
        {
            var r = Run<float>(() => f(F(Rep(new[] { -0f }))), isa);
            Assert.True(r.All(v => v == 0 && float.IsNegative(v) == (f != Lax.Neg)));
        }
        var a2 = Run<float>(() => Lax.Atan2(F(Rep(new[] { 0f, -0f, 0f, inf, 1f })), F(Rep(new[] { -0f, -0f, 0f, -inf, 0f }))), isa);
        Assert.Equal(new[] { MathF.PI, -MathF.PI, 0f, 3 * MathF.PI / 4, MathF.PI / 2 }, a2[..5]);
        var fin = Run<byte>(() => Lax.IsFinite(F(Rep(new[] { nan, inf, -inf, 1f, float.MaxValue }))), isa);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 1 }, fin[..5]);
        Assert.Equal(new byte[] { 0, 1, 1, 0 }, Run<byte>(() => Lax.Not(Tensor.FromArray(Rep(new[] { true, false, false, true }), 37)), isa)[..4]);
        Assert.Equal(new[] { ~5, ~0 }, Run<int>(() => Lax.Not(I(Rep(new[] { 5, 0 }))), isa)[..2]);
        Assert.Equal(new byte[] { 1, 0 }, Run<byte>(() => Lax.Ne(F(Rep(new[] { nan, 1f })), F(Rep(new[] { nan, 1f }))), isa)[..2]);
    }

    /// <summary>Inputs spanning many magnitudes plus specials, for the bit-identity checks.</summary>
    static float[] WideInputs(int seed, int n = 4099)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = (i % 4) switch
            {
                0 => (float)(rng.NextDouble() * 6 - 3),
                1 => (float)(rng.NextDouble() * 2 - 1),
                2 => (float)((rng.Next(2) * 2 - 1) * Math.Exp(rng.NextDouble() * 180 - 95)),
                _ => (float)(rng.NextDouble() * 20000 - 10000),
            };
        float[] specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, float.MaxValue, float.Epsilon, 1f, -1f, 0.99999994f, 1e-38f, 88.7f, -103f };
        specials.CopyTo(v, 0);
        return v;
    }

    static void SameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(float.IsNaN(expected[i]) && float.IsNaN(actual[i])) && BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} (input index) differs: {expected[i]:R} vs {actual[i]:R}");
    }

    public static IEnumerable<object[]> FloatUnaryOps => ElementwiseTests.UnaryCases.Where(c => c.DTypes.Contains(DType.Float32))
        .Select(c => new object[] { c.Prim.Name + (c.P is RoundParams r ? "_" + r.Method : "") });

    static ElementwiseTests.UnaryCase Find(string name) => ElementwiseTests.UnaryCases.First(c => c.Prim.Name + (c.P is RoundParams r ? "_" + r.Method : "") == name);

    [Theory]
    [MemberData(nameof(FloatUnaryOps))]
    public void Float32UnaryBitIdenticalAcrossIsas(string op)
    {
        var c = Find(op);
        var x = Tensor.FromArray(WideInputs(op.Length), 4099);
        if (c.Prim == Prims.IsFinite)
        {
            var bools = Run<byte>(() => c.Prim.Bind1(c.P, x), Isa.Scalar);
            foreach (var isa in Config.AvailableIsas) Assert.Equal(bools, Run<byte>(() => c.Prim.Bind1(c.P, x), isa));
            return;
        }
        float[] baseline = Run<float>(() => c.Prim.Bind1(c.P, x), Isa.Scalar);
        foreach (var isa in Config.AvailableIsas)
            SameBits(baseline, Run<float>(() => c.Prim.Bind1(c.P, x), isa), $"{op} {isa} vs Scalar");
    }

    [Fact]
    public void Float32BinaryBitIdenticalAcrossIsas()
    {
        var x = Tensor.FromArray(WideInputs(1), 4099);
        var y = Tensor.FromArray(WideInputs(2).Reverse().ToArray(), 4099);
        foreach (var p in new[] { Prims.Add, Prims.Sub, Prims.Mul, Prims.Div, Prims.Rem, Prims.Pow, Prims.Max, Prims.Min, Prims.Atan2 })
        {
            var baseline = Run<float>(() => p.Bind1(Params.None, x, y), Isa.Scalar);
            foreach (var isa in Config.AvailableIsas)
                SameBits(baseline, Run<float>(() => p.Bind1(Params.None, x, y), isa), $"{p.Name} {isa} vs Scalar");
        }
    }

    [Fact]
    public void OneAndTwoThreadsGiveIdenticalBits()
    {
        var shape = new Shape(TestData.Large);
        var x = TestData.Tensor(11, TestData.Large, DType.Float32, -3, 3, specials: true);
        var y = TestData.Tensor(12, TestData.Large, DType.Float32, -3, 3, specials: true);
        var pred = TestData.Tensor(13, TestData.Large, DType.Bool);
        var ops = new List<Func<Tensor>>
        {
            () => Lax.Exp(x), () => Lax.ErfInv(Lax.Tanh(x)), () => Lax.Sin(x), () => Lax.Add(x, y), () => Lax.Atan2(x, y),
            () => Lax.Lt(x, y), () => Lax.Select(pred, x, y), () => Lax.IsFinite(x),
        };
        foreach (var op in ops)
        {
            byte[] one, two;
            using (Config.UseThreads(1)) one = op().ToBytes();
            using (Config.UseThreads(2)) two = op().ToBytes();
            Assert.Equal(one, two);
        }
        Assert.Equal(shape, x.Shape);
    }

    [Fact]
    public void BadInputsNameTheOpAndOperands()
    {
        var a = Tensor.Zeros(new Shape(2, 3));
        var b = Tensor.Zeros(new Shape(3, 2));
        Check.Throws<ArgumentException>(() => Lax.Add(a, b), "add", "(2, 3)", "(3, 2)");
        Check.Throws<ArgumentException>(() => Lax.Mul(a, Tensor.Zeros(new Shape(2, 3), DType.Int32)), "mul", "float32", "int32");
        Check.Throws<ArgumentException>(() => Lax.And(a, a), "and", "float32");
        Check.Throws<ArgumentException>(() => Lax.ShiftLeft(a, a), "shift_left", "float32");
        Check.Throws<ArgumentException>(() => Lax.Exp(Tensor.Zeros(new Shape(2), DType.Int32)), "exp", "int32");
        Check.Throws<ArgumentException>(() => Lax.Neg(Tensor.Zeros(new Shape(2), DType.Bool)), "neg", "bool");
        Check.Throws<ArgumentException>(() => Lax.Not(a), "not", "float32");
        Check.Throws<ArgumentException>(() => Lax.IsFinite(Tensor.Zeros(new Shape(2), DType.Int32)), "is_finite", "int32");
        Check.Throws<ArgumentException>(() => Lax.Lt(a, b), "lt", "(2, 3)", "(3, 2)");
        Check.Throws<ArgumentException>(() => Lax.Select(a, a, a), "select", "bool", "float32");
        Check.Throws<ArgumentException>(() => Lax.Select(Tensor.Zeros(new Shape(2, 3), DType.Bool), a, b), "select", "(2, 3)", "(3, 2)");
        Check.Throws<ArgumentException>(() => Lax.Select(Tensor.Zeros(new Shape(2, 3), DType.Bool), a, Tensor.Zeros(new Shape(2, 3), DType.Int32)), "select", "float32", "int32");
    }
}
