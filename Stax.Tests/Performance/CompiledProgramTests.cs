using Stax.Backends;
using Stax.Backends.Cpu;
using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using Stax.Tracing;
using Xunit;
using static Stax.Nn.Layers;

namespace Stax.Tests.Performance;

/// <summary>Runs alone: the pool statistics are process-wide.</summary>
[CollectionDefinition("cpu-pool", DisableParallelization = true)]
public sealed class CpuPoolCollection { }

/// <summary>The CPU backend's compiled programs (issue 7): bit-identical to the interpreter, fused, pooled.</summary>
[Collection("cpu-pool")]
public class CompiledProgramTests
{
    /// <summary>A jitted Adam train step that donates its optimizer state (the shape of examples/Mnist).</summary>
    sealed class Step
    {
        public readonly Func<Tensor[], Tensor[]> F;
        public readonly JitFunction Jitted;
        public readonly int NState;
        public readonly Tensor X, Y;
        public Tensor[] State;

        public Step(Module model, int batch, int[] inShape, int seed = 0)
        {
            var rng = new Random(seed);
            var xs = new float[batch * inShape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < xs.Length; i++) xs[i] = (float)rng.NextDouble();
            X = Tensor.FromArray(xs, new[] { batch }.Concat(inShape).ToArray());
            Y = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray());
            var (_, parameters) = model.Initialize(Rng.Key(seed), new AbstractValue(X.Shape, DType.Float32));
            var adam = Optimizers.Adam(1e-3);
            var flat = Tree.Flatten(adam.Init(parameters));
            var def = flat.Def;
            int n = NState = flat.Leaves.Length;
            State = flat.Leaves.ToArray();
            F = a =>
            {
                var state = Tree.Unflatten<OptState>(def, a[..n]);
                var p = adam.GetParams(state)!;
                var (loss, grads) = Transforms.ValueAndGrad((object q) => Losses.SoftmaxCrossEntropy(model.Apply(q, a[n], training: true), a[n + 1]))(p);
                return Tree.Flatten(adam.Update(a[n + 2], grads, state)).Leaves.Append(loss).ToArray();
            };
            Jitted = Transforms.Jit(F, "train_step", Enumerable.Range(0, n).ToArray());
        }

        public Tensor[] Args(int k) => State.Concat(new[] { X, Y, Tensor.Scalar(k, DType.Int32) }).ToArray();

        public float Run(int k)
        {
            var outs = Jitted.Call(Args(k));
            State = outs[..NState];
            return outs[NState].Item<float>();
        }
    }

    static Module MlpModel(int hidden = 512) => Serial(Dense(hidden), Relu, Dense(hidden), Relu, Dense(10));
    static Module CnnModel() => Serial(Conv(8, new[] { 3, 3 }), Relu, Conv(8, new[] { 3, 3 }), Relu,
        MaxPool(new[] { 2, 2 }, strides: new[] { 2, 2 }), Flatten, Dense(16), Relu, Dense(10));

    /// <summary>Stages <paramref name="f"/>, then runs it with the interpreter and compiled (optionally donating); compares bits.</summary>
    static CpuExecutable CompiledMatchesInterpreter(Func<Tensor[], Tensor[]> f, Tensor[] args, bool[]? donate = null)
    {
        var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), "test");
        var j = closed.Jaxpr;
        var converted = new Jaxpr(Array.Empty<Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars);
        var all = closed.Consts.Concat(args).ToArray();
        var expected = new InterpretedExecutable(converted).Run(all).Select(t => (t.Aval, t.ToBytes())).ToArray();
        var exe = Assert.IsType<CpuExecutable>(CpuBackend.Instance.Compile(converted));
        // Donated arguments get private copies, so the caller's tensors stay valid.
        var runArgs = all.Select((t, i) => donate != null && i >= closed.Consts.Length && donate[i - closed.Consts.Length]
            ? Tensor.FromBytes(t.ToBytes(), t.Shape, t.DType) : t).ToArray();
        var mask = donate == null ? null : new bool[closed.Consts.Length].Concat(donate).ToArray();
        for (int round = 0; round < 2; round++)   // a second run reuses pooled arrays
        {
            var got = exe.Run(round == 0 ? runArgs : all.Select(t => Tensor.FromBytes(t.ToBytes(), t.Shape, t.DType)).ToArray(), mask);
            Assert.Equal(expected.Length, got.Length);
            for (int k = 0; k < got.Length; k++)
            {
                Assert.Equal(expected[k].Aval, got[k].Aval);
                Assert.Equal(expected[k].Item2, got[k].ToBytes());
            }
        }
        return exe;
    }

    [Fact]
    public void MlpTrainStepMatchesTheInterpreterBitForBit()
    {
        var s = new Step(MlpModel(64), 16, new[] { 784 });
        var exe = CompiledMatchesInterpreter(s.F, s.Args(0), Enumerable.Range(0, s.NState + 3).Select(i => i < s.NState).ToArray());
        Assert.True(exe.FusedGroups > 0, "the Adam update should fuse");
        // log_softmax / softmax (custom_jvp_call) are inlined, not evaluated op by op.
        Assert.DoesNotContain(exe.StepNames, n => n.StartsWith("custom_jvp_call"));
        Assert.True(exe.StepCount < s.Jitted.Lower(s.Args(0)).Jaxpr.Eqns.Length);
    }

    [Fact]
    public void CnnTrainStepMatchesTheInterpreterBitForBit()
    {
        var s = new Step(CnnModel(), 4, new[] { 12, 12, 1 });
        CompiledMatchesInterpreter(s.F, s.Args(3));
        CompiledMatchesInterpreter(s.F, s.Args(3), Enumerable.Range(0, s.NState + 3).Select(i => i < s.NState).ToArray());
    }

    // Operators (superinstructions counting once) in all fused groups of a program.
    static int FusedOps(CpuExecutable exe) => exe.StepNames.Where(s => s.StartsWith("fused"))
        .Sum(s => int.Parse(System.Text.RegularExpressions.Regex.Match(s, @": (\d+) ops").Groups[1].Value));

    static Tensor Rand(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        return Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(), shape);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ElementwiseChainsFuseAndMatchBitForBit(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (int n in new[] { 1, 7, 1000, 70_001 })
        {
            var a = Rand(1, n); var b = Rand(2, n); var row = Rand(3, 1, n);
            // weak scalars, broadcasting of a scalar, unary and binary ops, a select inside, multi-output
            var exe = CompiledMatchesInterpreter(x =>
            {
                var t = Lax.Exp(x[0] * 0.5 + x[1]) - Lax.Tanh(x[0]) / 3.0;
                var u = Np.Maximum(t, 0.0) * Np.Sqrt(Np.Abs(x[1]) + 1e-3);
                var v = Np.Where(x[0] > 0.0, u, -t);
                return new[] { u, v + 1.0, t, Np.Reshape(x[2], n) * 2.0 };
            }, new[] { a, b, row });
            Assert.True(exe.FusedGroups > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SplatOperatorsFoldIntoTheNextBinaryOperatorBitForBit(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (int n in new[] { 1, 7, 1000, 70_001 })
        {
            var a = Rand(1, n); var b = Rand(2, n);
            // All four operand orders, with operators that do not commute on both sides: each pair
            // (splat operator, then tile-by-tile operator) becomes one superinstruction.
            var chains = new Func<Tensor[], Tensor>[]
            {
                x => (x[0] - 0.3) / x[1],
                x => x[1] / (0.7 - x[0]),
                x => x[1] - x[0] * 1.5,
                x => 2.5 / x[0] - x[1],
            };
            foreach (var chain in chains)
            {
                var exe1 = CompiledMatchesInterpreter(x => new[] { chain(x) }, new[] { a, b });
                // (With n = 1 the scalars are size-1 tiles, not splats.)
                if (n > 1) Assert.Equal(1, FusedOps(exe1));
            }
            // The reader need not be the next operator (Adam's `(1 - b1) * g + b1 * m`): x*s folds into the add.
            var folded = CompiledMatchesInterpreter(x =>
            {
                var t = x[0] * 1.5;
                var u = x[1] * x[1];
                return new[] { u - t };
            }, new[] { a, b });
            if (n > 1) Assert.Equal(2, FusedOps(folded));
            // The reader may write its result over the splat result's tile (the tile then holds
            // the reader's value, which later nodes read): it still folds.
            var inPlace = CompiledMatchesInterpreter(x => new[] { ((x[0] * 1.5) + x[1]) * x[1] - x[0] }, new[] { a, b });
            if (n > 1) Assert.Equal(3, FusedOps(inPlace));
            // A splat result read again later stays a tile of its own: no fold.
            var exe = CompiledMatchesInterpreter(x =>
            {
                var t = x[0] * 2.0;
                return new[] { (t + x[1]) * t };
            }, new[] { a, b });
            if (n > 1) Assert.Equal(3, FusedOps(exe));
        }
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ComparisonsSelectsAndBiasRowsFuseAndMatchBitForBit(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 7), (5, 1000), (61, 1147) })
        {
            var x = Rand(1, rows, cols);
            var withNaN = x.ToArray<float>();
            withNaN[0] = float.NaN;
            var xn = Tensor.FromArray(withNaN, rows, cols);
            var bias = Rand(2, cols);
            var mask = Rand(3, rows, cols) > 0.5;        // a bool computed outside the program
            foreach (int threads in new[] { 1, 2 })
            {
                using var t = Config.UseThreads(threads);
                var exe = CompiledMatchesInterpreter(a =>
                {
                    var h = a[0] + Np.BroadcastTo(a[1], a[0].Shape);                  // bias row
                    var pos = h > 0.0;                                                  // escapes as bool
                    var relu = Lax.Select(pos, h, Np.ZerosLike(h));
                    var both = Lax.Select(h < -0.5, Np.FullLike(h, 2.0), Np.FullLike(h, -3.0)); // splats on both branches
                    var ext = Lax.Select(a[2], relu, -h);                              // bool from outside
                    return new[] { relu * 2.0 + both, pos, ext, Lax.Select(Lax.Ne(h, h), h, -h) };   // NaN != NaN
                }, new[] { xn, bias, mask });
                Assert.True(exe.FusedGroups > 0);
                Assert.DoesNotContain(exe.StepNames, n => n.StartsWith("select") || n.StartsWith("gt") || n.StartsWith("add"));
            }
        }
    }

    [Fact]
    public void DonatedStateIsUpdatedInPlace()
    {
        // m' = 0.9 m + 0.1 g, v' = 0.99 v + g^2 with m and v donated: the outputs take over the
        // donated buffers and the values are the eager ones.
        var g = Rand(1, 5000);
        var f = Transforms.Jit((Tensor[] a) => new[] { a[0] * 0.9 + a[2] * 0.1, a[1] * 0.99 + a[2] * a[2] }, "update", new[] { 0, 1 });
        Tensor m = Rand(2, 5000), v = Rand(3, 5000);
        var (em, ev) = (m * 0.9 + g * 0.1, v * 0.99 + g * g);
        var r = f.Call(new[] { Tensor.FromBytes(m.ToBytes(), m.Shape, m.DType), Tensor.FromBytes(v.ToBytes(), v.Shape, v.DType), g });
        Assert.Equal(em.ToBytes(), r[0].ToBytes());
        Assert.Equal(ev.ToBytes(), r[1].ToBytes());
        for (int k = 0; k < 3; k++)
        {
            var donated = new[] { r[0].Buffer, r[1].Buffer };
            r = f.Call(new[] { r[0], r[1], g });
            Assert.Contains(r[0].Buffer, donated);
            Assert.Contains(r[1].Buffer, donated);
            Assert.NotSame(r[0].Buffer, r[1].Buffer);
        }
    }

    [Fact]
    public void InterleavedChainsAreScheduledIntoOneFusedPassPerSize()
    {
        // Traced in an order that alternates two sizes and scalar bookkeeping (as an optimizer
        // update over several parameters is): scheduling makes one fused pass per size.
        var a = Rand(1, 1000); var b = Rand(2, 500); var c = Rand(3, 1000);
        var exe = CompiledMatchesInterpreter(x =>
        {
            var s = Tensor.Scalar(0.9f) * 2.0;                 // scalar bookkeeping between the chains
            var a1 = x[0] * s; var b1 = x[1] * s; var c1 = x[2] * s;
            var a2 = Lax.Exp(a1) + 1.0; var b2 = Lax.Exp(b1) + 1.0; var c2 = Lax.Exp(c1) + 1.0;
            return new[] { a2 * c2, b2 };
        }, new[] { a, b, c });
        // The scalar bookkeeping, then one pass over the size-1000 values and one over the size-500 ones.
        Assert.Equal(3, exe.FusedGroups);
        Assert.Equal(3, exe.StepCount);
    }

    [Fact]
    public void TransposedProductsAreComputedInPlace()
    {
        // transpose(dot_general(a, b)) swapping the free dims (reverse-mode weight gradients) runs
        // as one dot_general with swapped operands, bit-identical to the two-step program.
        var a = Rand(1, 2, 70, 9); var b = Rand(2, 2, 70, 5);
        var exe = CompiledMatchesInterpreter(x => new[] {
            Lax.Transpose(Lax.DotGeneral(x[0], x[1], new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 0, 2, 1 }) }, new[] { a, b });
        Assert.Equal(1, exe.StepCount);
        // A transpose that is not a swap of the free groups stays.
        exe = CompiledMatchesInterpreter(x => new[] {
            Lax.Transpose(Lax.DotGeneral(x[0], x[1], new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 0, 2 }) }, new[] { a, b });
        Assert.Equal(2, exe.StepCount);
    }

    [Fact]
    public void FloatSixtyFourAndIntegerProgramsStayCorrect()
    {
        var a = Rand(1, 33).AsType(DType.Float64);
        CompiledMatchesInterpreter(x => new[] { Lax.Exp(x[0] * 2.0) + 1.0, (x[0] * 3.0).AsType(DType.Int32) + 2 }, new[] { a });
    }

    [Fact]
    public void DonatedArgumentsAndPassThroughOutputs()
    {
        var a = Rand(1, 64); var b = Rand(2, 64);
        // an output that is a donated input, one that is a plain input, duplicates
        CompiledMatchesInterpreter(x => new[] { x[0], x[1], x[0] * x[1], x[0] * x[1] + x[0] }, new[] { a, b }, new[] { true, false });
        CompiledMatchesInterpreter(x => new[] { x[0] + x[1] }, new[] { a, a }, new[] { true, false }); // shared buffer: not reused
        // Through Jit: the donated tensor is unusable afterwards, its output is fine.
        var f = Transforms.Jit(x => new[] { x[0], x[0] * 2.0 }, "f", 0);
        var c = Tensor.FromArray(new float[] { 1, 2, 3 });
        var outs = f.Call(new[] { c });
        Assert.True(c.IsDonated);
        Assert.Equal(new float[] { 1, 2, 3 }, outs[0].ToArray<float>());
        Assert.Equal(new float[] { 2, 4, 6 }, outs[1].ToArray<float>());
    }

    [Fact]
    public void CompiledProgramsReportTheirKernelsToObservers()
    {
        var f = Transforms.Jit(x => new[] { Lax.Exp(x[0]) + 1.0 }, "f");
        var ran = new List<string>();
        using (EvalTrace.Observe(p => ran.Add(p.Name)))
            f.Call(new[] { Rand(1, 8) });
        Assert.Contains("exp", ran);
        Assert.Contains("add", ran);
    }

    [Fact]
    public void PoolHighWaterStaysFlatAfterStepOneHundred()
    {
        var s = new Step(MlpModel(), 32, new[] { 784 });
        var stats = () => CpuBackend.Instance.MemoryStats;
        long afterWarmup = 0;
        var (allocBefore, _) = CpuBackend.Instance.MemoryCounts;
        // The issue's criterion: the high-water mark stops growing after step 100 (escaping
        // buffers return through finalizers, so the first steps settle the GC's rhythm).
        for (int k = 0; k < 400; k++)
        {
            Assert.True(float.IsFinite(s.Run(k)));
            if (k == 100) afterWarmup = stats().HighWaterBytes;
        }
        long end = stats().HighWaterBytes;
        Assert.True(end - afterWarmup <= 256 << 10, $"high-water mark grew from {afterWarmup} to {end} bytes between steps 100 and 400");
        var (alloc, reuse) = CpuBackend.Instance.MemoryCounts;
        Assert.True(reuse > 0 && alloc > allocBefore);
        Assert.True(stats().LiveBytes > 0);
    }

    [Fact]
    public void TwoThreadsRunningJittedStepsGiveTheSequentialResults()
    {
        float[] Sequential()
        {
            var s = new Step(MlpModel(64), 16, new[] { 784 });
            return Enumerable.Range(0, 15).Select(s.Run).ToArray();
        }
        var expected = Sequential();
        var shared = new Step(MlpModel(64), 16, new[] { 784 });   // one JitFunction, one executable, two threads
        var other = new Step(MlpModel(64), 16, new[] { 784 });
        other.Run(0);  // trace before the threads start
        float[] r1 = Array.Empty<float>(), r2 = Array.Empty<float>();
        var t1 = new Thread(() => r1 = Enumerable.Range(0, 15).Select(shared.Run).ToArray());
        var t2 = new Thread(() =>
        {
            var mine = new Step(MlpModel(64), 16, new[] { 784 });
            r2 = Enumerable.Range(0, 15).Select(k =>
            {
                // the same compiled program as t1's, on this thread's own state
                var outs = shared.Jitted.Call(mine.Args(k));
                mine.State = outs[..mine.NState];
                return outs[mine.NState].Item<float>();
            }).ToArray();
        });
        t1.Start(); t2.Start(); t1.Join(); t2.Join();
        Assert.Equal(expected, r1);
        Assert.Equal(expected, r2);
    }
}
