namespace Stax.Tests.Infrastructure;

/// <summary>
/// Double-precision helpers for the layer tests: the references are plain loops over flat arrays,
/// and gradients of a reference are central differences, so no expected value comes from Stax.
/// </summary>
public static class Numerics
{
    /// <summary>Central differences of <paramref name="f"/> at <paramref name="x"/>.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        var y = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i] + h;
            double up = f(y);
            y[i] = x[i] - h;
            double down = f(y);
            y[i] = x[i];
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /// <summary>Seeded uniform values in [lo, hi).</summary>
    public static double[] Values(int seed, int n, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();
    }

    /// <summary>A float64 tensor of seeded values.</summary>
    public static Tensor Tensor64(int seed, params int[] shape)
        => Tensor.FromArray(Values(seed, shape.Aggregate(1, (a, b) => a * b)), shape);

    /// <summary>Σ a·b.</summary>
    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>|a − e| ≤ atol + rtol·|e| elementwise, naming the first failure.</summary>
    public static void Close(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    /// <summary>The softmax of a row.</summary>
    public static double[] Softmax(double[] z)
    {
        double m = z.Max();
        var e = z.Select(v => Math.Exp(v - m)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }
}
