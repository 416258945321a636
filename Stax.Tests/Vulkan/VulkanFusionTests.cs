using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;
using static Stax.Nn.Layers;

namespace Stax.Tests.Vulkan;

/// <summary>
/// Fusion of elementwise chains in compiled Vulkan programs (specialized kernels): train steps give
/// the CPU's results fused and unfused, within the dispatch counts fusion reaches (structural
/// bounds: the same layers at any size record the same dispatches), chains with masks, select,
/// int32 arithmetic and conversions give the bits of separate dispatches, and one chain signature
/// compiles one pipeline.
/// </summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanFusionTests
{
    /// <summary>A jitted Adam step (donating its state) of a model on fixed data, on one backend.</summary>
    sealed class Step
    {
        readonly JitFunction _step;
        readonly int _n;
        readonly Tensor _x, _y;
        readonly Stax.Backends.IBackend _backend;
        public Tensor[] State;
        int _k;

        public Step(Stax.Backends.IBackend backend, Module model, int batch, int[] inputShape)
        {
            _backend = backend;
            var rng = new Random(5);
            int features = inputShape.Aggregate(1, (a, b) => a * b);
            _x = Tensor.FromArray(Enumerable.Range(0, batch * features).Select(_ => (float)rng.NextDouble()).ToArray(),
                                  new[] { batch }.Concat(inputShape).ToArray()).DevicePut(backend);
            _y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => i % 10).ToArray()).DevicePut(backend);
            var (_, p) = model.Initialize(Rng.Key(1), new AbstractValue(_x.Shape, DType.Float32));
            var adam = Optimizers.Adam(1e-2);
            var flat = Tree.Flatten(adam.Init(Tree.Map(t => t.DevicePut(backend), p)));
            var def = flat.Def;
            State = flat.Leaves.ToArray();
            int n = _n = State.Length;
            _step = Transforms.Jit((Tensor[] a) =>
            {
                var state = Tree.Unflatten<OptState>(def, a[..n]);
                var (x, y, step) = (a[n], a[n + 1], a[n + 2]);
                var prm = adam.GetParams(state)!;
                var (loss, grads) = Transforms.ValueAndGrad(
                    (object q) => Losses.SoftmaxCrossEntropy(model.Apply(q, x, training: true), y))(prm);
                return Tree.Flatten(adam.Update(step, grads, state)).Leaves.Append(loss).ToArray();
            }, "fusion_step", Enumerable.Range(0, n).ToArray());
        }

        public Tensor Launch()
        {
            var outs = _step.Call(State.Concat(new[] { _x, _y, Tensor.Scalar(_k++, DType.Int32).DevicePut(_backend) }).ToArray());
            State = outs[.._n];
            return outs[_n];
        }
    }

    static Module Mlp() => Serial(Dense(24), Relu, Dense(24), Relu, Dense(10));

    static Module Cnn() => Serial(Conv(4, new[] { 3, 3 }), Relu, Conv(8, new[] { 3, 3 }), Relu,
        MaxPool(new[] { 2, 2 }, strides: new[] { 2, 2 }), Flatten, Dense(16), Relu, Dense(10));

    // Three steps fused, unfused and on the CPU: losses and the final state agree; returns the
    // fused step's dispatches (the last step's) and checks one submission per step.
    static long FusedUnfusedCpu(Func<Module> model, int batch, int[] inputShape)
    {
        var vk = VulkanCheck.Vk;
        var cpu = new Step(Stax.Backends.Cpu.CpuBackend.Instance, model(), batch, inputShape);
        var fused = new Step(vk, model(), batch, inputShape);
        var unfused = new Step(vk, model(), batch, inputShape);
        long dispatches = 0;
        for (int s = 0; s < 3; s++)
        {
            var lc = cpu.Launch().Item<float>();
            vk.Synchronize();
            var (d0, s0) = vk.CommandCounts;
            vk.FusionOverride = true;
            Tensor lf;
            try { lf = fused.Launch(); }
            finally { vk.FusionOverride = null; }
            var (d1, s1) = vk.CommandCounts;
            Assert.Equal(1, s1 - s0);
            dispatches = d1 - d0;
            vk.FusionOverride = false;
            Tensor lu;
            try { lu = unfused.Launch(); }
            finally { vk.FusionOverride = null; }
            Check.Close(new double[] { lc }, new double[] { lf.Item<float>() }, 1e-4, 1e-5, $"fused loss, step {s}");
            Check.Close(new double[] { lc }, new double[] { lu.Item<float>() }, 1e-4, 1e-5, $"unfused loss, step {s}");
        }
        for (int i = 0; i < cpu.State.Length; i++)
        {
            Check.Close(cpu.State[i].ToDoubleArray(), fused.State[i].ToDoubleArray(), 1e-4, 1e-5, $"fused state {i}");
            Check.Close(cpu.State[i].ToDoubleArray(), unfused.State[i].ToDoubleArray(), 1e-4, 1e-5, $"unfused state {i}");
        }
        return dispatches;
    }

    [VulkanFact]
    public void AnMlpStepFusedAndUnfusedMatchesTheCpuInAtMost40Dispatches()
    {
        // The bench's MLP (784-512-512-10, batch 128) has this structure and records the same
        // dispatches (39): 8 products, 8 reductions, gather and scatter-add, 4 single elementwise
        // ops of the loss, and 17 fused chains (layers, ReLU masks recomputed in the backward
        // chains, the labels' int32 index arithmetic, Adam).
        long d = FusedUnfusedCpu(Mlp, 32, new[] { 20 });
        Assert.InRange(d, 20, 40);
    }

    [VulkanFact]
    public void ACnnStepFusedAndUnfusedMatchesTheCpuInAtMost60Dispatches()
    {
        long d = FusedUnfusedCpu(Cnn, 4, new[] { 10, 10, 1 });
        Assert.InRange(d, 30, 60);
    }

    static Tensor[] MaskedChain(Tensor[] a)
    {
        // A ReLU mask read after a reduction (so its reader recomputes it), int32 arithmetic
        // with a comparison feeding select, and conversions from int32 and bool.
        var x = a[0]; var k = a[1];
        var z = x * 1.5 - 0.25;
        var mask = Lax.Gt(z, Np.ZerosLike(z));
        var act = Np.Maximum(z, 0.0);
        var rows = Lax.ReduceSum(act, 1);
        var g = Lax.Select(mask, Lax.BroadcastInDim(rows, z.Shape, new[] { 0 }), Np.ZerosLike(z));
        var i = k * Np.FullLike(k, 3) - Np.FullLike(k, 7);
        var j = Lax.Select(Lax.Lt(i, Np.ZerosLike(i)), i + Np.FullLike(k, 10), i);
        var scale = Lax.ConvertElementType(Lax.BroadcastInDim(j, z.Shape, new[] { 1 }), DType.Float32);
        var sign = Lax.ConvertElementType(Lax.Lt(x, Np.ZerosLike(x)), DType.Float32);
        return new[] { g * scale - sign, act };
    }

    [VulkanFact]
    public void ChainsWithMasksSelectInt32AndConversionsGiveTheBitsOfSeparateDispatches()
    {
        var vk = VulkanCheck.Vk;
        var args = VulkanCheck.Put(TestData.Tensor(21, new[] { 9, 7 }), Tensor.FromArray(new[] { 0, 1, 2, 3, -4, 5, 6 }));
        var eager = MaskedChain(args);
        vk.Synchronize();
        var (d0, _) = vk.CommandCounts;
        Tensor[] jitted;
        vk.FusionOverride = true;
        try { jitted = Transforms.Jit(MaskedChain, "masked_chain").Call(args); }
        finally { vk.FusionOverride = null; }
        vk.Synchronize();
        var (d1, _) = vk.CommandCounts;
        for (int i = 0; i < eager.Length; i++) VulkanCheck.SameBits(eager[i], jitted[i], 0, $"fused chain output {i}");
        Assert.DoesNotContain(vk.LastCompiled!.StepNames,
            n => n.StartsWith("gt ", StringComparison.Ordinal) || n.StartsWith("lt ", StringComparison.Ordinal));
        // The int32 label-style chain, the forward chain, the row sum (one or two passes) and the
        // backward chain that recomputes the mask: no dispatch writes the bool mask.
        Assert.InRange(d1 - d0, 3, 5);
    }

    [VulkanFact]
    public void OneChainSignatureCompilesOnePipeline()
    {
        var vk = VulkanCheck.Vk;
        // A chain no other test uses: the same signature at two sizes shares one pipeline.
        static Tensor[] F(Tensor[] a) => new[] { Np.Minimum(Np.Abs(a[0] * 0.375 + a[1]), a[1] - 0.625) };
        int before = vk.Pipelines.Created("fused_s").Count;
        vk.FusionOverride = true;
        try
        {
            foreach (int n in new[] { 33, 1000 })
            {
                var args = VulkanCheck.Put(TestData.Tensor(n, new[] { n }), TestData.Tensor(n + 1, new[] { n }));
                var r = Transforms.Jit(F, "signature").Call(args)[0];
                VulkanCheck.SameBits(F(args)[0], r, 0, $"n={n}");
            }
        }
        finally { vk.FusionOverride = null; }
        Assert.Equal(1, vk.Pipelines.Created("fused_s").Count - before);
    }
}
