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
    [Fact]
    public void JittedAdamStepAllocatesOnlyItsResults()
    {
        using var threads = Config.UseThreads(1);
        var model = Serial(Dense(64), Relu, Dense(64), Relu, Dense(10));
        var x = Tensor.FromArray(new float[32 * 49].Select((_, i) => (i % 7) * 0.1f).ToArray(), 32, 49);
        var y = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => i % 10).ToArray());
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
        var adam = Optimizers.Adam(1e-3);
        var flat = Tree.Flatten(adam.Init(parameters));
        var def = flat.Def;
        int n = flat.Leaves.Length;
        var step = Transforms.Jit((Tensor[] a) =>
        {
            var state = Tree.Unflatten<OptState>(def, a[..n]);
            var (loss, grads) = Transforms.ValueAndGrad((object q) =>
                Losses.SoftmaxCrossEntropy(model.Apply(q, a[n], training: true), a[n + 1]))(adam.GetParams(state)!);
            return Tree.Flatten(adam.Update(a[n + 2], grads, state)).Leaves.Append(loss).ToArray();
        }, "alloc_step", Enumerable.Range(0, n).ToArray());

        // One argument array, refilled with each step's new state: the loop itself allocates nothing.
        var args = flat.Leaves.Concat(new[] { x, y, Tensor.Scalar(1, DType.Int32) }).ToArray();
        void Run()
        {
            var outs = step.Call(args);
            Array.Copy(outs, args, n);
        }
        for (int i = 0; i < 20; i++) Run();
        // The best of several rounds: tests running in parallel share the buffer pool, and a round
        // in which they crowded out this step's array sizes pays for new arrays.
        long perStep = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            const int steps = 10;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < steps; i++) Run();
            perStep = Math.Min(perStep, (GC.GetAllocatedBytesForCurrentThread() - before) / steps);
        }

        Assert.True(perStep <= Bound, $"{perStep} B allocated per jitted step (bound {Bound})");
        Assert.Equal(1, step.TraceCount);
    }

    // What a functional call must return: the result array and 20 Tensor objects (72 B each), and
    // a buffer object for the loss (the new state takes over the donated state's buffer objects):
    // about 1.7 KB. Everything else is recycled per program slot (buffer objects of intermediates
    // and donated arguments, kernel plans, operand arrays), so one closure, array or buffer
    // object per kernel call (~150 per step) would exceed the bound. Before: 22.1 KB per step.
    const long Bound = 2_000;
}
