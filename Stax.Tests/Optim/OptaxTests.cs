using Stax.Optim;
using Stax.Tests.Infrastructure;
using static Stax.Tests.Optim.OptimizerTests;

namespace Stax.Tests.Optim;

/// <summary>Optax-style transformations: three steps against optax's update equations evaluated here in double.</summary>
public class OptaxTests
{
    /// <summary>Per-step hand rule on the whole parameter vector (a's four entries then b): given the step k,
    /// the gradients and the current parameters, returns the new parameters (the rule keeps its own state).</summary>
    delegate double[] HandStep(int k, double[] g, double[] p);

    static double[] Flat(Dictionary<string, Tensor> p) => p["a"].ToDoubleArray().Append(p["b"].ToDoubleArray()[0]).ToArray();

    static void CheckAgainstHand(GradientTransformation opt, HandStep hand, double rtol = 1e-5, double atol = 1e-6)
    {
        var ps = Tree2(A0, B0);
        var state = opt.Init(ps);
        var hp = A0.Append(B0).ToArray();
        for (int k = 0; k < 3; k++)
        {
            var (updates, newState) = opt.Update(Grads(k), state, ps);
            state = newState;
            ps = Optax.ApplyUpdates(ps, updates);
            hp = hand(k, GradA(k).Append(GradB(k)).ToArray(), hp);
            Check.Close(hp, Flat(ps), rtol, atol, $"{opt.Name} after step {k}");
        }
    }

    /// <summary>Adam moments (optax's scale_by_adam) kept per element across steps.</summary>
    sealed class HandAdam(double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
    {
        readonly double[] _m = new double[5], _v = new double[5];
        public double[] Step(int k, double[] g)
        {
            var u = new double[5];
            int count = k + 1;
            for (int e = 0; e < 5; e++)
            {
                _m[e] = (1 - b1) * g[e] + b1 * _m[e];
                _v[e] = (1 - b2) * g[e] * g[e] + b2 * _v[e];
                u[e] = (_m[e] / (1 - Math.Pow(b1, count))) / (Math.Sqrt(_v[e] / (1 - Math.Pow(b2, count))) + eps);
            }
            return u;
        }
    }

    [Fact]
    public void AdamWMatchesHand()
    {
        var adam = new HandAdam();
        CheckAgainstHand(Optax.AdamW(0.1, weightDecay: 0.01), (k, g, p) =>
        {
            var u = adam.Step(k, g);
            return p.Select((x, e) => x - 0.1 * (u[e] + 0.01 * x)).ToArray();
        });
    }

    [Fact]
    public void AdamWMaskSkipsTheMaskedLeaves()
    {
        var adam = new HandAdam();
        // Only rank > 0 leaves decay: "a" decays, the scalar "b" does not.
        CheckAgainstHand(Optax.AdamW(0.1, weightDecay: 0.5, mask: (path, x) => x.Rank > 0), (k, g, p) =>
        {
            var u = adam.Step(k, g);
            return p.Select((x, e) => x - 0.1 * (u[e] + (e < 4 ? 0.5 * x : 0))).ToArray();
        });
    }

    [Fact]
    public void AdamMatchesHand()
    {
        var adam = new HandAdam(0.8, 0.95, 1e-6);
        CheckAgainstHand(Optax.Adam(0.05, 0.8, 0.95, 1e-6), (k, g, p) =>
        {
            var u = adam.Step(k, g);
            return p.Select((x, e) => x - 0.05 * u[e]).ToArray();
        });
    }

    [Fact]
    public void ChainOfClipDecayAdamScheduleScaleMatchesHand()
    {
        // The gradient norms are 2.08 and 1.05 at steps 0 and 1 (clipped to 1) and 0.52 at step 2 (unchanged).
        var adam = new HandAdam();
        var sched = Schedules.PiecewiseConstant(new double[] { 0 }, new[] { 1.0, 0.5 });   // 1 at count 0, then 0.5
        var opt = Optax.Chain(Optax.ClipByGlobalNorm(1.0), Optax.AddDecayedWeights(1e-2), Optax.ScaleByAdam(),
            Optax.ScaleBySchedule(sched), Optax.Scale(-0.1));
        var clippedSteps = new List<int>();
        CheckAgainstHand(opt, (k, g, p) =>
        {
            double norm = Math.Sqrt(g.Sum(x => x * x));
            if (norm >= 1) clippedSteps.Add(k);
            var gc = norm < 1 ? g : g.Select(x => x / norm * 1.0).ToArray();
            var d = gc.Select((x, e) => x + 1e-2 * p[e]).ToArray();
            var u = adam.Step(k, d);
            double s = k == 0 ? 1.0 : 0.5;
            return p.Select((x, e) => x + -0.1 * s * u[e]).ToArray();
        });
        Assert.Equal(new[] { 0, 1 }, clippedSteps);
    }

    [Fact]
    public void SgdWithMomentumAndNesterovMatchHand()
    {
        foreach (var nesterov in new[] { false, true })
        {
            var t = new double[5];
            CheckAgainstHand(Optax.Sgd(0.1, momentum: 0.9, nesterov: nesterov), (k, g, p) =>
            {
                for (int e = 0; e < 5; e++) t[e] = g[e] + 0.9 * t[e];
                return p.Select((x, e) => x - 0.1 * (nesterov ? g[e] + 0.9 * t[e] : t[e])).ToArray();
            }, 1e-6);
        }
        CheckAgainstHand(Optax.Sgd(0.1), (k, g, p) => p.Select((x, e) => x - 0.1 * g[e]).ToArray(), 1e-6);
    }

    [Fact]
    public void ScheduledLearningRateStartsAtCountZero()
    {
        // lr(count) = 0.2 / (1 + count).
        CheckAgainstHand(Optax.Sgd(Schedules.InverseTimeDecay(0.2, 1, 1)), (k, g, p) => p.Select((x, e) => x - 0.2 / (1 + k) * g[e]).ToArray(), 1e-6);
    }

    [Fact]
    public void StatesAreTreesAndTheJittedStepEqualsEager()
    {
        var opt = Optax.AdamW(Schedules.ExponentialDecay(0.1, 2, 0.5), weightDecay: 0.01);
        var x = TestData.Tensor(21, new[] { 8, 4 }, lo: -1, hi: 1);
        Tensor Loss(Dictionary<string, Tensor> p)
        {
            var r = Np.Matmul(x, p["a"]) + p["b"] - 1;
            return Np.Mean(r * r);
        }
        object?[] Step(Dictionary<string, Tensor> p, object? s)
        {
            var g = Transforms.Grad<Dictionary<string, Tensor>>(Loss)(p);
            var (u, ns) = opt.Update(g, s, p);
            return new object?[] { Optax.ApplyUpdates(p, u), ns };
        }
        var (jitted, info) = Transforms.JitWithInfo<object?[], object?[]>(a => Step((Dictionary<string, Tensor>)a[0]!, a[1]));
        var p0 = Tree2(A0, B0);
        object?[] eager = { p0, opt.Init(p0) }, jit = { p0, opt.Init(p0) };
        for (int k = 0; k < 3; k++)
        {
            eager = Step((Dictionary<string, Tensor>)eager[0]!, eager[1]);
            jit = jitted(jit);
            Check.Close(Tree.Leaves(eager).SelectMany(t => t.ToDoubleArray()).ToArray(), Tree.Leaves(jit).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-6, 1e-7, $"step {k}");
        }
        Assert.Equal(1, info.TraceCount);
        // The chain state: [ScaleByAdamState, null, ScaleByScheduleState]; counts are int32 scalars.
        var states = (object?[])jit[1]!;
        var adam = Assert.IsType<ScaleByAdamState>(states[0]);
        Assert.Equal(3, adam.Count.Item<int>());
        Assert.Null(states[1]);
        Assert.Equal(3, Assert.IsType<ScaleByScheduleState>(states[2]).Count.Item<int>());
        Assert.Contains(Tree.Paths(jit[1]), p => p.ToString().Contains(".mu[\"a\"]"));
    }

    [Fact]
    public void BadInputsThrow()
    {
        var ps = Tree2(A0, B0);
        var wd = Optax.AddDecayedWeights(0.1);
        Check.Throws<ArgumentException>(() => wd.Update(Grads(0), wd.Init(ps)), "AddDecayedWeights", "parameters");
        var adam = Optax.ScaleByAdam();
        var wrong = new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(new Shape(4)) };
        Check.Throws<ArgumentException>(() => adam.Update(wrong, adam.Init(ps)), "ScaleByAdam");
        Check.Throws<ArgumentException>(() => adam.Update(Grads(0), null), "ScaleByAdam", "ScaleByAdamState");
        Check.Throws<ArgumentException>(() => Optax.ApplyUpdates(ps, wrong), "ApplyUpdates");
        Check.Throws<ArgumentException>(() => Optax.ClipByGlobalNorm(0), "ClipByGlobalNorm", "positive");
        var chain = Optax.Chain(Optax.Identity(), Optax.Scale(2));
        Check.Throws<ArgumentException>(() => chain.Update(Grads(0), new object?[] { null }), "Chain", "2 states");
    }

    [Fact]
    public void AdamWKeepsBFloat16ParametersAndMovesThem()
    {
        // 0.999 rounds to 1 in bfloat16; the bias correction is computed in float32 (as optax), so the step is not lost.
        var p = new Dictionary<string, Tensor> { ["w"] = Tensor.Full(new Shape(2), 1.0, DType.BFloat16) };
        var g = new Dictionary<string, Tensor> { ["w"] = Tensor.Full(new Shape(2), 0.5, DType.BFloat16) };
        var opt = Optax.AdamW(0.1);
        var (u, _) = opt.Update(g, opt.Init(p), p);
        var np = Optax.ApplyUpdates(p, u);
        Assert.Equal(DType.BFloat16, np["w"].DType);
        Check.Close(new[] { 0.9, 0.9 }, np["w"].ToDoubleArray(), 0, 0.01);
    }
}
