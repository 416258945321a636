using Xunit;
using static Stax.Transforms;

namespace Stax.Tests.Conformance;

/// <summary>jax.numpy math compositions: values against float64 formulas, and JAX's derivative conventions.</summary>
public class NpMathTests
{
    static Tensor F(params float[] v) => Tensor.FromArray(v);
    const float Inf = float.PositiveInfinity;

    static void Near(double[] expected, float[] actual, double rtol = 2e-7)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a) : double.IsInfinity(e) ? e == a : Math.Abs(a - e) <= 1e-37 + rtol * Math.Abs(e);
            Assert.True(ok, $"element {i}: expected {e:R}, got {a:R}");
        }
    }

    static double LogAddExp(double x, double y)
    {
        if (double.IsNaN(x) || double.IsNaN(y)) return double.NaN;
        double m = Math.Max(x, y);
        return double.IsInfinity(m) ? m : m + Math.Log(Math.Exp(x - m) + Math.Exp(y - m));
    }

    [Fact]
    public void LogaddexpIsStableAndHasJaxsSlopes()
    {
        var xs = new[] { 0f, 100f, -100f, 1e30f, -3f, Inf, -Inf, Inf, float.NaN, 2f };
        var ys = new[] { 0f, 100f, -101f, 1e30f, 5f, Inf, -Inf, -Inf, 1f, -Inf };
        Near(xs.Zip(ys, (x, y) => LogAddExp(x, y)).ToArray(), Np.Logaddexp(F(xs), F(ys)).ToArray<float>());
        // d/dx = e^(x - r): sigmoid(x - y). At x = +inf JAX replaces +inf by 0 in x and r: slope 1 in x,
        // and e^(y - 0) = e^y in y (jax/_src/numpy/ufuncs.py _logaddexp_jvp, followed as it is).
        var g = Grad(a => Np.Sum(Np.Logaddexp(a[0], a[1])), 0, 1)(new[] { F(0f, 2f, Inf), F(0f, -1f, 1f) });
        Near(new[] { 0.5, 1 / (1 + Math.Exp(-3.0)), 1.0 }, g[0].ToArray<float>(), 1e-6);
        Near(new[] { 0.5, 1 / (1 + Math.Exp(3.0)), Math.E }, g[1].ToArray<float>(), 1e-6);
    }

    [Fact]
    public void SquareReciprocalAndIntegerPow()
    {
        var x = F(-3f, 0.5f, 0f, 7f);
        Assert.Equal(new[] { 9f, 0.25f, 0f, 49f }, Np.Square(x).ToArray<float>());
        var xi = Tensor.FromArray(new[] { -3, 4 });
        Assert.Equal(DType.Int32, Np.Square(xi).DType);
        Assert.Equal(new[] { 9, 16 }, Np.Square(xi).ToArray<int>());
        Assert.Equal(new[] { 2f, -0.25f, Inf }, Np.Reciprocal(F(0.5f, -4f, 0f)).ToArray<float>());
        Assert.Equal(DType.Float32, Np.Reciprocal(xi).DType);
        Assert.Equal(new[] { -27f, 0.125f, 0f, 343f }, Lax.IntegerPow(x, 3).ToArray<float>());
        Assert.Equal(new[] { 1f / 9, 4f }, Lax.IntegerPow(F(-3f, 0.5f), -2).ToArray<float>());
        Assert.Contains("integer_pow", Assert.Throws<ArgumentException>(() => Lax.IntegerPow(xi, -1)).Message);
        // Derivatives: 2x, -1/x^2, n x^(n-1).
        Near(new[] { -6.0, 1, 0, 14 }, Grad(v => Np.Sum(Np.Square(v)))(x).ToArray<float>());
        Near(new[] { -4.0, -1.0 / 16 }, Grad(v => Np.Sum(Np.Reciprocal(v)))(F(0.5f, -4f)).ToArray<float>());
        Near(new[] { 27.0, 0.75, 0, 147 }, Grad(v => Np.Sum(Lax.IntegerPow(v, 3)))(x).ToArray<float>());
    }

    [Fact]
    public void HypotDoesNotOverflowAndTreatsInfinityFirst()
    {
        var xs = new[] { 3f, 1e30f, 0f, Inf, float.NaN, -5f, 1e-30f };
        var ys = new[] { 4f, 1e30f, 0f, float.NaN, -Inf, 12f, 1e-30f };
        Near(new[] { 5, 1e30 * Math.Sqrt(2), 0, double.PositiveInfinity, double.PositiveInfinity, 13, 1e-30 * Math.Sqrt(2) },
            Np.Hypot(F(xs), F(ys)).ToArray<float>(), 3e-7);
        var g = Grad(a => Np.Sum(Np.Hypot(a[0], a[1])), 0, 1)(new[] { F(3f, -5f), F(4f, 12f) });
        Near(new[] { 0.6, -5.0 / 13 }, g[0].ToArray<float>(), 1e-6);
        Near(new[] { 0.8, 12.0 / 13 }, g[1].ToArray<float>(), 1e-6);
    }

    [Fact]
    public void CopysignAndSignbitReadTheSignBit()
    {
        float negNaN = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000));
        float posNaN = BitConverter.Int32BitsToSingle(0x7FC00000);
        Assert.Equal(new[] { false, true, true, false, true, false }, Np.Signbit(F(1f, -0f, -2f, 0f, negNaN, posNaN)).ToArray<bool>());
        Assert.Equal(new[] { false, true, true, false }, Np.Signbit(Tensor.FromArray(new[] { 1.0, -0.0, -2.0, 0.0 })).ToArray<bool>());
        var r = Np.Copysign(F(2f, -3f, 4f, 5f, -0f), F(-0f, 1f, negNaN, -Inf, -1f)).ToArray<float>();
        Assert.Equal(new[] { -2f, 3f, -4f, -5f, -0f }, r);
        Assert.True(float.IsNegative(r[4]));
    }

    [Fact]
    public void SincIsOneAtZeroWithMaclaurinDerivatives()
    {
        var x = F(0f, 0.5f, 1.5f, -2.25f);
        Near(new[] { 1, 2 / Math.PI, -2 / (3 * Math.PI), Math.Sin(-2.25 * Math.PI) / (-2.25 * Math.PI) }, Np.Sinc(x).ToArray<float>(), 1e-6);
        // sinc'(0) = 0 and sinc''(0) = -pi^2 / 3, from the series (not NaN from sin(x)/x).
        Func<Tensor, Tensor> d1 = Grad((Tensor v) => Np.Sum(Np.Sinc(v)));
        Assert.Equal(0f, d1(F(0f)).ToArray<float>()[0]);
        Near(new[] { -Math.PI * Math.PI / 3 }, Grad((Tensor v) => Np.Sum(d1(v)))(F(0f)).ToArray<float>(), 1e-6);
        // Away from 0: d/dx sin(pi x)/(pi x) = cos(pi x)/x - sin(pi x)/(pi x^2).
        Near(new[] { Math.Cos(Math.PI * 0.5) / 0.5 - Math.Sin(Math.PI * 0.5) / (Math.PI * 0.25) }, d1(F(0.5f)).ToArray<float>(), 1e-5);
    }

    [Fact]
    public void NextafterStepsOneFloatTowardY()
    {
        float tiny = float.Epsilon, max = float.MaxValue;
        var x = F(1f, 1f, 0f, -0f, 2.5f, 0f, max, Inf, -tiny, float.NaN, 3f);
        var y = F(2f, 0f, -1f, 1f, 2.5f, -0f, Inf, 0f, 1f, 1f, float.NaN);
        var r = Np.Nextafter(x, y).ToArray<float>();
        var expected = new[] { 1f + MathF.Pow(2, -23), 1f - MathF.Pow(2, -24), -tiny, tiny, 2.5f, -0f, Inf, max, -0f, float.NaN, float.NaN };
        for (int i = 0; i < r.Length; i++)
            Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(r[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(r[i]),
                $"nextafter({x.ToArray<float>()[i]:R}, {y.ToArray<float>()[i]:R}) = {r[i]:R}, expected {expected[i]:R}");
        Assert.Equal(1.0 + Math.Pow(2, -52), Np.Nextafter(Tensor.FromArray(new[] { 1.0 }), Tensor.FromArray(new[] { 2.0 })).ToArray<double>()[0]);
        Assert.Contains("nextafter", Assert.Throws<ArgumentException>(() => Lax.NextAfter(x.AsType(DType.Float16), y.AsType(DType.Float16))).Message);
    }

    [Fact]
    public void NormFollowsJaxsOrdersAndGradientAtZero()
    {
        var v = F(3f, -4f, 0f);
        Assert.Equal(5f, Np.Linalg.Norm(v).ToArray<float>()[0]);
        Assert.Equal(4f, Np.Linalg.Norm(v, double.PositiveInfinity).ToArray<float>()[0]);
        Assert.Equal(0f, Np.Linalg.Norm(v, double.NegativeInfinity).ToArray<float>()[0]);
        Assert.Equal(7f, Np.Linalg.Norm(v, 1).ToArray<float>()[0]);
        Assert.Equal(2f, Np.Linalg.Norm(v, 0).ToArray<float>()[0]);
        Near(new[] { Math.Pow(27 + 64, 1.0 / 3) }, Np.Linalg.Norm(v, 3).ToArray<float>(), 1e-6);
        var m = Np.Reshape(F(1f, -2f, 3f, 4f), 2, 2);
        Near(new[] { Math.Sqrt(30) }, Np.Linalg.Norm(m).ToArray<float>());
        Near(new[] { Math.Sqrt(30) }, Np.Linalg.Norm(m, "fro").ToArray<float>());
        Assert.Equal(6f, Np.Linalg.Norm(m, 1).ToArray<float>()[0]);     // max column sum
        Assert.Equal(4f, Np.Linalg.Norm(m, -1).ToArray<float>()[0]);
        Assert.Equal(7f, Np.Linalg.Norm(m, double.PositiveInfinity).ToArray<float>()[0]);   // max row sum
        Assert.Equal(3f, Np.Linalg.Norm(m, double.NegativeInfinity).ToArray<float>()[0]);
        Assert.Equal(new[] { Math.Sqrt(10), Math.Sqrt(20) }.Select(d => (float)d).ToArray(), Np.Linalg.Norm(m, axis: new[] { 0 }).ToArray<float>());
        Assert.Equal("(1, 1)", Np.Linalg.Norm(m, keepdims: true).Shape.ToString());
        Assert.Throws<NotSupportedException>(() => Np.Linalg.Norm(m, "nuc"));
        Assert.Throws<NotSupportedException>(() => Np.Linalg.Norm(m, 2, new[] { 0, 1 }));
        // Gradient: x / |x|, and NaN at 0 as in JAX (sqrt'(0) * 0).
        Near(new[] { 0.6, -0.8, 0 }, Grad((Tensor x) => Np.Linalg.Norm(x))(v).ToArray<float>(), 1e-6);
        Assert.All(Grad((Tensor x) => Np.Linalg.Norm(x))(F(0f, 0f)).ToArray<float>(), g => Assert.True(float.IsNaN(g)));
    }
}
