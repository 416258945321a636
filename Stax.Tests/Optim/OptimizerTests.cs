using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>
/// jax.example_libraries.optimizers semantics: the first three updates of every optimizer against
/// the published update equations evaluated here in double precision (independently of the code
/// under test), on a tree with a vector leaf and a scalar leaf.
/// </summary>
public class OptimizerTests
{
    // Parameters: "a" = [1, -2, 0.5, 0] and "b" = 3 (a rank-0 leaf).
    internal static readonly double[] A0 = { 1.0, -2.0, 0.5, 0.0 };
    internal const double B0 = 3.0;

    // Gradients at step k (a zero entry exercises Adagrad's where-branch; signs change over the steps).
    internal static double[] GradA(int k) => new[] { 0.3, -0.1 + 0.2 * k, 0.0, 2.0 - k };
    internal static double GradB(int k) => 0.5 - 0.4 * k;

    internal static Dictionary<string, Tensor> Tree2(double[] a, double b) => new()
    {
        ["a"] = Tensor.FromArray(a.Select(x => (float)x).ToArray(), a.Length),
        ["b"] = Tensor.Scalar(b),
    };

    internal static Dictionary<string, Tensor> Grads(int k) => Tree2(GradA(k), GradB(k));

    /// <summary>A per-element update rule: given the step, gradient and the element's state (index 0 is x), updates the state in place.</summary>
    delegate void HandRule(int step, double g, double[] s);

    /// <summary>Runs three updates of <paramref name="opt"/> and of <paramref name="rule"/> (per element) and compares the parameters after each.</summary>
    static void CheckAgainstHand(Optimizer opt, HandRule rule, int stateSize, double rtol = 2e-6, double atol = 1e-6)
    {
        var (init, update, getParams) = opt;
        var state = init(Tree2(A0, B0));
        var hand = A0.Append(B0).Select(x => { var s = new double[stateSize]; s[0] = x; return s; }).ToArray();
        for (int k = 0; k < 3; k++)
        {
            state = update(k, Grads(k), state);
            var g = GradA(k).Append(GradB(k)).ToArray();
            for (int e = 0; e < hand.Length; e++) rule(k, g[e], hand[e]);
            var p = (Dictionary<string, Tensor>)getParams(state)!;
            Assert.Equal(new Shape(4), p["a"].Shape);
            Assert.Equal(Shape.Scalar, p["b"].Shape);
            var actual = p["a"].ToDoubleArray().Append(p["b"].ToDoubleArray()[0]).ToArray();
            Check.Close(hand.Select(s => s[0]).ToArray(), actual, rtol, atol, $"{opt.Name} after step {k}");
        }
    }

    [Fact]
    public void SgdMatchesHand() => CheckAgainstHand(Optimizers.Sgd(0.1), (i, g, s) => s[0] -= 0.1 * g, 1);

    [Fact]
    public void SgdWithScheduleUsesTheStepIndex()
    {
        // lr(i) = 0.2 / (1 + i): 0.2, 0.1, 0.0667 for steps 0, 1, 2.
        CheckAgainstHand(Optimizers.Sgd(Schedules.InverseTimeDecay(0.2, 1, 1)), (i, g, s) => s[0] -= 0.2 / (1 + i) * g, 1);
    }

    [Fact]
    public void MomentumMatchesHand() => CheckAgainstHand(Optimizers.Momentum(0.1, 0.9), (i, g, s) =>
    {
        s[1] = 0.9 * s[1] + g;
        s[0] -= 0.1 * s[1];
    }, 2);

    [Fact]
    public void NesterovMatchesHand() => CheckAgainstHand(Optimizers.Nesterov(0.1, 0.8), (i, g, s) =>
    {
        s[1] = 0.8 * s[1] + g;
        s[0] -= 0.1 * (0.8 * s[1] + g);
    }, 2);

    [Fact]
    public void AdagradMatchesHand() => CheckAgainstHand(Optimizers.Adagrad(0.1), (i, g, s) =>
    {
        // s = [x, g_sq, m]; momentum 0.9 by default.
        s[1] += g * g;
        double inv = s[1] > 0 ? 1 / Math.Sqrt(s[1]) : 0;
        s[2] = 0.1 * (g * inv) + 0.9 * s[2];
        s[0] -= 0.1 * s[2];
    }, 3);

    [Fact]
    public void RmspropMatchesHand() => CheckAgainstHand(Optimizers.Rmsprop(0.01), (i, g, s) =>
    {
        s[1] = 0.9 * s[1] + 0.1 * g * g;
        s[0] -= 0.01 * g / Math.Sqrt(s[1] + 1e-8);
    }, 2);

    [Fact]
    public void RmspropMomentumMatchesHand() => CheckAgainstHand(Optimizers.RmspropMomentum(0.01, gamma: 0.8, eps: 1e-6, momentum: 0.5), (i, g, s) =>
    {
        s[1] = 0.8 * s[1] + 0.2 * g * g;
        s[2] = 0.5 * s[2] + 0.01 * g / Math.Sqrt(s[1] + 1e-6);
        s[0] -= s[2];
    }, 3);

    [Fact]
    public void AdamMatchesHand() => CheckAgainstHand(Optimizers.Adam(0.05), (i, g, s) =>
    {
        s[1] = 0.1 * g + 0.9 * s[1];
        s[2] = 0.001 * g * g + 0.999 * s[2];
        double mhat = s[1] / (1 - Math.Pow(0.9, i + 1));
        double vhat = s[2] / (1 - Math.Pow(0.999, i + 1));
        s[0] -= 0.05 * mhat / (Math.Sqrt(vhat) + 1e-8);
    }, 3, rtol: 1e-5);

    [Fact]
    public void AdamaxMatchesHand() => CheckAgainstHand(Optimizers.Adamax(0.05, b1: 0.8, b2: 0.9), (i, g, s) =>
    {
        s[1] = 0.2 * g + 0.8 * s[1];
        s[2] = Math.Max(0.9 * s[2], Math.Abs(g));
        s[0] -= 0.05 / (1 - Math.Pow(0.8, i + 1)) * s[1] / (s[2] + 1e-8);
    }, 3, rtol: 1e-5);

    [Fact]
    public void Sm3MatchesHandOnAMatrixAndKeepsScalarShapes()
    {
        // x is 2x3; one accumulator per row and per column.
        double[,] x = { { 1, -1, 2 }, { 0.5, 0, -3 } };
        double[,] G(int k) => new double[,] { { 0.5, -1 + k, 0 }, { 2 - k, 0.25, -0.5 * k } };
        const double lr = 0.1, mom = 0.9;
        var m = new double[2, 3];
        var vr = new double[2];
        var vc = new double[3];
        var opt = Optimizers.Sm3(lr);
        var state = opt.Init(new object?[] { ToTensor(x), Tensor.Scalar(4.0) });
        double xs = 4.0, ms = 0, vs = 0;
        for (int k = 0; k < 3; k++)
        {
            var g = G(k);
            double gs = 1.0 - k;
            state = opt.Update(k, new object?[] { ToTensor(g), Tensor.Scalar(gs) }, state);
            var acc = new double[2, 3];
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 3; c++)
                {
                    acc[r, c] = Math.Min(vr[r], vc[c]) + g[r, c] * g[r, c];
                    double inv = acc[r, c] > 0 ? 1 / Math.Sqrt(acc[r, c]) : 0;
                    m[r, c] = (1 - mom) * g[r, c] * inv + mom * m[r, c];
                    x[r, c] -= lr * m[r, c];
                }
            for (int r = 0; r < 2; r++) vr[r] = Math.Max(acc[r, 0], Math.Max(acc[r, 1], acc[r, 2]));
            for (int c = 0; c < 3; c++) vc[c] = Math.Max(acc[0, c], acc[1, c]);
            // The scalar is kept as shape (1,) inside: one accumulator.
            double a = vs + gs * gs;
            ms = (1 - mom) * gs * (a > 0 ? 1 / Math.Sqrt(a) : 0) + mom * ms;
            xs -= lr * ms;
            vs = a;
            var p = (object?[])opt.GetParams(state)!;
            Check.Close(x.Cast<double>().ToArray(), ((Tensor)p[0]!).ToDoubleArray(), 2e-6, 1e-6, $"sm3 matrix after step {k}");
            Assert.Equal(Shape.Scalar, ((Tensor)p[1]!).Shape);
            Check.Close(new[] { xs }, ((Tensor)p[1]!).ToDoubleArray(), 2e-6, 1e-6, $"sm3 scalar after step {k}");
        }
    }

    static Tensor ToTensor(double[,] a) => Tensor.FromArray(a.Cast<double>().Select(v => (float)v).ToArray(), a.GetLength(0), a.GetLength(1));

    [Fact]
    public void StateLayoutsMatchJax()
    {
        var p = Tree2(A0, B0);
        Assert.Equal(new[] { 1, 1 }, Optimizers.Sgd(0.1).Init(p).PackedState.Select(s => s.Count));
        Assert.Equal(new[] { 2, 2 }, Optimizers.Momentum(0.1, 0.9).Init(p).PackedState.Select(s => s.Count));
        Assert.Equal(new[] { 3, 3 }, Optimizers.Adam(0.1).Init(p).PackedState.Select(s => s.Count));
        // SM3: x (at least 1-D), m, one accumulator per axis.
        var sm3 = Optimizers.Sm3(0.1).Init(new object?[] { Tensor.Zeros(new Shape(2, 3)), Tensor.Scalar(1) });
        Assert.Equal(new[] { 4, 3 }, sm3.PackedState.Select(s => s.Count));
        Assert.Equal(new Shape(1), sm3.PackedState[1][0].Shape);
    }

    [Fact]
    public void UpdateRejectsMismatchedGradients()
    {
        var opt = Optimizers.Adam(0.1);
        var st = opt.Init(Tree2(A0, B0));
        var wrong = new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(new Shape(4)), ["c"] = Tensor.Scalar(0) };
        Check.Throws<ArgumentException>(() => opt.Update(0, wrong, st), "adam update", "gradient tree");
        var badShape = new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(new Shape(5)), ["b"] = Tensor.Scalar(0) };
        Check.Throws<ArgumentException>(() => opt.Update(0, badShape, st), "adam update", "shape (5,)", "(4,)");
        Check.Throws<ArgumentException>(() => opt.Update(Tensor.Zeros(new Shape(2)), Grads(0), st), "adam update", "scalar");
    }

    [Fact]
    public void L2NormAndClipGrads()
    {
        var t = Tree2(new[] { 3.0, 0, 0, 0 }, 4.0);          // norm 5
        Check.Close(new[] { 5.0 }, Optimizers.L2Norm(t).ToDoubleArray(), 1e-7);
        var clipped = Optimizers.ClipGrads(t, 1.0);
        Check.Close(new[] { 0.6, 0, 0, 0 }, clipped["a"].ToDoubleArray(), 1e-6);
        Check.Close(new[] { 0.8 }, clipped["b"].ToDoubleArray(), 1e-6);
        var same = Optimizers.ClipGrads(t, 10.0);             // below the max: unchanged
        Check.Close(new[] { 3.0, 0, 0, 0 }, same["a"].ToDoubleArray());
        Check.Close(new[] { 5.0 }, Optimizers.L2Norm(Optimizers.ClipGrads(t, 5.0)).ToDoubleArray(), 1e-6); // at the max
    }

    // ---------------------------------------------------------------- convergence

    public static IEnumerable<object[]> AllOptimizers() => new[]
    {
        new object[] { "sgd", 150 }, new object[] { "momentum", 150 }, new object[] { "nesterov", 150 },
        new object[] { "adagrad", 200 }, new object[] { "rmsprop", 300 }, new object[] { "rmsprop_momentum", 200 },
        new object[] { "adam", 200 }, new object[] { "adamax", 200 }, new object[] { "sm3", 200 },
    };

    static Optimizer Make(string name) => name switch
    {
        "sgd" => Optimizers.Sgd(0.1),
        "momentum" => Optimizers.Momentum(0.05, 0.9),
        "nesterov" => Optimizers.Nesterov(0.05, 0.9),
        "adagrad" => Optimizers.Adagrad(0.5),
        "rmsprop" => Optimizers.Rmsprop(Schedules.PolynomialDecay(0.05, 250, 1e-4)),
        "rmsprop_momentum" => Optimizers.RmspropMomentum(Schedules.PolynomialDecay(0.02, 200, 1e-4)),
        "adam" => Optimizers.Adam(Schedules.ExponentialDecay(0.2, 50, 0.5)),
        "adamax" => Optimizers.Adamax(Schedules.ExponentialDecay(0.3, 50, 0.5)),
        "sm3" => Optimizers.Sm3(0.5),
        _ => throw new ArgumentException(name),
    };

    /// <summary>A quadratic bowl f(x) = Σ c_i (x_i - t_i)² with minimum 0; each optimizer gets below 1e-3 within the given steps.</summary>
    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void ConvergesOnAQuadraticBowl(string name, int steps)
    {
        var c = Tensor.FromArray(new[] { 1f, 2f, 0.5f, 3f }, 4);
        var t = Tensor.FromArray(new[] { 1f, -1f, 2f, 0.5f }, 4);
        Tensor Loss(Dictionary<string, Tensor> p) => Np.Sum(c * (p["x"] - t) * (p["x"] - t)) + (p["y"] - 2) * (p["y"] - 2);
        var grad = Transforms.Grad<Dictionary<string, Tensor>>(Loss);
        var opt = Make(name);
        var st = opt.Init(new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(new Shape(4)), ["y"] = Tensor.Scalar(0) });
        double start = Loss(opt.GetParams<Dictionary<string, Tensor>>(st)).Item<float>();
        for (int i = 0; i < steps; i++) st = opt.Update(i, grad(opt.GetParams<Dictionary<string, Tensor>>(st)), st);
        double end = Loss(opt.GetParams<Dictionary<string, Tensor>>(st)).Item<float>();
        Assert.Equal(9.75, start, 4);                 // 1 + 2·1 + 0.5·4 + 3·0.25 + 4
        Assert.True(end < 1e-3, $"{name}: loss {end} after {steps} steps (start {start})");
    }

    [Fact]
    public void AdamFitsALinearRegression()
    {
        // y = X w* + b* exactly; MSE must fall below 1e-4 within 300 Adam steps.
        var x = TestData.Tensor(3, new[] { 64, 3 }, lo: -1, hi: 1);
        var wTrue = Tensor.FromArray(new[] { 1.5f, -2f, 0.5f }, 3, 1);
        var y = Np.Matmul(x, wTrue) + 0.7;
        Tensor Loss(Dictionary<string, Tensor> p) => Losses.MeanSquaredError(Np.Matmul(x, p["w"]) + p["b"], y);
        var vg = Transforms.ValueAndGrad<Dictionary<string, Tensor>>(Loss);
        var (init, update, getParams) = Optimizers.Adam(0.05);
        var st = init(new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(new Shape(3, 1)), ["b"] = Tensor.Zeros(new Shape(1)) });
        double first = double.NaN, last = double.NaN;
        for (int i = 0; i < 300; i++)
        {
            var (v, g) = vg((Dictionary<string, Tensor>)getParams(st)!);
            if (i == 0) first = v.Item<float>();
            last = v.Item<float>();
            st = update(i, g, st);
        }
        Assert.True(first > 0.5, $"initial loss {first}");
        Assert.True(last < 1e-4, $"loss after 300 steps {last}");
        var w = ((Dictionary<string, Tensor>)getParams(st)!)["w"];
        Check.Close(new[] { 1.5, -2, 0.5 }, w.ToDoubleArray(), 0, 0.02);
    }

    // ---------------------------------------------------------------- jit

    [Fact]
    public void JittedTrainStepEqualsEagerAndTracesOnce()
    {
        var x = TestData.Tensor(5, new[] { 16, 3 }, lo: -1, hi: 1);
        var y = TestData.Tensor(6, new[] { 16, 1 }, lo: -1, hi: 1);
        static Tensor Loss(Dictionary<string, Tensor> p, Tensor x, Tensor y) => Losses.MeanSquaredError(Np.Tanh(Np.Matmul(x, p["w"]) + p["b"]), y);
        var opt = Optimizers.Adam(Schedules.PiecewiseConstant(new double[] { 1 }, new[] { 0.1, 0.05 }));
        OptState Step(Tensor i, OptState st, Tensor xb, Tensor yb)
        {
            var g = Transforms.Grad<Dictionary<string, Tensor>>(p => Loss(p, xb, yb))(opt.GetParams<Dictionary<string, Tensor>>(st));
            return opt.Update(i, g, st);
        }
        var (jitted, info) = Transforms.JitWithInfo<object?[], OptState>(a => Step((Tensor)a[0]!, (OptState)a[1]!, (Tensor)a[2]!, (Tensor)a[3]!));
        var p0 = new Dictionary<string, Tensor> { ["w"] = TestData.Tensor(7, new[] { 3, 1 }, lo: -0.5, hi: 0.5), ["b"] = Tensor.Zeros(new Shape(1)) };
        var eager = opt.Init(p0);
        var jit = opt.Init(p0);
        for (int i = 0; i < 3; i++)
        {
            eager = Step(Tensor.Scalar(i, DType.Int32), eager, x, y);
            jit = jitted(new object?[] { Tensor.Scalar(i, DType.Int32), jit, x, y });
            for (int l = 0; l < 2; l++)
                for (int k = 0; k < 3; k++)
                    Check.Close(eager.PackedState[l][k].ToDoubleArray(), jit.PackedState[l][k].ToDoubleArray(), 1e-6, 1e-7, $"step {i} leaf {l} slot {k}");
        }
        Assert.Equal(1, info.TraceCount);
        Assert.Equal(eager.TreeDef, jit.TreeDef);
    }

    // ---------------------------------------------------------------- pack / unpack

    [Fact]
    public void UnpackGivesAPathAddressableTreeAndPackRoundTrips()
    {
        var opt = Optimizers.Adam(0.1);
        var st = opt.Init(Tree2(A0, B0));
        st = opt.Update(0, Grads(0), st);
        st = opt.Update(1, Grads(1), st);
        var unpacked = Optimizers.UnpackOptimizerState(st);
        var d = Assert.IsType<Dictionary<string, object?>>(unpacked, exactMatch: false);
        var ja = Assert.IsType<JoinPoint>(d["a"]);
        Assert.Equal(3, ((object?[])ja.Subtree!).Length);
        var paths = Tree.Paths(unpacked).Select(p => p.ToString()).ToArray();
        Assert.Equal(6, paths.Length);
        Assert.Contains(paths, p => p.Contains("\"a\"") && p.Contains("subtree") && p.EndsWith("[1]"));
        var repacked = Optimizers.PackOptimizerState(unpacked);
        Assert.Equal(st.TreeDef, repacked.TreeDef);
        Assert.Equal(st.SubtreeDefs, repacked.SubtreeDefs);
        for (int l = 0; l < 2; l++)
            for (int k = 0; k < 3; k++)
                Assert.Same(st.PackedState[l][k], repacked.PackedState[l][k]);
        // Continuing from the repacked state gives the same parameters.
        var a = opt.GetParams<Dictionary<string, Tensor>>(opt.Update(2, Grads(2), st));
        var b = opt.GetParams<Dictionary<string, Tensor>>(opt.Update(2, Grads(2), repacked));
        Assert.Equal(a["a"].ToDoubleArray(), b["a"].ToDoubleArray());
        Assert.Equal(a["b"].ToDoubleArray(), b["b"].ToDoubleArray());
    }

    [Fact]
    public void PackUnpackRoundTripsSm3WithStaticShapesAndNestedParams()
    {
        var opt = Optimizers.Sm3(0.1);
        var ps = new object?[] { Tree2(A0, B0), Tensor.Ones(new Shape(2, 2)) };
        var st = opt.Init(ps);
        st = opt.Update(0, new object?[] { Grads(0), Tensor.Ones(new Shape(2, 2)) }, st);
        // Rebuild from new leaves (as a checkpoint load would): same structure, copied tensors.
        var unpacked = Optimizers.UnpackOptimizerState(st);
        var (leaves, def) = Tree.Flatten(unpacked);
        var copies = leaves.Select(t => Tensor.FromBytes(t.ToBytes(), t.Shape, t.DType)).ToArray();
        var repacked = Optimizers.PackOptimizerState(Tree.Unflatten(def, copies));
        Assert.Equal(st.TreeDef, repacked.TreeDef);
        Assert.Equal(st.SubtreeDefs, repacked.SubtreeDefs);
        var p = (object?[])opt.GetParams(repacked)!;
        Assert.Equal(Shape.Scalar, ((Dictionary<string, Tensor>)p[0]!)["b"].Shape);
        Assert.Equal(((Tensor)((object?[])opt.GetParams(st)!)[1]!).ToDoubleArray(), ((Tensor)p[1]!).ToDoubleArray());
    }

    [Fact]
    public void OptStateFlattensAsATree()
    {
        var opt = Optimizers.Momentum(0.1, 0.9);
        var st = opt.Init(Tree2(A0, B0));
        var (leaves, def) = Tree.Flatten(st);
        Assert.Equal(4, leaves.Length);
        var back = Tree.Unflatten<OptState>(def, leaves);
        Assert.Equal(st.TreeDef, back.TreeDef);
        Assert.Equal(st.SubtreeDefs, back.SubtreeDefs);
        // A different parameter structure gives a different (static) structure: Jit retraces.
        var other = opt.Init(new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(new Shape(4)) });
        Assert.NotEqual(def, Tree.Structure(other));
    }

    [Fact]
    public void PackRejectsTensorsOutsideJoinPoints()
    {
        var bad = new Dictionary<string, object?> { ["a"] = new JoinPoint(new object?[] { Tensor.Scalar(1) }), ["b"] = Tensor.Scalar(2) };
        Check.Throws<ArgumentException>(() => Optimizers.PackOptimizerState(bad), "PackOptimizerState", "JoinPoint", "\"b\"");
    }

    sealed record Linear(Tensor W, Tensor B);

    [Fact]
    public void PackRestoresListsAndRegisteredRecords()
    {
        Tree.Register<Linear>(l => (new object?[] { l.W, l.B }, new[] { "w", "b" }), c => new Linear((Tensor)c[0]!, (Tensor)c[1]!));
        var ps = new object?[] { new List<Tensor> { Tensor.Ones(new Shape(2)), Tensor.Scalar(1) }, new Linear(Tensor.Ones(new Shape(2, 2)), Tensor.Zeros(new Shape(2))) };
        var opt = Optimizers.Momentum(0.1, 0.9);
        var st = opt.Init(ps);
        var unpacked = (object?[])Optimizers.UnpackOptimizerState(st)!;
        Assert.IsType<object?[]>(unpacked[0]);                               // List<Tensor> cannot hold JoinPoints
        var lin = Assert.IsType<object?[]>(unpacked[1]);                     // nor can Linear (field order w, b kept)
        Assert.Equal(typeof(Linear), Assert.IsType<JoinPoint>(lin[0]).ContainerType);
        Assert.Equal(new Shape(2, 2), ((Tensor)((object?[])((JoinPoint)lin[0]!).Subtree!)[0]!).Shape);
        var repacked = Optimizers.PackOptimizerState(unpacked);
        Assert.Equal(st.TreeDef, repacked.TreeDef);
        var back = (object?[])opt.GetParams(repacked)!;
        Assert.IsType<List<Tensor>>(back[0]);
        Assert.IsType<Linear>(back[1]);
        // An explicit structure is used as given and must have one leaf per join point.
        Assert.Equal(st.TreeDef, Optimizers.PackOptimizerState(unpacked, Tree.Structure(ps)).TreeDef);
        Check.Throws<ArgumentException>(() => Optimizers.PackOptimizerState(unpacked, Tree.Structure(new object?[] { Tensor.Scalar(1) })), "PackOptimizerState", "1 leaves", "4 join points");
    }

    public static IEnumerable<object[]> LowPrecision() => new[] { new object[] { DType.Float16 }, new object[] { DType.BFloat16 } };

    [Theory]
    [MemberData(nameof(LowPrecision))]
    public void UpdatesKeepTheParameterDType(DType dtype)
    {
        var p = new Dictionary<string, Tensor> { ["w"] = Tensor.Full(new Shape(3), 1.0, dtype) };
        var g = new Dictionary<string, Tensor> { ["w"] = Tensor.Full(new Shape(3), 0.5, dtype) };
        foreach (var name in new[] { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "rmsprop_momentum", "adam", "adamax", "sm3" })
        {
            var opt = Make(name);
            var st = opt.Update(1, g, opt.Update(0, g, opt.Init(p)));
            var w = opt.GetParams<Dictionary<string, Tensor>>(st)["w"];
            Assert.Equal(dtype, w.DType);
            Assert.All(w.ToDoubleArray(), v => Assert.True(v < 1 && v > 0, $"{name}: {v}"));
        }
    }
}
