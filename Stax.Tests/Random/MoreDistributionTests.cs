namespace Stax.Tests.RandomTests;

/// <summary>
/// The jax.random distributions built on uniform/normal/gamma: JAX's operation sequences redone in
/// scalar C# from the raw bits (elementwise transcendentals through Stax's kernels on the
/// independently computed inputs) where JAX's computation is a fixed sequence, and moments with
/// bounds of several standard errors at the sample size (fixed seeds) where it is a rejection loop.
/// </summary>
public class MoreDistributionTests
{
    const int N = 4096;

    static float Unit(uint bits) => BitConverter.UInt32BitsToSingle((bits >> 9) | 0x3F800000u) - 1f;

    static float[] U(Key key, float lo, float hi)
        => Rng.Bits(key, new Shape(N)).ToArray<uint>().Select(b => Math.Max(lo, MathF.FusedMultiplyAdd(Unit(b), hi - lo, lo))).ToArray();

    static float[] Apply(Func<Tensor, Tensor> f, float[] x) => f(Tensor.FromArray(x)).ToArray<float>();

    static void SameBits(float[] expected, Tensor actual, string what)
    {
        var a = actual.ToArray<float>();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(a[i]))
                Assert.Fail($"{what}: element {i} is {a[i]:R}, JAX's sequence gives {expected[i]:R}");
    }

    static (double Mean, double Var) Moments(double[] v)
    {
        double m = v.Average();
        return (m, v.Select(x => (x - m) * (x - m)).Average());
    }

    [Fact]
    public void ExponentialLaplaceLogisticParetoWeibullFollowJaxSequences()
    {
        float m1 = BitConverter.UInt32BitsToSingle(0xBF7FFFFF), tiny = BitConverter.UInt32BitsToSingle(0x00800000);
        for (int seed = 0; seed < 5; seed++)
        {
            var key = Rng.Key(100 + seed);
            var u = U(key, 0f, 1f);
            var expo = Apply(Lax.Log1p, u.Select(x => -x).ToArray()).Select(x => -x).ToArray();
            SameBits(expo, Rng.Exponential(key, new Shape(N)), "exponential");
            var ul = U(key, m1, 1f);
            var lap = Apply(Lax.Log1p, ul.Select(x => -Math.Abs(x)).ToArray()).Select((x, i) => Math.Sign(ul[i]) * x).ToArray();
            SameBits(lap, Rng.Laplace(key, new Shape(N)), "laplace");
            var ug = U(key, tiny, 1f);
            var lg = Apply(Lax.Log, ug).Zip(Apply(Lax.Log1p, ug.Select(x => -x).ToArray()), (p, q) => p - q).ToArray();
            SameBits(lg, Rng.Logistic(key, new Shape(N)), "logistic");
            var par = Apply(Lax.Exp, expo.Select(e => e / 3f).ToArray());
            SameBits(par, Rng.Pareto(key, Tensor.Scalar(3.0, DType.Float32), new Shape(N)), "pareto");
            var wb = Lax.Pow(Tensor.FromArray(expo), Lax.BroadcastInDim(Tensor.Scalar((float)(1.0 / 1.5), DType.Float32), new Shape(N))).ToArray<float>().Select(x => x * 2f).ToArray();
            SameBits(wb, Rng.WeibullMin(key, 2.0, 1.5, new Shape(N)), "weibull_min");
        }
    }

    [Fact]
    public void RademacherIsTwoBernoulliMinusOne()
    {
        var key = Rng.Key(7);
        var expected = Rng.Bits(key, new Shape(N)).ToArray<uint>().Select(b => Unit(b) < 0.5f ? 1 : -1).ToArray();
        Assert.Equal(expected, Rng.Rademacher(key, new Shape(N)).ToArray<int>());
        Assert.Equal(expected.Select(x => (float)x).ToArray(), Rng.Rademacher(key, new Shape(N), DType.Float32).ToArray<float>());
    }

    [Fact]
    public void ContinuousMoments()
    {
        const int n = 100_000;
        // Standard errors at n = 1e5: exponential mean 0.0032; laplace variance 2 (se of var ~0.035);
        // logistic variance pi^2/3 = 3.29 (se ~0.04); maxwell mean 2*sqrt(2/pi) = 1.596 (se 0.0021).
        var e = Moments(Rng.Exponential(Rng.Key(1), new Shape(n)).ToDoubleArray());
        Assert.InRange(e.Mean, 0.985, 1.015);
        Assert.InRange(e.Var, 0.95, 1.05);
        var l = Moments(Rng.Laplace(Rng.Key(2), new Shape(n)).ToDoubleArray());
        Assert.InRange(l.Mean, -0.02, 0.02);
        Assert.InRange(l.Var, 1.85, 2.15);
        var g = Moments(Rng.Logistic(Rng.Key(3), new Shape(n)).ToDoubleArray());
        Assert.InRange(g.Var, Math.PI * Math.PI / 3 - 0.15, Math.PI * Math.PI / 3 + 0.15);
        var m = Moments(Rng.Maxwell(Rng.Key(4), new Shape(n)).ToDoubleArray());
        Assert.InRange(m.Mean, 2 * Math.Sqrt(2 / Math.PI) - 0.01, 2 * Math.Sqrt(2 / Math.PI) + 0.01);
        Assert.InRange(m.Var, 3 - 8 / Math.PI - 0.02, 3 - 8 / Math.PI + 0.02);
        var d = Rng.DoubleSidedMaxwell(Rng.Key(5), Tensor.Scalar(1.0, DType.Float32), Tensor.Scalar(2.0, DType.Float32), new Shape(n));
        Assert.Equal(new Shape(n), d.Shape);
        var dm = Moments(d.ToDoubleArray());
        Assert.InRange(dm.Mean, 1 - 0.05, 1 + 0.05);          // se 2*sqrt(3)/sqrt(n) = 0.011
        Assert.InRange(dm.Var, 12 * 0.96, 12 * 1.04);          // variance 3 * scale^2
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    [InlineData(20.0)]
    public void GammaMeanAndVarianceAreA(double a)
    {
        const int n = 20_000;
        var x = Rng.Gamma(Rng.Key(11), Tensor.Scalar(a, DType.Float32), new Shape(n)).ToDoubleArray();
        Assert.All(x, v => Assert.True(v >= 0 && double.IsFinite(v)));
        var (mean, var) = Moments(x);
        double se = Math.Sqrt(a / n);
        Assert.InRange(mean, a - 5 * se, a + 5 * se);
        // Var of the sample variance for a gamma: (2a^2 + 6a) / n (fourth cumulant 6a).
        double seVar = Math.Sqrt((2 * a * a + 6 * a) / n);
        Assert.InRange(var, a - 5 * seVar, a + 5 * seVar);
        // loggamma draws the same gammas (same keys): exp(loggamma) ≈ gamma for a ≥ 1.
        var lg = Rng.LogGamma(Rng.Key(11), Tensor.Scalar(a, DType.Float32), new Shape(n)).ToDoubleArray();
        if (a >= 1)
            for (int i = 0; i < 100; i++) Assert.Equal(x[i], Math.Exp(lg[i]), 4e-5 * Math.Max(1, x[i]));
        else
            Assert.InRange(Moments(lg.Select(Math.Exp).ToArray()).Mean, a - 5 * se, a + 5 * se);
    }

    [Fact]
    public void GammaPerElementParametersAndTransforms()
    {
        var a = Tensor.FromArray(new[] { 0.5f, 1f, 4f, 9f });
        var key = Rng.Key(3);
        var direct = Rng.Gamma(key, a);
        Assert.Equal(new Shape(4), direct.Shape);
        // Under Jit the same numbers.
        var jit = Transforms.Jit((Tensor aa) => Rng.Gamma(key, aa));
        Assert.Equal(direct.ToArray<float>(), jit(a).ToArray<float>());
        // Vmap over keys equals drawing with each key.
        var keys = Rng.Split(Rng.Key(5), new Shape(3));
        var batched = Rng.Vmap(k => Rng.Gamma(k, a))(keys);
        for (int i = 0; i < 3; i++)
            Assert.Equal(Rng.Gamma(keys[i], a).ToArray<float>(), batched[i].ToArray<float>());
    }

    [Fact]
    public void BetaDirichletChiSquareStudentT()
    {
        const int n = 20_000;
        var b = Rng.Beta(Rng.Key(21), Tensor.Scalar(2.0, DType.Float32), Tensor.Scalar(5.0, DType.Float32), new Shape(n)).ToDoubleArray();
        Assert.All(b, v => Assert.InRange(v, 0.0, 1.0));
        var (bm, bv) = Moments(b);
        double mean = 2.0 / 7, variance = 2.0 * 5 / (49 * 8);
        Assert.InRange(bm, mean - 5 * Math.Sqrt(variance / n), mean + 5 * Math.Sqrt(variance / n));
        Assert.InRange(bv, variance * 0.93, variance * 1.07);

        var alpha = Tensor.FromArray(new[] { 1f, 2f, 7f });
        var d = Rng.Dirichlet(Rng.Key(22), alpha, new Shape(n));
        Assert.Equal(new Shape(n, 3), d.Shape);
        var dv = d.ToArray<float>();
        for (int i = 0; i < n; i++) Assert.Equal(1.0, dv[3 * i] + dv[3 * i + 1] + dv[3 * i + 2], 1e-5);
        for (int j = 0; j < 3; j++)
        {
            double mj = Enumerable.Range(0, n).Average(i => dv[3 * i + j]);
            double ej = new[] { 0.1, 0.2, 0.7 }[j];
            double sej = Math.Sqrt(ej * (1 - ej) / 11 / n);
            Assert.InRange(mj, ej - 5 * sej, ej + 5 * sej);
        }

        var c = Moments(Rng.ChiSquare(Rng.Key(23), Tensor.Scalar(4.0, DType.Float32), new Shape(n)).ToDoubleArray());
        Assert.InRange(c.Mean, 4 - 5 * Math.Sqrt(8.0 / n), 4 + 5 * Math.Sqrt(8.0 / n));
        Assert.InRange(c.Var, 8 * 0.9, 8 * 1.1);

        var t = Moments(Rng.StudentT(Rng.Key(24), Tensor.Scalar(10.0, DType.Float32), new Shape(n)).ToDoubleArray());
        Assert.InRange(t.Mean, -5 * Math.Sqrt(1.25 / n), 5 * Math.Sqrt(1.25 / n));
        Assert.InRange(t.Var, 1.25 * 0.9, 1.25 * 1.1);
    }

    [Fact]
    public void PoissonKnuthIsJaxsSequenceAndMomentsHold()
    {
        // Knuth (lam < 10): round r splits the running key, draws uniforms from the second half,
        // counts the elements whose log-sum is still above -lam. Redone here on the host.
        var key = Rng.Key(31);
        float lam = 3.5f;
        var k = new int[N];
        var logProd = new float[N];
        var rng = key;
        for (int round = 0; round < 200 && logProd.Any(p => p > -lam); round++)
        {
            var ks = Rng.Split(rng, 2);
            rng = ks[0];
            var u = Rng.Bits(ks[1], new Shape(N)).ToArray<uint>().Select(Unit).ToArray();
            var logs = Lax.Log(Tensor.FromArray(u)).ToArray<float>();
            for (int i = 0; i < N; i++)
            {
                if (logProd[i] > -lam) k[i]++;
                logProd[i] += logs[i];
            }
        }
        Assert.Equal(k.Select(x => x - 1).ToArray(), Rng.Poisson(key, Tensor.Scalar(lam, DType.Float32), new Shape(N)).ToArray<int>());

        const int n = 50_000;
        foreach (var l in new[] { 0.7, 4.0, 10.0, 35.0, 400.0 })
        {
            var x = Rng.Poisson(Rng.Key(32), Tensor.Scalar(l, DType.Float32), new Shape(n)).ToDoubleArray();
            Assert.All(x, v => Assert.True(v >= 0));
            var (m, v) = Moments(x);
            Assert.InRange(m, l - 5 * Math.Sqrt(l / n), l + 5 * Math.Sqrt(l / n));
            Assert.InRange(v, l * 0.94, l * 1.06);
        }
        Assert.All(Rng.Poisson(key, Tensor.Scalar(0.0, DType.Float32), new Shape(10)).ToArray<int>(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void MultivariateNormalIsMeanPlusCholeskyTimesNormals()
    {
        var mean = Tensor.FromArray(new[] { 1f, -2f, 0.5f });
        var cov = Tensor.FromArray(new[] { 4f, 1.2f, -0.6f, 1.2f, 2f, 0.3f, -0.6f, 0.3f, 1f }, 3, 3);
        var key = Rng.Key(41);
        var x = Rng.MultivariateNormal(key, mean, cov, new Shape(N));
        Assert.Equal(new Shape(N, 3), x.Shape);
        // Against an independent float64 Cholesky of cov and the same normals.
        var c = new double[,] { { 4, 1.2, -0.6 }, { 1.2, 2, 0.3 }, { -0.6, 0.3, 1 } };
        var L = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = c[i, j];
                for (int q = 0; q < j; q++) s -= L[i, q] * L[j, q];
                L[i, j] = i == j ? Math.Sqrt(s) : s / L[j, j];
            }
        var z = Rng.Normal(key, new Shape(N, 3)).ToArray<float>();
        var xv = x.ToArray<float>();
        var mv = new[] { 1.0, -2.0, 0.5 };
        for (int r = 0; r < N; r++)
            for (int i = 0; i < 3; i++)
            {
                double e = mv[i];
                for (int j = 0; j <= i; j++) e += L[i, j] * z[3 * r + j];
                Assert.Equal(e, xv[3 * r + i], 1e-4 * (1 + Math.Abs(e)));
            }
        Assert.Throws<ArgumentException>(() => Rng.MultivariateNormal(key, mean, Tensor.Zeros(new Shape(2, 2), DType.Float32)));
    }
}
