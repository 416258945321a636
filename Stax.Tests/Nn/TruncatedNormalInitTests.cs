using Stax.Nn;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Nn;

/// <summary>jax.nn.initializers.truncated_normal, and variance scaling with in_axis == out_axis.</summary>
public class TruncatedNormalInitTests
{
    // Moments of a standard normal truncated to (a, b), by Simpson's rule on the density.
    static (double Mean, double Std) TruncatedMoments(double a, double b)
    {
        const int n = 20000;
        double h = (b - a) / n, z = 0, m1 = 0, m2 = 0;
        for (int i = 0; i <= n; i++)
        {
            double x = a + i * h, w = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2, pdf = Math.Exp(-x * x / 2) * w;
            z += pdf; m1 += x * pdf; m2 += x * x * pdf;
        }
        double mean = m1 / z;
        return (mean, Math.Sqrt(m2 / z - mean * mean));
    }

    [Fact]
    public void ScalesTheTruncatedStandardNormalByStddevAsJax()
    {
        var values = Initializers.TruncatedNormal(0.5)(Rng.Key(0), new Shape(200, 100), DType.Float32).ToDoubleArray();
        Assert.All(values, v => Assert.InRange(v, -1.0, 1.0));                   // bounds ±2 before scaling
        // JAX does not rescale here: the standard deviation is 0.8796 · stddev.
        var (_, std) = TruncatedMoments(-2, 2);
        Assert.Equal(0.87962566103423978, std, 6);
        double mean = values.Average(), s = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(s, 0.5 * std * 0.98, 0.5 * std * 1.02);
        // Asymmetric bounds, float64.
        var skew = Initializers.TruncatedNormal(2.0, lower: -1, upper: 3)(Rng.Key(1), new Shape(20000), DType.Float64).ToDoubleArray();
        Assert.Equal(DType.Float64, Initializers.TruncatedNormal()(Rng.Key(1), new Shape(2), DType.Float64).DType);
        Assert.All(skew, v => Assert.InRange(v, -2.0, 6.0));
        var (m13, s13) = TruncatedMoments(-1, 3);
        double sm = skew.Average(), ss = Math.Sqrt(skew.Select(v => (v - sm) * (v - sm)).Average());
        Assert.InRange(sm, 2 * m13 - 0.05, 2 * m13 + 0.05);
        Assert.InRange(ss, 2 * s13 * 0.97, 2 * s13 * 1.03);
    }

    [Fact]
    public void VarianceScalingWithOneAxisForInAndOutUsesJaxsFans()
    {
        // JAX: receptive field = size / in_size / out_size, so for (rows, cols) with in = out = 0,
        // fan_in = cols; normal with scale 2 has std sqrt(2 / 50).
        var init = Initializers.VarianceScaling(2.0, FanMode.FanIn, Distribution.Normal, inAxis: 0, outAxis: 0);
        var v = init(Rng.Key(2), new Shape(300, 50), DType.Float32).ToDoubleArray();
        double mean = v.Average(), std = Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average());
        Assert.InRange(std, Math.Sqrt(2.0 / 50) * 0.97, Math.Sqrt(2.0 / 50) * 1.03);
    }
}
