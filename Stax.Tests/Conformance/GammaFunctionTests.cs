using Xunit;
using Xunit.Abstractions;
using static Stax.Transforms;

namespace Stax.Tests.Conformance;

/// <summary>
/// lgamma and digamma (Lanczos compositions, XLA's algorithm) against an independent float64 reference
/// (Stirling series after a recurrence shift, reflection below 1/2) and published values; poles,
/// infinities and NaN; derivatives (lgamma' = digamma, digamma' = trigamma); Jit and Vmap.
/// </summary>
public class GammaFunctionTests(ITestOutputHelper output)
{
    // ---- float64 reference, independent of the Lanczos code under test ----

    /// <summary>log|Γ(x)|: Stirling's series at x + n ≥ 15, recurrence back down, reflection below 1/2.</summary>
    static double RefLgamma(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (double.IsInfinity(x)) return double.PositiveInfinity;
        if (x <= 0 && x == Math.Floor(x)) return double.PositiveInfinity;
        if (x < 0.5) return Math.Log(Math.PI) - Math.Log(Math.Abs(double.SinPi(x))) - RefLgamma(1 - x);
        double prod = 1;
        while (x < 15) { prod *= x; x += 1; }
        double r = 1 / x, r2 = r * r;
        double series = r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680
                        + r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 * (1.0 / 156)))))));
        return (x - 0.5) * Math.Log(x) - x + 0.5 * Math.Log(2 * Math.PI) + series - Math.Log(prod);
    }

    /// <summary>ψ(x): asymptotic series at x + n ≥ 15, ψ(x) = ψ(x + 1) − 1/x, reflection below 1/2.</summary>
    static double RefDigamma(double x)
    {
        if (double.IsNaN(x) || x == double.NegativeInfinity) return double.NaN;
        if (x == double.PositiveInfinity) return double.PositiveInfinity;
        if (x <= 0 && x == Math.Floor(x)) return double.NaN;
        if (x < 0.5) return RefDigamma(1 - x) - Math.PI * double.CosPi(x) / double.SinPi(x);
        double acc = 0;
        while (x < 15) { acc -= 1 / x; x += 1; }
        double r2 = 1 / (x * x);
        double series = r2 * (1.0 / 12 + r2 * (-1.0 / 120 + r2 * (1.0 / 252 + r2 * (-1.0 / 240
                        + r2 * (1.0 / 132 + r2 * (-691.0 / 32760 + r2 * (1.0 / 12)))))));
        return acc + Math.Log(x) - 0.5 / x - series;
    }

    static Tensor F(params float[] v) => Tensor.FromArray(v);
    static Tensor D(params double[] v) => Tensor.FromArray(v);

    /// <summary>Error scaled by max(1, |ref|): absolute where the value is small (near the zeros), relative above.</summary>
    static double Scaled(double expected, double actual) => Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected));

    static (double Err, double At) Worst(Func<Tensor, Tensor> f, Func<double, double> reference, float[] xs)
    {
        var got = f(Tensor.FromArray(xs)).ToArray<float>();
        double worst = 0, at = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double e = reference(xs[i]);
            double err = Scaled(e, got[i]);
            if (double.IsNaN(err) || err > worst) { worst = double.IsNaN(err) ? double.PositiveInfinity : err; at = xs[i]; }
        }
        return (worst, at);
    }

    static float[] Range(double lo, double hi, int n = 4000, bool log = false)
        => Enumerable.Range(0, n + 1).Select(i => (float)(log ? lo * Math.Pow(hi / lo, (double)i / n) : lo + (hi - lo) * i / n))
                     .Where(v => !(v <= 0 && v == MathF.Floor(v))).ToArray();

    [Fact]
    public void PublishedValues()
    {
        // Float64: the Lanczos approximation (g = 7, n = 9) is good to about 1e-15.
        var lg = Lax.Lgamma(D(0.5, 10, 1, 2)).ToArray<double>();
        Assert.Equal(0.5723649429247001, lg[0], 1e-14);
        Assert.Equal(12.801827480081469, lg[1], 1e-13);
        Assert.Equal(0.0, lg[2], 1e-14);
        Assert.Equal(0.0, lg[3], 1e-14);
        var dg = Lax.Digamma(D(1, 0.5)).ToArray<double>();
        Assert.Equal(-0.5772156649015329, dg[0], 1e-14);
        Assert.Equal(-1.9635100260214235, dg[1], 1e-14);

        var lg32 = Np.Gammaln(F(0.5f, 10f)).ToArray<float>();
        Assert.Equal(0.5723649429247001, lg32[0], 1e-6);
        Assert.Equal(12.801827480081469, lg32[1], 3e-5);
        var dg32 = Np.Digamma(F(1f, 0.5f)).ToArray<float>();
        Assert.Equal(-0.5772156649015329, dg32[0], 5e-7);
        Assert.Equal(-1.9635100260214235, dg32[1], 5e-7);
    }

    [Fact]
    public void ReferenceMatchesPublishedValues()
    {
        // The test's own reference is checked too, so the comparisons below rest on it.
        Assert.Equal(0.5723649429247001, RefLgamma(0.5), 1e-15);
        Assert.Equal(12.801827480081469, RefLgamma(10), 1e-14);
        Assert.Equal(Math.Log(120), RefLgamma(6), 1e-14);
        Assert.Equal(-0.5772156649015329, RefDigamma(1), 1e-15);
        Assert.Equal(-1.9635100260214235, RefDigamma(0.5), 1e-15);
        Assert.Equal(Math.Log(4 * Math.Sqrt(Math.PI) / 3), RefLgamma(-1.5), 1e-14);   // Γ(−3/2) = 4√π/3
    }

    [Theory]
    // Bounds on |error| / max(1, |value|) (absolute below 1). Measured: the worst errors equal those of
    // XLA's algorithm evaluated step by step in correctly rounded float32 arithmetic (about 1.4e-6 near
    // the zero at 1, 2.1e-6 near 2): the Lanczos sum cancels terms of size ~1000 in float32.
    [InlineData("tiny", 1e-30, 1e-3, 5e-7, 5e-7)]
    [InlineData("around the zero at 1", 0.9, 1.1, 2e-6, 1.5e-6)]
    [InlineData("around the zero at 2", 1.9, 2.1, 2.5e-6, 1.5e-6)]
    [InlineData("near 1 and 2", 0.5, 3, 3e-6, 1.5e-6)]
    [InlineData("moderate", 3, 100, 2.5e-6, 1e-6)]
    [InlineData("large", 100, 1e30, 5e-7, 5e-7)]
    [InlineData("negative", -30, 0.5, 4e-6, 1.5e-6)]
    public void Float32AccuracyAgainstFloat64Reference(string name, double lo, double hi, double lgammaBound, double digammaBound)
    {
        var xs = Range(lo, hi, 20_000, log: lo > 0 && hi / lo > 1e3);
        var (le, lat) = Worst(Lax.Lgamma, RefLgamma, xs);
        var (de, dat) = Worst(Lax.Digamma, RefDigamma, xs);
        output.WriteLine($"{name}: lgamma worst {le:E2} at {lat:R}; digamma worst {de:E2} at {dat:R}");
        Assert.True(le <= lgammaBound, $"{name}: lgamma error {le:E2} at {lat:R}");
        Assert.True(de <= digammaBound, $"{name}: digamma error {de:E2} at {dat:R}");
    }

    [Fact]
    public void Float64AccuracyAgainstFloat64Reference()
    {
        var xs = Range(1e-20, 1e30, 20_000, log: true).Concat(Range(-30, 30, 20_000)).Select(v => (double)v).ToArray();
        var lg = Lax.Lgamma(Tensor.FromArray(xs)).ToArray<double>();
        var dg = Lax.Digamma(Tensor.FromArray(xs)).ToArray<double>();
        double lw = 0, dw = 0; double lat = 0, dat = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double l = Scaled(RefLgamma(xs[i]), lg[i]), d = Scaled(RefDigamma(xs[i]), dg[i]);
            if (!(l <= lw)) { lw = l; lat = xs[i]; }
            if (!(d <= dw)) { dw = d; dat = xs[i]; }
        }
        output.WriteLine($"float64: lgamma worst {lw:E2} at {lat:R}; digamma worst {dw:E2} at {dat:R}");
        Assert.True(lw <= 1e-12, $"lgamma float64 error {lw:E2} at {lat:R}");
        Assert.True(dw <= 1e-12, $"digamma float64 error {dw:E2} at {dat:R}");
    }

    [Fact]
    public void HalfPrecisionIsComputedInFloat32()
    {
        foreach (var dt in new[] { DType.Float16, DType.BFloat16 })
        {
            var x = Lax.ConvertElementType(F(0.5f, 10f, -2.5f), dt);
            var lg = Lax.ConvertElementType(Lax.Lgamma(x), DType.Float32).ToArray<float>();
            var dg = Lax.ConvertElementType(Lax.Digamma(x), DType.Float32).ToArray<float>();
            Assert.Equal(dt, Lax.Lgamma(x).DType);
            double tol = dt == DType.Float16 ? 1e-3 : 8e-3;   // about an ulp of the format
            for (int i = 0; i < 3; i++)
            {
                double v = new[] { 0.5, 10, -2.5 }[i];
                Assert.True(Scaled(RefLgamma(v), lg[i]) <= tol, $"{dt} lgamma({v}) = {lg[i]}");
                Assert.True(Scaled(RefDigamma(v), dg[i]) <= tol, $"{dt} digamma({v}) = {dg[i]}");
            }
        }
    }

    [Fact]
    public void PolesInfinitiesAndNaN()
    {
        float inf = float.PositiveInfinity, nan = float.NaN;
        var xs = F(0f, -0f, -1f, -2f, -7f, -1e30f, inf, -inf, nan);
        var lg = Lax.Lgamma(xs).ToArray<float>();
        var dg = Lax.Digamma(xs).ToArray<float>();
        for (int i = 0; i < 8; i++) Assert.Equal(inf, lg[i]);
        Assert.True(float.IsNaN(lg[8]));
        for (int i = 0; i < 6; i++) Assert.True(float.IsNaN(dg[i]), $"digamma at pole {i}: {dg[i]}");
        Assert.Equal(inf, dg[6]);
        Assert.True(float.IsNaN(dg[7]) && float.IsNaN(dg[8]));

        var lg64 = Lax.Lgamma(D(0, -3, double.PositiveInfinity, double.NaN)).ToArray<double>();
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity }, lg64[..3]);
        Assert.True(double.IsNaN(lg64[3]));
    }

    [Fact]
    public void IntegersPromoteToFloat32AndLaxRejectsThem()
    {
        var g = Np.Gammaln(Tensor.FromArray(new[] { 1, 5, 10 }));
        Assert.Equal(DType.Float32, g.DType);
        var v = g.ToArray<float>();
        Assert.Equal(0, v[0], 1e-6);
        Assert.Equal(Math.Log(24), v[1], 2e-6);
        Assert.Equal(Math.Log(362880), v[2], 5e-6);
        Assert.Equal(DType.Float32, Np.Digamma(Tensor.FromArray(new[] { 1 })).DType);
        Assert.Equal(Np.Gammaln(F(3.5f)).ToArray<float>(), Np.Lgamma(F(3.5f)).ToArray<float>());
        var ex = Assert.Throws<ArgumentException>(() => Lax.Lgamma(Tensor.FromArray(new[] { 1, 2 })));
        Assert.Contains("lgamma", ex.Message);
    }

    [Fact]
    public void GradientOfLgammaIsDigammaAndOfDigammaIsTrigamma()
    {
        var xs = new[] { 0.3, 1, 2.5, 7, 40, -0.5, -2.7 };
        var g = Grad((Tensor v) => Np.Sum(Lax.Lgamma(v)))(D(xs)).ToArray<double>();
        var d = Lax.Digamma(D(xs)).ToArray<double>();
        for (int i = 0; i < xs.Length; i++) Assert.Equal(d[i], g[i], 1e-15);

        // Trigamma published values: ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(−1/2) = π²/2 + 4 (recurrence),
        // ψ₁(10) = π²/6 − Σ_{k<10} 1/k².
        double pi2 = Math.PI * Math.PI;
        double t10 = pi2 / 6 - Enumerable.Range(1, 9).Sum(k => 1.0 / (k * k));
        var tri = Grad((Tensor v) => Np.Sum(Lax.Digamma(v)))(D(1, 0.5, -0.5, 10, 0.01)).ToArray<double>();
        Assert.Equal(pi2 / 6, tri[0], 1e-13);
        Assert.Equal(pi2 / 2, tri[1], 1e-13);
        Assert.Equal(pi2 / 2 + 4, tri[2], 1e-13);
        Assert.Equal(t10, tri[3], 1e-14);
        // ψ₁(x) = 1/x² + Σ (k+1) ζ(k+2) (−x)^k near 0.
        double series0 = 1 / 1e-4 + 1.6449340668482264 - 2 * 1.2020569031595942 * 0.01 + 3 * 1.0823232337111382 * 1e-4
                         - 4 * 1.0369277551433699 * 1e-6;
        Assert.Equal(series0, tri[4], 1e-6);

        var g32 = Grad((Tensor v) => Np.Sum(Np.Gammaln(v)))(F(0.5f, 3f)).ToArray<float>();
        Assert.Equal(-1.9635100260214235, g32[0], 1e-6);
        Assert.Equal(1.5 - 0.5772156649015329, g32[1], 1e-6);   // ψ(3) = 1 + 1/2 − γ
    }

    [Fact]
    public void WorksUnderJitAndVmap()
    {
        var x = Tensor.FromArray(new[] { 0.5f, 1.5f, -2.5f, 10f, 3f, 1e-3f }, 2, 3);
        var eagerL = Lax.Lgamma(x).ToArray<float>();
        var eagerD = Lax.Digamma(x).ToArray<float>();
        Assert.Equal(eagerL, Jit((Tensor v) => Lax.Lgamma(v))(x).ToArray<float>());
        Assert.Equal(eagerD, Jit((Tensor v) => Lax.Digamma(v))(x).ToArray<float>());
        Assert.Equal(eagerL, Vmap((Tensor v) => Lax.Lgamma(v))(x).ToArray<float>());
        Assert.Equal(eagerD, Vmap((Tensor v) => Np.Digamma(v))(x).ToArray<float>());
        var gradJit = Jit(Grad((Tensor v) => Np.Sum(Np.Gammaln(v))))(x).ToArray<float>();
        var gradVmap = Vmap(Grad((Tensor v) => Np.Sum(Np.Gammaln(v))))(x).ToArray<float>();
        for (int i = 0; i < eagerD.Length; i++)
        {
            Assert.Equal(eagerD[i], gradJit[i], 1e-5f * Math.Max(1, Math.Abs(eagerD[i])));
            Assert.Equal(eagerD[i], gradVmap[i], 1e-5f * Math.Max(1, Math.Abs(eagerD[i])));
        }
    }
}
