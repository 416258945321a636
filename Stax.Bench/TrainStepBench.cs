using BenchmarkDotNet.Attributes;
using Stax;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Bench;

/// <summary>
/// The comparison's train-step workloads (docs/performance.md): a jitted, donating Adam train step of the MLP
/// 784-512-512-10 (batch 128) and of the small MNIST CNN (batch 64), as examples/Mnist runs them.
/// </summary>
[MemoryDiagnoser]
public class TrainStepBench
{
    [Params(1, 2)] public int Threads;

    TrainStep _mlp = null!, _cnn = null!;

    [GlobalSetup]
    public void Setup()
    {
        Config.NumThreads = Threads;
        _mlp = TrainStep.Mlp();
        _cnn = TrainStep.Cnn();
        for (int i = 0; i < 3; i++) { _mlp.Run(); _cnn.Run(); }
    }

    /// <summary>One MLP train step (loss read back, as a training loop does).</summary>
    [Benchmark]
    public float MlpStep() => _mlp.Run();

    /// <summary>One CNN train step.</summary>
    [Benchmark]
    public float CnnStep() => _cnn.Run();
}

/// <summary>A jitted Adam step that donates its optimizer state (shared with the tests' shape of workload).</summary>
public sealed class TrainStep
{
    readonly JitFunction _step;
    readonly int _nState;
    readonly Tensor _x, _y;
    readonly Tensor[] _state;
    int _k;

    TrainStep(Module model, int batch, int[] inputShape, int seed)
    {
        var rng = new Random(seed);
        var xs = new float[batch * inputShape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)rng.NextDouble();
        _x = Tensor.FromArray(xs, new[] { batch }.Concat(inputShape).ToArray());
        _y = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray());
        var (_, parameters) = model.Initialize(Rng.Key(seed), new AbstractValue(_x.Shape, DType.Float32));
        var adam = Optimizers.Adam(1e-3);
        var opt = adam.Init(parameters);
        var flat = Tree.Flatten(opt);
        var def = flat.Def;
        _nState = flat.Leaves.Length;
        _state = flat.Leaves.ToArray();
        int n = _nState;
        _step = Transforms.Jit((Tensor[] a) =>
        {
            var state = Tree.Unflatten<OptState>(def, a[..n]);
            var (x, y, step) = (a[n], a[n + 1], a[n + 2]);
            var p = adam.GetParams(state)!;
            var (loss, grads) = Transforms.ValueAndGrad((object q) => Losses.SoftmaxCrossEntropy(model.Apply(q, x, training: true), y))(p);
            var newState = adam.Update(step, grads, state);
            return Tree.Flatten(newState).Leaves.Append(loss).ToArray();
        }, "train_step", Enumerable.Range(0, n).ToArray());
    }

    /// <summary>The MLP of the peers: 784-512-512-10, ReLU, batch 128 unless given.</summary>
    public static TrainStep Mlp(int seed = 0, int batch = 128) => new(Serial(Dense(512), Relu, Dense(512), Relu, Dense(10)), batch, new[] { 784 }, seed);

    /// <summary>The CNN of the peers: conv3x3(32)-conv3x3(64)-maxpool2-fc128-fc10 on 28x28x1, batch 64.</summary>
    public static TrainStep Cnn(int seed = 0, int batch = 64) => new(Serial(Conv(32, new[] { 3, 3 }), Relu, Conv(64, new[] { 3, 3 }), Relu,
        MaxPool(new[] { 2, 2 }, strides: new[] { 2, 2 }), Flatten, Dense(128), Relu, Dense(10)), batch, new[] { 28, 28, 1 }, seed);

    /// <summary>The current optimizer state leaves.</summary>
    public Tensor[] State => _state;

    /// <summary>The jitted step.</summary>
    public JitFunction Function => _step;

    /// <summary>Runs one step (donating the old state) and returns the loss.</summary>
    public float Run() => Launch().Item<float>();

    /// <summary>Starts one step (donating the old state) and returns the loss without reading it
    /// (on an asynchronous backend the step may still be running).</summary>
    public Tensor Launch() => Launch(Tensor.Scalar(_k++, DType.Int32));

    /// <summary>Starts one step with <paramref name="stepNumber"/> as Adam's step count. The argument
    /// array and the state array are reused, so the loop itself allocates nothing but its arguments.</summary>
    public Tensor Launch(Tensor stepNumber)
    {
        var args = _args ??= new Tensor[_nState + 3];
        Array.Copy(_state, args, _nState);
        args[_nState] = _x;
        args[_nState + 1] = _y;
        args[_nState + 2] = stepNumber;
        var outs = _step.Call(args);
        Array.Clear(args); // holds no donated tensors between steps
        Array.Copy(outs, _state, _nState);
        return outs[_nState];
    }

    Tensor[]? _args;

    /// <summary>The step as a <see cref="JitLoop"/>: the state moves into the loop (fed back, donated) and
    /// this object's own <see cref="Run"/> can no longer be used. Argument <see cref="StepArgument"/> is
    /// Adam's step count; result <see cref="State"/>.Length is the loss.</summary>
    public JitLoop Loop()
        => _step.Loop(_state.Concat(new[] { _x, _y, Tensor.Scalar(0, DType.Int32) }).ToArray(),
            Enumerable.Range(0, _nState).ToArray());

    /// <summary>The argument position of the step number.</summary>
    public int StepArgument => _nState + 2;
}

/// <summary>A jitted chain of elementwise operations on 1M float32 (one pass over memory once fused).</summary>
[MemoryDiagnoser]
public class ElementwiseChainBench
{
    [Params(1, 2)] public int Threads;

    Tensor _a = null!, _b = null!;
    JitFunction _chain = null!;

    [GlobalSetup]
    public void Setup()
    {
        Config.NumThreads = Threads;
        var rng = new Random(1);
        _a = Tensor.FromArray(Enumerable.Range(0, 1 << 20).Select(_ => (float)rng.NextDouble()).ToArray(), 1 << 20);
        _b = Tensor.FromArray(Enumerable.Range(0, 1 << 20).Select(_ => (float)rng.NextDouble()).ToArray(), 1 << 20);
        _chain = Transforms.Jit((Tensor[] x) => new[] { Chain(x[0], x[1]) }, "chain");
        _chain.Call(new[] { _a, _b });
    }

    /// <summary>exp(a * 2 + b) * 0.5 - tanh(a) then max with 0: eight elementwise operations.</summary>
    public static Tensor Chain(Tensor a, Tensor b) => Np.Maximum(Lax.Exp(a * 2.0 + b) * 0.5 - Lax.Tanh(a), 0.0);

    /// <summary>The jitted chain.</summary>
    [Benchmark]
    public Tensor JitChain() => _chain.Call(new[] { _a, _b })[0];

    /// <summary>The same chain eagerly (one kernel and one 4 MB buffer per operation).</summary>
    [Benchmark(Baseline = true)]
    public Tensor EagerChain() => Chain(_a, _b);
}
