using Stax.Backends.Cpu;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Tests.Performance;

/// <summary>
/// Managed allocation per jitted, donating train step on the CPU (docs/performance.md,
/// "Allocation per step"). Allocation counts are deterministic at one thread (every kernel runs
/// on the calling thread), so a bound on them is a unit test, unlike timings.
/// </summary>
[Collection("cpu-pool")]
public class AllocationPerStepTests
{
    /// <summary>A jitted Adam step of a model that donates its state (the first N arguments) and
    /// returns the new state and the loss; the arguments: state, x, y, step number.</summary>
    sealed class AdamStep
    {
        public readonly JitFunction Step;
        public readonly Tensor[] Args;
        public readonly int N;

        public AdamStep(Module model, int[] xShape, int seed)
        {
            var rng = new Random(seed);
            var xs = new float[xShape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < xs.Length; i++) xs[i] = (float)rng.NextDouble();
            var x = Tensor.FromArray(xs, xShape);
            var y = Tensor.FromArray(Enumerable.Range(0, xShape[0]).Select(i => i % 10).ToArray());
            var (_, parameters) = model.Initialize(Rng.Key(seed), new AbstractValue(x.Shape, DType.Float32));
            var adam = Optimizers.Adam(1e-3);
            var flat = Tree.Flatten(adam.Init(parameters));
            var def = flat.Def;
            int n = N = flat.Leaves.Length;
            Step = Transforms.Jit((Tensor[] a) =>
            {
                var state = Tree.Unflatten<OptState>(def, a[..n]);
                var (loss, grads) = Transforms.ValueAndGrad((object q) =>
                    Losses.SoftmaxCrossEntropy(model.Apply(q, a[n], training: true), a[n + 1]))(adam.GetParams(state)!);
                return Tree.Flatten(adam.Update(a[n + 2], grads, state)).Leaves.Append(loss).ToArray();
            }, "alloc_step", Enumerable.Range(0, n).ToArray());
            Args = flat.Leaves.Concat(new[] { x, y, Tensor.Scalar(1, DType.Int32) }).ToArray();
        }

        public JitLoop Loop() => Step.Loop(Args, Enumerable.Range(0, N).ToArray());
    }

    static AdamStep Mlp(int seed = 0) => new(Serial(Dense(64), Relu, Dense(64), Relu, Dense(10)), new[] { 32, 49 }, seed);

    // Conv + max pool + dense, small: the CNN step's kernels (rev of the kernel in the input
    // gradient, reduce_window_max, select_and_scatter_add).
    static AdamStep Cnn(int seed = 0) => new(Serial(Conv(8, new[] { 3, 3 }), Relu,
        MaxPool(new[] { 2, 2 }, strides: new[] { 2, 2 }), Flatten, Dense(16), Relu, Dense(10)), new[] { 8, 10, 10, 1 }, seed);

    // The best of up to 80 rounds of ten steps, stopping at the first round within the bound: a
    // round can pay for what the step does not do in steady state (tests before this one crowded
    // the buffer pool out of the step's array sizes; on a loaded machine the runtime's background
    // recompilation of the hot methods lags, and their first-tier code boxes where the optimized
    // code does not). A short pause between rounds lets that recompilation finish. Every tenth
    // round also collects: a step that allocates almost nothing never triggers a collection, so
    // objects that come back only when finalized (a dropped result's buffer object and array) stay
    // out of the pools; in a loop that allocates elsewhere too, collections return them.
    static long BytesPerStep(Action step, long bound)
    {
        for (int i = 0; i < 20; i++) step();
        long perStep = long.MaxValue;
        for (int round = 0; round < 80 && perStep > bound; round++)
        {
            if (round > 0) Thread.Sleep(25);
            if (round % 10 == 9)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                step();
            }
            const int steps = 10;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < steps; i++) step();
            perStep = Math.Min(perStep, (GC.GetAllocatedBytesForCurrentThread() - before) / steps);
        }
        return perStep;
    }

    static long Allocated(Func<object> make)
    {
        GC.KeepAlive(make());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var o = make();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(o);
        return bytes;
    }

    /// <summary>
    /// What a functional call of the step must return, measured on this runtime: the result array,
    /// one Tensor object per result, and for the loss (the one result that does not take over a
    /// donated argument's buffer object) a buffer object and its 4-byte array. The loop drops each
    /// step's loss, whose array returns to the pool only when the garbage collector finalizes it, so
    /// between collections the pool may have no free array of that size.
    /// </summary>
    static long ResultBytes(int results)
    {
        var scalar = (CpuBuffer)Tensor.Scalar(1f).Buffer!;
        var aval = new AbstractValue(Shape.Scalar, DType.Float32);
        var backend = CpuBackend.Instance;
        backend.Allocate(DType.Float32, 1).Release(); // a pooled array for the buffer object measured below
        return Allocated(() => new Tensor[results]) + results * Allocated(() => new Tensor(scalar, aval))
            + Allocated(() => backend.Allocate(DType.Float32, 1)) + Allocated(() => new byte[sizeof(float)]);
    }

    static long CallBytesPerStep(AdamStep s, long bound)
    {
        var args = s.Args;
        return BytesPerStep(() =>
        {
            var outs = s.Step.Call(args);
            Array.Copy(outs, args, s.N);
        }, bound);
    }

    [Fact]
    public void JittedAdamStepAllocatesOnlyItsResults()
    {
        using var threads = Config.UseThreads(1);
        var s = Mlp();
        long results = ResultBytes(s.N + 1), perStep = CallBytesPerStep(s, results);
        Assert.True(perStep <= results, $"{perStep} B allocated per jitted MLP step (its {s.N + 1} results: {results} B)");
        Assert.Equal(1, s.Step.TraceCount);
    }

    [Fact]
    public void JittedConvPoolStepAllocatesOnlyItsResults()
    {
        using var threads = Config.UseThreads(1);
        var s = Cnn();
        long results = ResultBytes(s.N + 1), perStep = CallBytesPerStep(s, results);
        Assert.True(perStep <= results, $"{perStep} B allocated per jitted CNN step (its {s.N + 1} results: {results} B)");
        Assert.Equal(1, s.Step.TraceCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void JitLoopStepAllocatesNothing(bool cnn)
    {
        using var threads = Config.UseThreads(1);
        var s = cnn ? Cnn() : Mlp();
        var loop = s.Loop();
        float sum = 0;
        long perStep = BytesPerStep(() =>
        {
            loop.Step();
            sum += loop.Item<float>(s.N);
        }, 0);
        Assert.True(perStep == 0, $"{perStep} B allocated per JitLoop step");
        Assert.True(float.IsFinite(sum));
    }

    [Fact]
    public void JitLoopGivesTheBitsOfCall()
    {
        using var threads = Config.UseThreads(1);
        foreach (var make in new Func<int, AdamStep>[] { Mlp, Cnn })
        {
            var plain = make(3);
            var looped = make(3);
            var loop = looped.Loop();
            var args = plain.Args;
            for (int step = 1; step <= 6; step++)
            {
                args[plain.N + 2] = Tensor.Scalar(step, DType.Int32);
                loop.SetArgument(looped.N + 2, Tensor.Scalar(step, DType.Int32));
                var outs = plain.Step.Call(args);
                Array.Copy(outs, args, plain.N);
                loop.Step();
                Assert.Equal(outs.Length, loop.ResultCount);
                Assert.Equal(BitConverter.SingleToInt32Bits(outs[plain.N].Item<float>()),
                    BitConverter.SingleToInt32Bits(loop.Item<float>(plain.N)));
                if (step % 2 == 0) // handing results out makes the loop allocate them anew; values unchanged
                    for (int j = 0; j < plain.N; j++)
                        Assert.Equal(outs[j].ToArray<float>().Select(BitConverter.SingleToInt32Bits),
                            loop.Result(j).ToArray<float>().Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Fact]
    public void JitLoopKeepsTheDonatedTensorErrorForWhatTheCallerHolds()
    {
        using var threads = Config.UseThreads(1);
        var s = Mlp(1);
        var first = s.Args[0];
        var loop = s.Loop();
        loop.Step();
        // The first call's state was the caller's: donated, as by Call.
        var e = Assert.Throws<InvalidOperationException>(() => first.ToArray<float>());
        Assert.Contains("donated to the jitted function 'alloc_step'", e.Message);

        var state0 = loop.Result(0);
        var loss = loop.Result(s.N);
        float lossValue = loss.Item<float>();
        float[] state0Value = state0.ToArray<float>();
        Assert.Equal(state0Value, loop.Result(0).ToArray<float>());
        loop.Step();
        loop.Step();
        // A handed-out result fed back is donated by the next call; one not fed back keeps its value.
        Assert.True(state0.IsDonated);
        Assert.Throws<InvalidOperationException>(() => state0.ToArray<float>());
        Assert.Equal(lossValue, loss.Item<float>());
        Assert.NotSame(loss, loop.Result(s.N));
        Assert.NotEqual(state0Value, loop.Result(0).ToArray<float>());
    }

    [Fact]
    public void JitLoopKeepsSharedAndPassedThroughResultsApart()
    {
        // Result 0 is fed back; result 1 is the (not donated) argument 1 itself; results 2 and 3 are
        // one value returned twice.
        var f = Transforms.Jit((Tensor[] a) =>
        {
            var sum = a[0].Sum();
            return new[] { a[0] + 1.0, a[1], sum, sum };
        }, "shared", 0);
        var x = Tensor.FromArray(new[] { 5f, 6f });
        var loop = f.Loop(new[] { Tensor.FromArray(new[] { 0f, 1f }), x }, 0);
        var sums = new List<Tensor>();
        for (int step = 0; step < 4; step++)
        {
            loop.Step();
            Assert.Same(x, loop.Result(1));
            Assert.Equal(2f * step + 1f, loop.Item<float>(2));   // (0 + step) + (1 + step)
            Assert.Equal(2f * step + 1f, loop.Item<float>(3));
            if (step % 2 == 0) sums.Add(loop.Result(3));
        }
        // The caller's argument and the handed-out results kept their values.
        Assert.Equal(new[] { 5f, 6f }, x.ToArray<float>());
        Assert.Equal(new[] { 1f, 5f }, sums.Select(t => t.Item<float>()));
    }

    [Fact]
    public void JitLoopRejectsFeedingAnArgumentThatIsNotDonated()
    {
        var f = Transforms.Jit((Tensor[] a) => new[] { a[0] + a[1] }, "acc", 0);
        var x = Tensor.FromArray(new[] { 1f, 2f });
        var e = Assert.Throws<ArgumentException>(() => f.Loop(new[] { x, x }, 1));
        Assert.Contains("argument 1 is fed back by result 0 but is not donated", e.Message);
        var loop = f.Loop(new[] { Tensor.FromArray(new[] { 1f, 2f }), x }, 0);
        Assert.Throws<InvalidOperationException>(() => loop.SetArgument(0, x));
        Assert.Throws<InvalidOperationException>(() => loop.Item<float>(0));
        for (int i = 0; i < 3; i++) loop.Step();
        Assert.Equal(new[] { 4f, 8f }, loop.Result(0).ToArray<float>()); // 1 + 3 * 1, 2 + 3 * 2
    }
}
