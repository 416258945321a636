using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Xunit;

namespace Stax.Tests.Conformance;

/// <summary>
/// float32 special functions against float64 references, measured in ulp over a wide sweep of
/// inputs (both signs, magnitudes from subnormal to huge) on every ISA path, plus their exact
/// answers at NaN, ±inf, ±0 and subnormal inputs.
/// </summary>
public class SpecialFunctionAccuracyTests
{
    /// <summary>Inputs: ±(2^e · m) for e in [-149, 127] and a few mantissas, and a dense sweep of [-lo, hi].</summary>
    static float[] Sweep(double denseLo, double denseHi, int dense = 20_000)
    {
        var v = new List<float>();
        foreach (float m in new[] { 1f, 1.1f, 1.37f, 1.5f, 1.73f, 1.99f })
            for (int e = -149; e <= 127; e++)
            {
                float f = (float)(m * Math.Pow(2, e));
                if (float.IsFinite(f) && f != 0) { v.Add(f); v.Add(-f); }
            }
        for (int i = 0; i <= dense; i++) v.Add((float)(denseLo + (denseHi - denseLo) * i / dense));
        return v.ToArray();
    }

    /// <summary>Distance in representable floats (0 when equal, NaN == NaN).</summary>
    static long Ulps(float expected, float actual)
    {
        if (float.IsNaN(expected) || float.IsNaN(actual)) return float.IsNaN(expected) && float.IsNaN(actual) ? 0 : long.MaxValue;
        static long Ordered(float f) { int b = BitConverter.SingleToInt32Bits(f); return b < 0 ? -(long)(b & 0x7FFFFFFF) : b; }
        return Math.Abs(Ordered(expected) - Ordered(actual));
    }

    /// <summary>The largest ulp error of <paramref name="f"/> against <paramref name="reference"/>, and where.</summary>
    static (long Ulps, float At) MaxError(Func<Tensor, Tensor> f, Func<double, double> reference, float[] xs)
    {
        var got = f(Tensor.FromArray(xs)).ToArray<float>();
        long worst = 0; float at = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            long u = Ulps((float)reference(xs[i]), got[i]);
            if (u > worst) { worst = u; at = xs[i]; }
        }
        return (worst, at);
    }

    static void Exact(Func<Tensor, Tensor> f, float[] xs, float[] expected, string name)
    {
        var got = f(Tensor.FromArray(xs)).ToArray<float>();
        for (int i = 0; i < xs.Length; i++)
            Assert.True(Ulps(expected[i], got[i]) == 0 && (float.IsNaN(expected[i]) || BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i])),
                $"{name}({xs[i]:R}) = {got[i]:R}, expected {expected[i]:R}");
    }

    const float Sub = 1e-40f;

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ErfcIsWithinAFewUlpEverywhere(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        var (ulps, at) = MaxError(Lax.Erfc, Ref.RefErfc, Sweep(-5, 10.5));
        Assert.True(ulps <= 6, $"erfc: {ulps} ulp at {at:R}");
        Console.WriteLine($"erfc {isa}: max {ulps} ulp at {at:R}");
        Exact(Lax.Erfc, new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, Sub, -Sub, 11f, -11f },
            new[] { float.NaN, 0f, 2f, 1f, 1f, 1f, 1f, 0f, 2f }, "erfc");
    }

    /// <summary>A function, its float64 reference, the dense sweep range, the ulp bound, and exact special values.</summary>
    public sealed record Case(string Name, Func<Tensor, Tensor> F, Func<double, double> Ref, double Lo, double Hi, long MaxUlps,
        (float X, float Y)[] Specials);

    static readonly float Inf = float.PositiveInfinity, NaN = float.NaN, Pi2 = (float)(Math.PI / 2), Pi = (float)Math.PI;

    public static readonly Case[] Cases =
    {
        new("tan", Lax.Tan, Math.Tan, -10, 10, 6, new[] { (NaN, NaN), (Inf, NaN), (-Inf, NaN), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub) }),
        new("asin", Lax.Asin, Math.Asin, -1, 1, 4, new[] { (NaN, NaN), (Inf, NaN), (1.5f, NaN), (-1.0001f, NaN), (1f, Pi2), (-1f, -Pi2), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub) }),
        new("acos", Lax.Acos, Math.Acos, -1, 1, 4, new[] { (NaN, NaN), (Inf, NaN), (1.5f, NaN), (1f, 0f), (-1f, Pi), (0f, Pi2), (-0f, Pi2), (Sub, Pi2) }),
        new("atan", Lax.Atan, Math.Atan, -20, 20, 4, new[] { (NaN, NaN), (Inf, Pi2), (-Inf, -Pi2), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub) }),
        new("sinh", Lax.Sinh, Math.Sinh, -90, 90, 4, new[] { (NaN, NaN), (Inf, Inf), (-Inf, -Inf), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub), (90f, Inf), (-90f, -Inf) }),
        new("cosh", Lax.Cosh, Math.Cosh, -90, 90, 4, new[] { (NaN, NaN), (Inf, Inf), (-Inf, Inf), (0f, 1f), (-0f, 1f), (Sub, 1f), (90f, Inf), (-90f, Inf) }),
        new("asinh", Lax.Asinh, Math.Asinh, -10, 10, 4, new[] { (NaN, NaN), (Inf, Inf), (-Inf, -Inf), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub) }),
        new("acosh", Lax.Acosh, Math.Acosh, 1, 10, 4, new[] { (NaN, NaN), (Inf, Inf), (-Inf, NaN), (1f, 0f), (0.999f, NaN), (0f, NaN), (Sub, NaN) }),
        new("cbrt", Lax.Cbrt, Math.Cbrt, -30, 30, 1, new[] { (NaN, NaN), (Inf, Inf), (-Inf, -Inf), (0f, 0f), (-0f, -0f), (-8f, -2f), (27f, 3f), (0.125f, 0.5f), (-(float)Math.Pow(2, -147), -(float)Math.Pow(2, -49)) }),
        new("atanh", Lax.Atanh, Math.Atanh, -1, 1, 5, new[] { (NaN, NaN), (Inf, NaN), (1f, Inf), (-1f, -Inf), (1.0001f, NaN), (0f, 0f), (-0f, -0f), (Sub, Sub), (-Sub, -Sub) }),
    };

    public static IEnumerable<object[]> CaseIsas =>
        from i in Enumerable.Range(0, Cases.Length) from isa in Config.AvailableIsas select new object[] { Cases[i].Name, i, isa };

    [Theory]
    [MemberData(nameof(CaseIsas))]
    public void IsWithinItsUlpBoundAndExactAtSpecialValues(string name, int index, Isa isa)
    {
        var c = Cases[index];
        Assert.Equal(name, c.Name);
        using var _ = Config.UseIsa(isa);
        var (ulps, at) = MaxError(c.F, c.Ref, Sweep(c.Lo, c.Hi));
        Assert.True(ulps <= c.MaxUlps, $"{c.Name}: {ulps} ulp at {at:R}");
        Console.WriteLine($"{c.Name} {isa}: max {ulps} ulp at {at:R}");
        Exact(c.F, c.Specials.Select(p => p.X).ToArray(), c.Specials.Select(p => p.Y).ToArray(), c.Name);
    }

    [Fact]
    public void ExactGeluKeepsItsPrecisionInTheLeftTail()
    {
        // gelu(x) = x/2 erfc(-x/sqrt 2): within a few ulp of float64 down to x = -13 (given the float32
        // argument -x/sqrt 2, whose rounding erfc amplifies by 2a^2 as in any float32 evaluation);
        // the erf form, x/2 (1 + erf(x/sqrt 2)), cancels to 0 or noise from x = -3 on.
        var xs = Enumerable.Range(0, 2001).Select(i => -13f + 16f * i / 2000).ToArray();
        var got = Stax.Nn.Activations.Gelu(Tensor.FromArray(xs), approximate: false).ToArray<float>();
        long worst = 0; float at = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double x = xs[i];
            float arg = -xs[i] * (float)Math.Sqrt(0.5);
            double expected = x * Ref.RefErfc(arg) / 2;
            long u = Ulps((float)expected, got[i]);
            if (u > worst) { worst = u; at = xs[i]; }
        }
        Assert.True(worst <= 8, $"gelu: {worst} ulp at {at:R}");
    }
}
