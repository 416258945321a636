using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>
/// optax's optimizer aliases: ten-step trajectories against optax's update equations (optax/_src/alias.py,
/// transform.py, factorized.py) written out here per element in double precision, on a tree with a matrix,
/// a vector and a scalar leaf.
/// </summary>
public class OptaxAliasTests
{
    const int Steps = 10;
    static readonly string[] Names = { "b", "s", "w" };
    static readonly Dictionary<string, int[]> Shapes = new() { ["b"] = new[] { 4 }, ["s"] = Array.Empty<int>(), ["w"] = new[] { 3, 4 } };

    static int Size(string n) => Shapes[n].Aggregate(1, (a, d) => a * d);

    static double[] P0(string n) => Enumerable.Range(0, Size(n)).Select(e => 0.6 - 0.35 * e + 0.1 * n[0] % 3).ToArray();

    /// <summary>The gradient at step k: a fixed sequence, independent of the parameters; element ("b", 3) is always 0.</summary>
    static double[] G(int k, string n) => Enumerable.Range(0, Size(n))
        .Select(e => n == "b" && e == 3 ? 0.0 : Math.Sin(0.9 * k + 1.7 * e + n[0]) * (0.5 + 0.1 * e) + 0.05).ToArray();

    static Tensor T(string n, double[] v) => Tensor.FromArray(v.Select(x => (float)x).ToArray(), Shapes[n]);

    static Dictionary<string, Tensor> TreeOf(Func<string, double[]> f) => Names.ToDictionary(n => n, n => T(n, f(n)));

    /// <summary>A hand-written optimizer: maps (step, grads, params) per leaf name to new params, keeping its own state.</summary>
    delegate Dictionary<string, double[]> Hand(int k, Dictionary<string, double[]> g, Dictionary<string, double[]> p);

    static void Trajectory(GradientTransformation opt, Hand hand, double rtol = 2e-5, double atol = 2e-6)
    {
        var ps = TreeOf(P0);
        var state = opt.Init(ps);
        var hp = Names.ToDictionary(n => n, P0);
        for (int k = 0; k < Steps; k++)
        {
            var (updates, newState) = opt.Update(TreeOf(n => G(k, n)), state, ps);
            state = newState;
            ps = Optax.ApplyUpdates(ps, updates);
            hp = hand(k, Names.ToDictionary(n => n, n => G(k, n)), hp);
            foreach (var n in Names)
                Check.Close(hp[n], ps[n].ToDoubleArray(), rtol, atol, $"{opt.Name}, leaf {n}, after step {k}");
        }
    }

    /// <summary>Per-element state, one array per leaf.</summary>
    static Dictionary<string, double[]> Zeros(double v = 0) => Names.ToDictionary(n => n, n => Enumerable.Repeat(v, Size(n)).ToArray());

    /// <summary>Applies <paramref name="f"/>(e, g, p) to every element of every leaf.</summary>
    static Dictionary<string, double[]> PerElement(Dictionary<string, double[]> g, Dictionary<string, double[]> p, Func<string, int, double, double, double> f)
        => Names.ToDictionary(n => n, n => p[n].Select((x, e) => f(n, e, g[n][e], x)).ToArray());

    [Fact]
    public void AdamaxMatchesHand()
    {
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.05;
        var m = Zeros();
        var v = Zeros();
        Trajectory(Optax.Adamax(lr), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            m[n][e] = (1 - b1) * gi + b1 * m[n][e];
            v[n][e] = Math.Max(Math.Abs(gi) + eps, b2 * v[n][e]);
            return x - lr * (m[n][e] / (1 - Math.Pow(b1, k + 1)) / v[n][e]);
        }));
    }

    [Fact]
    public void AdagradMatchesHandAndZeroAccumulatorsGiveZeroUpdates()
    {
        foreach (var (init, eps) in new[] { (0.1, 1e-7), (0.0, 0.0) })
        {
            var s = Zeros(init);
            Trajectory(Optax.Adagrad(0.1, initialAccumulatorValue: init, eps: eps), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
            {
                s[n][e] += gi * gi;
                // optax: where(s > 0, rsqrt(s + eps), 0); with init 0 and eps 0 the always-zero gradient of ("b", 3)
                // keeps s = 0, where rsqrt(0) * 0 would be NaN.
                return x - 0.1 * (s[n][e] > 0 ? gi / Math.Sqrt(s[n][e] + eps) : 0);
            }));
        }
    }

    [Fact]
    public void AdagradTakesASchedule()
    {
        var s = Zeros(0.1);
        var lr = Optax.ExponentialDecay(0.2, 2, 0.5);
        Trajectory(Optax.Adagrad(lr), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            s[n][e] += gi * gi;
            return x - 0.2 * Math.Pow(0.5, k / 2.0) * gi / Math.Sqrt(s[n][e] + 1e-7);
        }));
    }

    [Fact]
    public void RmspropMatchesHand()
    {
        var nu = Zeros();
        Trajectory(Optax.Rmsprop(0.01), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            nu[n][e] = 0.1 * gi * gi + 0.9 * nu[n][e];
            return x - 0.01 * gi / Math.Sqrt(nu[n][e] + 1e-8);
        }));
    }

    [Fact]
    public void RmspropWithBiasCorrectionEpsOutsideAndInitialScaleMatchesHand()
    {
        double d = 0.8, eps = 1e-3;
        var nu = Zeros(0.5);
        Trajectory(Optax.Rmsprop(0.01, decay: d, eps: eps, initialScale: 0.5, epsInSqrt: false, biasCorrection: true), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            nu[n][e] = (1 - d) * gi * gi + d * nu[n][e];
            double nuHat = nu[n][e] / (1 - Math.Pow(d, k + 1));
            return x - 0.01 * gi / (Math.Sqrt(nuHat) + eps);
        }));
    }

    [Fact]
    public void CenteredRmspropWithNesterovMomentumMatchesHand()
    {
        foreach (var nesterov in new[] { false, true })
        {
            double d = 0.9, mom = 0.7, lr = 0.01;
            var mu = Zeros();
            var nu = Zeros(0.2);
            var tr = Zeros();
            Trajectory(Optax.Rmsprop(lr, decay: d, initialScale: 0.2, centered: true, momentum: mom, nesterov: nesterov), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
            {
                mu[n][e] = (1 - d) * gi + d * mu[n][e];
                nu[n][e] = (1 - d) * gi * gi + d * nu[n][e];
                // optax orders rmsprop's momentum after the learning rate: trace of -lr * scaled gradient.
                double u = -lr * gi / Math.Sqrt(nu[n][e] - mu[n][e] * mu[n][e] + 1e-8);
                tr[n][e] = u + mom * tr[n][e];
                return x + (nesterov ? u + mom * tr[n][e] : tr[n][e]);
            }), rtol: 1e-4, atol: 1e-5);
        }
    }

    [Fact]
    public void CenteredRmspropWithBiasCorrectionMatchesHand()
    {
        double d = 0.9, lr = 0.01;
        var mu = Zeros();
        // A non-zero initial second moment: from zeros, the bias-corrected variance of step 0 is exactly 0 and the step is 1/sqrt(eps).
        var nu = Zeros(0.3);
        Trajectory(Optax.Rmsprop(lr, initialScale: 0.3, centered: true, biasCorrection: true), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            mu[n][e] = (1 - d) * gi + d * mu[n][e];
            nu[n][e] = (1 - d) * gi * gi + d * nu[n][e];
            double c = 1 - Math.Pow(d, k + 1), mh = mu[n][e] / c, nh = nu[n][e] / c;
            return x - lr * gi / Math.Sqrt(nh - mh * mh + 1e-8);
        }), rtol: 1e-4, atol: 1e-5);
    }

    /// <summary>Adam's bias-corrected update per element (optax scale_by_adam), optionally with NAdam's Nesterov first moment.</summary>
    sealed class HandAdam(double b1, double b2, double eps, bool nesterov = false)
    {
        readonly Dictionary<string, double[]> _m = Zeros(), _v = Zeros();
        public double Update(int k, string n, int e, double g)
        {
            int t = k + 1;
            _m[n][e] = (1 - b1) * g + b1 * _m[n][e];
            _v[n][e] = (1 - b2) * g * g + b2 * _v[n][e];
            double mHat = nesterov
                ? b1 * _m[n][e] / (1 - Math.Pow(b1, t + 1)) + (1 - b1) * g / (1 - Math.Pow(b1, t))
                : _m[n][e] / (1 - Math.Pow(b1, t));
            return mHat / (Math.Sqrt(_v[n][e] / (1 - Math.Pow(b2, t))) + eps);
        }
    }

    [Fact]
    public void NadamMatchesHand()
    {
        var adam = new HandAdam(0.9, 0.999, 1e-8, nesterov: true);
        Trajectory(Optax.Nadam(0.01), (k, g, p) => PerElement(g, p, (n, e, gi, x) => x - 0.01 * adam.Update(k, n, e, gi)));
    }

    [Fact]
    public void RadamRectifiesOnlyOnceTheVarianceIsTractable()
    {
        foreach (var nesterov in new[] { false, true })
        {
            // b2 = 0.9: ro∞ = 19 and ro = 1.0, 1.9, 2.8, 3.7, 4.6 for counts 1..5, then 5.4 at count 6, so both branches run.
            double b1 = 0.9, b2 = 0.9, eps = 1e-8, lr = 0.01, roInf = 2 / (1 - b2) - 1;
            var m = Zeros();
            var v = Zeros();
            var rectified = new HashSet<int>();
            Trajectory(Optax.Radam(lr, b1, b2, nesterov: nesterov), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
            {
                int t = k + 1;
                m[n][e] = (1 - b1) * gi + b1 * m[n][e];
                v[n][e] = (1 - b2) * gi * gi + b2 * v[n][e];
                double mHat = nesterov
                    ? b1 * m[n][e] / (1 - Math.Pow(b1, t + 1)) + (1 - b1) * gi / (1 - Math.Pow(b1, t))
                    : m[n][e] / (1 - Math.Pow(b1, t));
                double vHat = v[n][e] / (1 - Math.Pow(b2, t));
                double ro = roInf - 2 * t * Math.Pow(b2, t) / (1 - Math.Pow(b2, t));
                if (ro < 5) return x - lr * mHat;
                rectified.Add(k);
                double r = Math.Sqrt((ro - 4) * (ro - 2) * roInf / ((roInf - 4) * (roInf - 2) * ro));
                return x - lr * r * mHat / (Math.Sqrt(vHat) + eps);
            }));
            Assert.Equal(Enumerable.Range(5, 5), rectified.Order());
        }
    }

    static double Norm(double[] x) => Math.Sqrt(x.Sum(v => v * v));

    [Fact]
    public void LambMatchesHand()
    {
        double lr = 0.01, wd = 0.05;
        var adam = new HandAdam(0.9, 0.999, 1e-6);
        Trajectory(Optax.Lamb(lr, weightDecay: wd), (k, g, p) => Names.ToDictionary(n => n, n =>
        {
            var u = p[n].Select((x, e) => adam.Update(k, n, e, g[n][e]) + wd * x).ToArray();
            // Trust ratio per leaf: ‖p‖ / ‖u‖, or 1 when either norm is 0.
            double pn = Norm(p[n]), un = Norm(u), ratio = pn == 0 || un == 0 ? 1 : pn / un;
            return p[n].Select((x, e) => x - lr * ratio * u[e]).ToArray();
        }));
    }

    [Fact]
    public void LionMatchesHand()
    {
        double b1 = 0.9, b2 = 0.99, lr = 0.01, wd = 1e-3;
        var m = Zeros();
        Trajectory(Optax.Lion(lr), (k, g, p) => PerElement(g, p, (n, e, gi, x) =>
        {
            double u = Math.Sign((1 - b1) * gi + b1 * m[n][e]);
            m[n][e] = (1 - b2) * gi + b2 * m[n][e];
            return x - lr * (u + wd * x);
        }));
    }

    /// <summary>optax.adafactor per leaf, from factorized.py and the transformations adafactor chains.</summary>
    sealed class HandAdafactor(double? lr, int minDim, double? momentum = null, double? wd = null)
    {
        readonly Dictionary<string, double[]> _v = Zeros(), _ema = Zeros();
        readonly double[] _row = new double[3], _col = new double[4];

        static double Rms(double[] x) => Math.Sqrt(x.Average(v => v * v));

        public Dictionary<string, double[]> Step(int k, Dictionary<string, double[]> g, Dictionary<string, double[]> p)
        {
            double beta = 1 - Math.Pow(k + 1, -0.8);
            var outp = new Dictionary<string, double[]>();
            foreach (var n in Names)
            {
                var gs = g[n].Select(x => x * x + 1e-30).ToArray();
                double[] u;
                if (n == "w" && minDim <= 3)
                {
                    // Factored 3x4 leaf: d0 = axis 1 (length 4), d1 = axis 0 (length 3).
                    for (int i = 0; i < 3; i++) _row[i] = beta * _row[i] + (1 - beta) * Enumerable.Range(0, 4).Average(j => gs[i * 4 + j]);
                    for (int j = 0; j < 4; j++) _col[j] = beta * _col[j] + (1 - beta) * Enumerable.Range(0, 3).Average(i => gs[i * 4 + j]);
                    double rowMean = _row.Average();
                    u = g[n].Select((x, e) => x * Math.Pow(_row[e / 4] / rowMean, -0.5) * Math.Pow(_col[e % 4], -0.5)).ToArray();
                }
                else
                {
                    for (int e = 0; e < gs.Length; e++) _v[n][e] = beta * _v[n][e] + (1 - beta) * gs[e];
                    u = g[n].Select((x, e) => x * Math.Pow(_v[n][e], -0.5)).ToArray();
                }
                double clip = Math.Max(1, Rms(u) / 1.0);
                double scale = Math.Max(Rms(p[n]), 1e-3);
                for (int e = 0; e < u.Length; e++)
                {
                    u[e] = u[e] / clip * (lr ?? 1) * scale;
                    if (momentum is double mo) u[e] = _ema[n][e] = (1 - mo) * u[e] + mo * _ema[n][e];
                    if (wd is double w) u[e] += w * p[n][e];
                }
                outp[n] = p[n].Select((x, e) => x - u[e]).ToArray();
            }
            return outp;
        }
    }

    [Fact]
    public void AdafactorFactoredMatchesHand()
    {
        var hand = new HandAdafactor(0.1, 3);
        Trajectory(Optax.Adafactor(0.1, minDimSizeToFactor: 3), hand.Step);
    }

    [Fact]
    public void AdafactorDefaultsDoNotFactorSmallLeaves()
    {
        // min_dim_size_to_factor is 128 by default, so the 3x4 leaf keeps a full second moment; no learning rate means
        // the parameter-scaled relative step only, as in optax.
        var hand = new HandAdafactor(null, 128);
        Trajectory(Optax.Adafactor(), hand.Step);
    }

    [Fact]
    public void AdafactorWithMomentumAndWeightDecayMatchesHand()
    {
        var hand = new HandAdafactor(0.05, 3, momentum: 0.9, wd: 0.01);
        Trajectory(Optax.Adafactor(0.05, minDimSizeToFactor: 3, momentum: 0.9, weightDecayRate: 0.01), hand.Step);
    }

    [Fact]
    public void AdafactorStateHasOptaxShapes()
    {
        var st = (object?[])Optax.Adafactor(minDimSizeToFactor: 3).Init(TreeOf(P0))!;
        var f = Assert.IsType<FactoredState>(st[0]);
        var rows = (Dictionary<string, Tensor>)f.VRow!;
        var cols = (Dictionary<string, Tensor>)f.VCol!;
        var v = (Dictionary<string, Tensor>)f.V!;
        Assert.Equal(new Shape(3), rows["w"].Shape);
        Assert.Equal(new Shape(4), cols["w"].Shape);
        Assert.Equal(new Shape(1), v["w"].Shape);
        Assert.Equal(new Shape(4), v["b"].Shape);
        Assert.Equal(new Shape(1), rows["b"].Shape);
    }

    [Fact]
    public void TrustRatioIsOneForZeroNorms()
    {
        var tr = Optax.ScaleByTrustRatio();
        var p = new Dictionary<string, Tensor> { ["z"] = Tensor.Zeros(new Shape(2)), ["x"] = Tensor.FromArray(new[] { 3f, 4f }, 2) };
        var u = new Dictionary<string, Tensor> { ["z"] = Tensor.FromArray(new[] { 1f, 2f }, 2), ["x"] = Tensor.FromArray(new[] { 0f, 0.5f }, 2) };
        var (outU, _) = tr.Update(u, tr.Init(p), p);
        var o = (Dictionary<string, Tensor>)outU!;
        Check.Close(new[] { 1.0, 2.0 }, o["z"].ToDoubleArray(), 0, 0, "zero parameter norm");
        Check.Close(new[] { 0.0, 5.0 }, o["x"].ToDoubleArray(), 1e-6, 0, "ratio 5 / 0.5");
        Check.Throws<ArgumentException>(() => tr.Update(u, null), "ScaleByTrustRatio", "parameters");
    }

    public static IEnumerable<object[]> AllAliases() => new (string, Func<GradientTransformation>)[]
    {
        ("adamax", () => Optax.Adamax(0.01)), ("adagrad", () => Optax.Adagrad(0.01)), ("nadam", () => Optax.Nadam(0.01)),
        ("radam", () => Optax.Radam(0.01)), ("rmsprop", () => Optax.Rmsprop(0.01, momentum: 0.9, biasCorrection: true)),
        ("centered rmsprop", () => Optax.Rmsprop(0.01, centered: true, biasCorrection: true)), ("lamb", () => Optax.Lamb(0.01)),
        ("lion", () => Optax.Lion(Optax.CosineDecaySchedule(0.01, 5))), ("adafactor", () => Optax.Adafactor(0.01, minDimSizeToFactor: 3, momentum: 0.9)),
    }.Select(a => new object[] { a.Item1, a.Item2 });

    [Theory]
    [MemberData(nameof(AllAliases))]
    public void StatesAreTreesAndTheJittedStepEqualsEager(string name, Func<GradientTransformation> make)
    {
        var opt = make();
        object?[] Step(object?[] a)
        {
            var p = (Dictionary<string, Tensor>)a[0]!;
            var g = TreeOf(n => G(3, n)).ToDictionary(kv => kv.Key, kv => kv.Value * (a[2] as Tensor)!);
            var (u, s) = opt.Update(g, a[1], p);
            return new object?[] { Optax.ApplyUpdates(p, u), s, a[2] };
        }
        var (jitted, info) = Transforms.JitWithInfo<object?[], object?[]>(Step);
        var p0 = TreeOf(P0);
        object?[] eager = { p0, opt.Init(p0), Tensor.Scalar(1.0) }, jit = { p0, opt.Init(p0), Tensor.Scalar(1.0) };
        for (int k = 0; k < 3; k++)
        {
            eager = Step(eager);
            jit = jitted(jit);
            Check.Close(Tree.Leaves(eager).SelectMany(t => t.ToDoubleArray()).ToArray(),
                Tree.Leaves(jit).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-6, 1e-7, $"{name} step {k}");
        }
        Assert.Equal(1, info.TraceCount);
    }
}
