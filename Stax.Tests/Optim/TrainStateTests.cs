using Stax.IO;
using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Optim;

/// <summary>TrainState as a tree, its update, and tree Jit with several arguments and donation.</summary>
public class TrainStateTests
{
    static Dictionary<string, Tensor> Params() => new()
    {
        ["w"] = Tensor.FromArray(new[] { 1.0, -2.0, 0.5 }),
        ["b"] = Tensor.FromArray(new[] { 0.25 }),
    };

    [Fact]
    public void IsATreeWithFlaxFieldNamesAndAStaticOptimizer()
    {
        var tx = Optax.Sgd(0.1);
        var s = TrainState.Create(Params(), tx, modelState: new Dictionary<string, Tensor> { ["mean"] = Tensor.Zeros(new Shape(2)) });
        var paths = Tree.Paths(s).Select(p => p.ToString()).ToArray();
        Assert.Equal(new[] { "step", "params[\"b\"]", "params[\"w\"]", "model_state[\"mean\"]" }, paths);
        Assert.Equal(0, s.Step.Item<int>());
        Assert.Equal(DType.Int32, s.Step.DType);
        var doubled = Tree.Map(t => t * 2, s);
        Assert.Same(tx, doubled.Tx);
        Assert.Equal(new[] { 2.0, -4, 1 }, ((Dictionary<string, Tensor>)doubled.Params!)["w"].ToDoubleArray());
        // Another optimizer instance is another structure (a static part of the tree).
        Assert.False(Tree.Structure(s).Equals(Tree.Structure(s with { Tx = Optax.Sgd(0.1) })));
    }

    [Fact]
    public void ApplyGradientsIsOneOptimizerUpdate()
    {
        // SGD with momentum 0.9 in double: m ← 0.9 m + g, p ← p − 0.1 m.
        var s = TrainState.Create(Params(), Optax.Sgd(0.1, momentum: 0.9));
        double[] p = { 1.0, -2.0, 0.5 }, m = new double[3];
        for (int step = 0; step < 3; step++)
        {
            var g = new[] { step + 1.0, 0.5 * step, -1.0 };
            s = s.ApplyGradients(new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(g), ["b"] = Tensor.FromArray(new[] { 0.0 }) });
            for (int i = 0; i < 3; i++) { m[i] = 0.9 * m[i] + g[i]; p[i] -= 0.1 * m[i]; }
        }
        Assert.Equal(3, s.Step.Item<int>());
        Numerics.Close(p, ((Dictionary<string, Tensor>)s.Params!)["w"].ToDoubleArray(), 1e-12, 1e-12, "params");
        var kept = s.ApplyGradients(Tree.Map(Np.ZerosLike, (Dictionary<string, Tensor>)s.Params!), "new state");
        Assert.Null(s.ModelState);
        Assert.Equal("new state", kept.ModelState);
    }

    [Fact]
    public void JittedStepWithBatchNormStateDropoutKeysAndDonation()
    {
        var model = Serial(Dense(8), BatchNorm(new[] { 0 }), Relu, Dropout(rate: 0.2), Dense(3));
        var x = TestData.Tensor(1, new[] { 16, 4 });
        var y = Np.Argmax(x[.., ..3], axis: -1);
        var (_, parameters, bn) = model.InitializeWithState(Rng.Key(0), x.Aval);
        var state = TrainState.Create(parameters, Optax.Adam(1e-2), bn);

        (TrainState, Tensor) Step(TrainState s, Tensor xb, Tensor yb, Key key)
        {
            var ((loss, stats), grads) = Transforms.ValueAndGrad((object p) =>
            {
                var (logits, newStats) = model.ApplyWithState(p, s.ModelState, xb, training: true, rng: Rng.FoldIn(key, s.Step));
                return (Losses.SoftmaxCrossEntropy((Tensor)logits, yb), newStats);
            }, hasAux: true)(s.Params!);
            return (s.ApplyGradients(grads, stats), loss);
        }

        // The eager step gives the reference values for the jitted one.
        var (eagerState, eagerLoss) = Step(state, x, y, Rng.Key(1));
        var step = Transforms.Jit<TrainState, Tensor, Tensor, Key, (TrainState, Tensor)>(Step, "train_step", donateArgnums: 0);
        var before = Tree.Leaves(state);
        var meanBefore = ((Dictionary<string, Tensor>)((object?[])bn!)[1]!)["mean"].ToDoubleArray();
        var (next, loss) = step(state, x, y, Rng.Key(1));
        Assert.Equal(eagerLoss.Item<float>(), loss.Item<float>(), 5);
        var el = Tree.Leaves(eagerState);
        var nl = Tree.Leaves(next);
        for (int i = 0; i < el.Length; i++) Numerics.Close(el[i].ToDoubleArray(), nl[i].ToDoubleArray(), 1e-5, 1e-6, Tree.Paths(next)[i].ToString());
        // Every leaf of the donated state is gone; the batch (not donated) is not.
        Assert.All(before, t => Assert.True(t.IsDonated));
        Assert.False(x.IsDonated);
        Check.Throws<InvalidOperationException>(() => before[1].ToDoubleArray(), "donated", "train_step");
        // BatchNorm's running mean moved; the step count advanced; more steps lower the loss.
        Assert.NotEqual(meanBefore, ((Dictionary<string, Tensor>)((object?[])next.ModelState!)[1]!)["mean"].ToDoubleArray());
        Assert.Equal(1, next.Step.Item<int>());
        double first = loss.Item<float>();
        for (int i = 0; i < 30; i++) (next, loss) = step(next, x, y, Rng.Key(1));
        Assert.Equal(31, next.Step.Item<int>());
        Assert.True(loss.Item<float>() < first * 0.7, $"loss {first} -> {loss.Item<float>()}");
    }

    [Fact]
    public void TreeJitTakesUpToSixArgumentsAndDonatesOnlyWhatIsNotKept()
    {
        var a = Tensor.FromArray(new[] { 1f, 2 });
        var b = Tensor.FromArray(new[] { 3f, 4 });
        var six = Transforms.Jit((Tensor p, Tensor q, Tensor r, Tensor s, Tensor t, Tensor u) => p + 2 * q + 3 * r + 4 * s + 5 * t + 6 * u);
        Assert.Equal(new[] { 21.0, 42 }, six(a, a, a, a, a, a).ToDoubleArray());
        var five = Transforms.Jit((Tensor p, Tensor q, Tensor r, Tensor s, Tensor t) => p * q * r * s * t);
        Assert.Equal(new[] { 1.0, 32 }, five(a, a, a, a, a).ToDoubleArray());
        var three = Transforms.Jit((Dictionary<string, Tensor> d, Tensor q, int n) => d["v"] * q + n, "three", donateArgnums: 0);
        // b is both in the donated dictionary and a kept argument: it stays usable.
        var dict = new Dictionary<string, Tensor> { ["v"] = b };
        Assert.Equal(new[] { 9.0 + 2, 16 + 2 }, three(dict, b, 2).ToDoubleArray());
        Assert.False(b.IsDonated);
        var c = Tensor.FromArray(new[] { 1f, 1 });
        three(new Dictionary<string, Tensor> { ["v"] = c }, a, 0);
        Assert.True(c.IsDonated);
        Assert.False(a.IsDonated);
        Check.Throws<ArgumentException>(() => Transforms.Jit((Tensor p, Tensor q) => p + q, "bad", donateArgnums: 2), "donate_argnums 2", "2 argument");
    }

    [Fact]
    public void CheckpointsRoundTripATrainState()
    {
        var state = TrainState.Create(Params(), Optax.Adam(1e-3)).ApplyGradients(Tree.Map(Np.OnesLike, Params()));
        var path = Path.Combine(Path.GetTempPath(), $"stax-trainstate-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, new Dictionary<string, object?> { ["state"] = state });
            var template = TrainState.Create(Params(), state.Tx);
            var restored = (TrainState)Checkpoint.Load(path, new Dictionary<string, object?> { ["state"] = template }).Trees["state"]!;
            Assert.Same(state.Tx, restored.Tx);
            Assert.Equal(1, restored.Step.Item<int>());
            var sl = Tree.Leaves(state);
            var rl = Tree.Leaves(restored);
            for (int i = 0; i < sl.Length; i++) Assert.Equal(sl[i].ToDoubleArray(), rl[i].ToDoubleArray());
        }
        finally { File.Delete(path); }
    }
}
