using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;
using static Stax.Nn.Layers;

namespace Stax.Tests.Vulkan;

/// <summary>
/// Compiled Vulkan programs: the commands are recorded once per program and replayed, each call is
/// one queue submission, results match the CPU backend, results handed out over a program's slots
/// survive later calls, and memory stays flat over many steps.
/// </summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanCompiledTests
{
    static double[] D(Tensor t) => t.ToDoubleArray();

    /// <summary>A jitted Adam step of an MLP with the comparison's structure (three Dense layers,
    /// ReLU, softmax cross-entropy), donating its optimizer state, as the bench and examples run it.</summary>
    internal sealed class AdamStep
    {
        readonly JitFunction _step;
        readonly int _n;
        readonly Tensor _x, _y;
        public Tensor[] State;
        public string Names = "";
        int _k;
        readonly Stax.Backends.IBackend _backend;

        public AdamStep(Stax.Backends.IBackend backend, int batch, int inputs, int hidden)
        {
            _backend = backend;
            var model = Serial(Dense(hidden), Relu, Dense(hidden), Relu, Dense(10));
            var rng = new Random(3);
            _x = Tensor.FromArray(Enumerable.Range(0, batch * inputs).Select(_ => (float)rng.NextDouble()).ToArray(), batch, inputs).DevicePut(backend);
            _y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => i % 10).ToArray()).DevicePut(backend);
            var (_, p) = model.Initialize(Rng.Key(0), new AbstractValue(_x.Shape, DType.Float32));
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
                var (loss, grads) = Transforms.ValueAndGrad((object q) => Losses.SoftmaxCrossEntropy(model.Apply(q, x, training: true), y))(prm);
                return Tree.Flatten(adam.Update(step, grads, state)).Leaves.Append(loss).ToArray();
            }, "adam_step", Enumerable.Range(0, n).ToArray());
        }

        public string? Why()
        {
            var c = _step.Lower(State.Concat(new[] { _x, _y, Tensor.Scalar(_k, DType.Int32).DevicePut(_backend) }).ToArray());
            var j = new Stax.Tracing.Jaxpr(Array.Empty<Stax.Tracing.Var>(), c.Jaxpr.ConstVars.Concat(c.Jaxpr.InVars).ToArray(), c.Jaxpr.Eqns, c.Jaxpr.OutVars);
            var exe = ((VulkanBackend)_backend).Compile(j);
            if (exe is CompiledExecutable ce) Names = string.Join("\n", ce.StepNames);
            return (exe as VulkanBackend.VulkanExecutable)?.Reason;
        }

        /// <summary>One step; returns the loss tensor without reading it.</summary>
        public Tensor Launch()
        {
            var outs = _step.Call(State.Concat(new[] { _x, _y, Tensor.Scalar(_k++, DType.Int32).DevicePut(_backend) }).ToArray());
            State = outs[.._n];
            return outs[_n];
        }
    }

    [VulkanFact]
    public void ATrainStepIsRecordedOnceAndIsOneSubmissionPerCallAndMatchesTheCpu()
    {
        var vk = VulkanCheck.Vk;
        var cpu = new AdamStep(Stax.Backends.Cpu.CpuBackend.Instance, 32, 20, 24);
        var gpu = new AdamStep(vk, 32, 20, 24);
        long rec0 = vk.ProgramRecordings;
        vk.FusionOverride = true; // fused whatever STAX_VULKAN_FUSION says
        try { Steps(vk, cpu, gpu, rec0); }
        finally { vk.FusionOverride = null; }
    }

    internal static void Steps(VulkanBackend vk, AdamStep cpu, AdamStep gpu, long rec0)
    {
        Assert.Null(gpu.Why());
        for (int s = 0; s < 5; s++)
        {
            vk.Synchronize();
            var (d0, s0) = vk.CommandCounts;
            var lg = gpu.Launch();
            var (d1, s1) = vk.CommandCounts;
            var lc = cpu.Launch();
            Assert.True(s1 - s0 == 1, $"step {s}: {s1 - s0} submissions");
            // Structural bound: 8 products (3 forward, 5 backward; the weight gradients' transposes
            // folded into them), 8 reductions (bias gradients, softmax max/sum, the loss), gather
            // and scatter-add of the labels, a few single scalar ops of the loss, and about 17 fused
            // chains (layers, ReLU masks recomputed by their readers, the labels' int32 index
            // arithmetic, one Adam chain per parameter leaf or two): 39. Unfused and interpreted,
            // the same step recorded about 300.
            if (s > 0) Assert.InRange(d1 - d0, 20, 40);
            Check.Close(new[] { (double)lc.Item<float>() }, new[] { (double)lg.Item<float>() }, 1e-4, 1e-5);
        }
        Assert.Equal(1, vk.ProgramRecordings - rec0);
        for (int i = 0; i < cpu.State.Length; i++)
        {
            Assert.Same(vk, gpu.State[i].Backend);
            Check.Close(D(cpu.State[i]), D(gpu.State[i]), 1e-4, 1e-5);
        }
    }

    static Tensor[] Chain(Tensor[] a)
    {
        // Rows and columns broadcast, a relu-style mask, a bool-to-float conversion, a comparison
        // feeding select, transcendental and division cases: each must give the unfused bits.
        var x = a[0]; var row = a[1]; var col = a[2];
        var y = Np.Exp(x * 2.0 + Lax.BroadcastInDim(row, x.Shape, new[] { 1 })) * 0.5 - Np.Tanh(x);
        var z = y / (Lax.BroadcastInDim(col, x.Shape, new[] { 0 }) + 3.0);
        var mask = Lax.ConvertElementType(Lax.Gt(x, Np.ZerosLike(x)), DType.Float32);
        var w = Lax.Select(Lax.Lt(z, y), Np.Sqrt(Np.Abs(z)), Np.Log1p(Np.Abs(y))) * mask;
        return new[] { Np.Maximum(w, 0.0), z };
    }

    [VulkanFact]
    public void FusedChainsGiveTheBitsOfSeparateDispatches()
    {
        var vk = VulkanCheck.Vk;
        var args = VulkanCheck.Put(TestData.Tensor(11, new[] { 37, 29 }), TestData.Tensor(12, new[] { 29 }), TestData.Tensor(13, new[] { 37 }));
        var eager = Chain(args);
        var (d0, _) = vk.CommandCounts;
        Tensor[] jitted;
        vk.FusionOverride = true;
        try { jitted = Transforms.Jit(Chain, "chain").Call(args); }
        finally { vk.FusionOverride = null; }
        vk.Synchronize();
        var (d1, _) = vk.CommandCounts;
        for (int i = 0; i < eager.Length; i++) VulkanCheck.SameBits(eager[i], jitted[i], 0, $"fused chain output {i}");
        Assert.InRange(d1 - d0, 1, 2); // one chain (the comparison feeding select stays in registers)
    }

    [VulkanFact]
    public void PoolMemoryStaysFlatOverManyDonatedSteps()
    {
        var vk = VulkanCheck.Vk;
        var gpu = new AdamStep(vk, 16, 12, 16);
        for (int s = 0; s < 10; s++) gpu.Launch().Item<float>();
        var (_, pooled0, _) = vk.MemoryStats;
        var (dBefore, sBefore) = vk.CommandCounts;
        for (int s = 0; s < 300; s++) gpu.Launch();
        float loss = gpu.Launch().Item<float>();
        var (dAfter, sAfter) = vk.CommandCounts;
        var (_, pooled1, _) = vk.MemoryStats;
        Assert.False(float.IsNaN(loss));
        // One submission per call; with staging (discrete GPUs) reading the loss copies it out in one more.
        Assert.Equal(vk.Staging == null ? 301 : 302, sAfter - sBefore);
        Assert.True(dAfter > dBefore);
        Assert.Equal(pooled0, pooled1);
    }

    [VulkanFact]
    public void ResultsKeptAcrossCallsKeepTheirValues()
    {
        var vk = VulkanCheck.Vk;
        var f = Transforms.Jit((Tensor[] a) => new[] { a[0] * 2.0 + a[1] }, "twice_plus", 0);
        var b = Tensor.FromArray(new float[] { 1, 1, 1, 1 }).DevicePut(vk);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }).DevicePut(vk);
        var r1 = f.Call(new[] { x, b })[0];                                  // 3 5 7 9
        var r2 = f.Call(new[] { Tensor.FromArray(new float[] { 10, 20, 30, 40 }).DevicePut(vk), b })[0]; // r1 is kept
        var r3 = f.Call(new[] { r2, b })[0];                                 // r2 donated back: in place
        var r4 = f.Call(new[] { r3, b })[0];
        Assert.Equal(new float[] { 3, 5, 7, 9 }, r1.ToArray<float>());
        Assert.Equal(new float[] { 87, 167, 247, 327 }, r4.ToArray<float>());
        // r1 used as a kept argument of another program, then donated to this one: its value holds.
        var g = Transforms.Jit((Tensor[] a) => new[] { a[0] - 1.0 }, "minus_one");
        Assert.Equal(new float[] { 2, 4, 6, 8 }, g.Call(new[] { r1 })[0].ToArray<float>());
        Assert.Equal(new float[] { 7, 11, 15, 19 }, f.Call(new[] { r1, b })[0].ToArray<float>());
    }

    [VulkanFact]
    public void SwappedDonatedStateGivesTheRightResults()
    {
        var vk = VulkanCheck.Vk;
        var f = Transforms.Jit((Tensor[] a) => new[] { a[1] + 1.0, a[0] * 3.0 }, "swap", 0, 1);
        var r = f.Call(new[] { Tensor.FromArray(new float[] { 1, 2 }).DevicePut(vk), Tensor.FromArray(new float[] { 5, 6 }).DevicePut(vk) });
        float[] p = { 6, 7 }, q = { 3, 6 }; // r on the host: (5+1, 6+1), (1*3, 2*3)
        for (int s = 0; s < 6; s++)
        {
            // Results passed back in place, then swapped (each slot's result arrives in the other slot).
            bool swap = s % 2 == 1;
            var (a0, a1) = swap ? (q, p) : (p, q);
            r = f.Call(swap ? new[] { r[1], r[0] } : new[] { r[0], r[1] });
            (p, q) = (a1.Select(v => v + 1).ToArray(), a0.Select(v => v * 3).ToArray());
            Assert.Equal(p, r[0].ToArray<float>());
            Assert.Equal(q, r[1].ToArray<float>());
        }
    }

    [VulkanFact]
    public void ProgramsWithHostControlFlowAreInterpreted()
    {
        var vk = VulkanCheck.Vk;
        long rec0 = vk.ProgramRecordings;
        var f = Transforms.Jit((Tensor[] a) => Stax.ControlFlow.WhileLoop(c => c[0] < 100.0, c => new[] { c[0] * 3.0 }, new[] { a[0] }), "loop");
        Assert.Equal(243.0f, f.Call(new[] { Tensor.Scalar(1.0f).DevicePut(vk) })[0].Item<float>());
        Assert.Equal(rec0, vk.ProgramRecordings);
        // As Jit does: constants become leading inputs.
        static Stax.Tracing.Jaxpr Program(Func<Tensor[], Tensor[]> f)
        {
            var j = Transforms.MakeJaxpr(f, new AbstractValue(new Shape(), DType.Float32)).Jaxpr;
            return new Stax.Tracing.Jaxpr(Array.Empty<Stax.Tracing.Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars);
        }
        var loop = vk.Compile(Program(a => Stax.ControlFlow.WhileLoop(c => c[0] < 100.0, c => new[] { c[0] * 3.0 }, new[] { a[0] })));
        Assert.Contains("while", Assert.IsType<VulkanBackend.VulkanExecutable>(loop).Reason);
        var simple = vk.Compile(Program(a => new[] { Transforms.StopGradient(a[0]) * 3.0 }));
        Assert.True(simple is CompiledExecutable, (simple as VulkanBackend.VulkanExecutable)?.Reason);
    }
}
