using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stax.Backends;
using Stax.Backends.Cpu;
using Stax.Tracing;
using Xunit;

namespace Stax.Tests.Performance;

/// <summary>Tests change STAX_CPU_CHAIN_CODEGEN (process-wide), so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChainCodegenCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "cpu-chain-codegen";
}

/// <summary>
/// Fused float32 chains run by loops generated at compile time give the tile interpreter's bits (the interpreter is
/// the same program compiled with STAX_CPU_CHAIN_CODEGEN=0) and the eager interpreter's.
/// </summary>
[Collection(ChainCodegenCollection.Name)]
public class FusedChainCodegenTests
{
    const string Switch = "STAX_CPU_CHAIN_CODEGEN";

    // Ragged sizes: tails of 0..15 elements after the whole vectors, and sizes split over threads.
    static readonly int[] Sizes = { 1, 15, 16, 17, 1000, 1037, 4099, 70_001 };

    static bool Generates => Accelerated(Isa.Vector512) || Accelerated(Isa.Vector256);

    // Whether loops are generated for this ISA's vectors.
    static bool Accelerated(Isa isa) => RuntimeFeature.IsDynamicCodeCompiled
        && (isa == Isa.Vector512 ? Vector512.IsHardwareAccelerated : isa == Isa.Vector256 && Vector256.IsHardwareAccelerated);

    // The widths that have generated loops, and one that has none (the interpreter's bits at each).
    static readonly Isa[] Isas = Config.AvailableIsas.Where(i => i is Isa.Vector512 or Isa.Vector256 or Isa.Vector128).ToArray();

    static Tensor Rand(int seed, int n, double lo = -2, double hi = 2)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(lo + rng.NextDouble() * (hi - lo));
        // A few specials where there is room (NaN, infinities, signed zeros, subnormals).
        float[] specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1e-40f };
        for (int i = 0; i < specials.Length && 3 * i + seed % 3 < n && n > 64; i++) v[3 * i + seed % 3] = specials[i];
        return Tensor.FromArray(v);
    }

    static Jaxpr Program(Func<Tensor[], Tensor[]> f, Tensor[] args, out Tensor[] all)
    {
        var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), "chain");
        var j = closed.Jaxpr;
        all = closed.Consts.Concat(args).ToArray();
        return new Jaxpr(Array.Empty<Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars);
    }

    static CpuExecutable Compile(Jaxpr program, bool generate)
    {
        var old = Environment.GetEnvironmentVariable(Switch);
        Environment.SetEnvironmentVariable(Switch, generate ? null : "0");
        try { return Assert.IsType<CpuExecutable>(CpuBackend.Instance.Compile(program)); }
        finally { Environment.SetEnvironmentVariable(Switch, old); }
    }

    static Tensor[] Copy(Tensor[] a) => a.Select(t => Tensor.FromBytes(t.ToBytes(), t.Shape, t.DType)).ToArray();

    // Runs f compiled with and without generated loops (and eagerly) at 1 and 2 threads and each vector width in
    // Isas; returns whether a
    // generated loop was compiled for a chain of the arguments' size. With `donate`, the arguments are donated
    // (outputs may take their buffers).
    static bool GeneratedMatchesInterpreter(Func<Tensor[], Tensor[]> f, Tensor[] args, bool donate = false, string what = "")
    {
        var program = Program(f, args, out var all);
        var eager = new InterpretedExecutable(program).Run(Copy(all));
        var gen = Compile(program, true);
        var interp = Compile(program, false);
        Assert.DoesNotContain(interp.StepNames, s => s.EndsWith(", generated"));
        // A chain over the arguments' size (not one of the scalar chains) has a generated loop.
        bool generated = gen.StepNames.Any(s => s.StartsWith($"fused n={args[0].Aval.Size}:") && s.EndsWith(", generated"));
        var donated = donate ? Enumerable.Repeat(true, all.Length).ToArray() : null;
        foreach (int threads in new[] { 1, 2 })
        foreach (var isa in Isas)
        {
            using var _ = Config.UseThreads(threads);
            using var __ = Config.UseIsa(isa);
            long runs = FusedChainCodegen.Runs;
            var expected = interp.Run(Copy(all), donated);
            var actual = gen.Run(Copy(all), donated);
            // Every range of at least one vector ran the generated loop.
            if (generated && Accelerated(isa) && args[0].Aval.Size >= 16 * threads)
                Assert.True(FusedChainCodegen.Runs > runs, $"the generated loop did not run ({isa})");
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < expected.Length; k++)
            {
                var where = $"{what} output {k}, n = {args[0].Aval.Size}, {threads} threads, {isa}";
                SameBits(expected[k], actual[k], where + ": the generated loop's bits differ from the interpreter's");
                SameBits(eager[k], actual[k], where + ": the generated loop's bits differ from eager ones");
            }
        }
        return generated;
    }

    // The same bits, except that a NaN may have another sign or payload: x86 propagates the first NaN operand of an
    // operation, and the JIT may swap the operands of commutative ones (a + b, a * b) differently in each loop.
    static void SameBits(Tensor expected, Tensor actual, string message)
    {
        Assert.Equal((expected.Shape, expected.DType), (actual.Shape, actual.DType));
        if (expected.DType != DType.Float32)
        {
            Assert.True(expected.ToBytes().SequenceEqual(actual.ToBytes()), message);
            return;
        }
        var e = expected.ToArray<float>();
        var a = actual.ToArray<float>();
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i])
                || float.IsNaN(e[i]) && float.IsNaN(a[i]),
                $"{message}: element {i}: {e[i]:R} vs {a[i]:R}");
    }

    [Fact]
    public void AdamChainWithSplatsSeveralAndInPlaceOutputsMatchesTheInterpreter()
    {
        foreach (int n in Sizes)
        {
            var args = new[] { Rand(1, n), Rand(2, n, -0.1, 0.1), Rand(3, n, 0, 0.01), Rand(4, n) };
            // param, m, v, grad -> new param, m, v (the Adam update's arithmetic, splats on both sides).
            Func<Tensor[], Tensor[]> adam = x =>
            {
                var m = x[1] * 0.9 + x[3] * 0.1;
                var v = x[2] * 0.999 + x[3] * x[3] * 0.001;
                var p = x[0] - 0.001 * (m / 0.1) / (Np.Sqrt(v / 0.001) + 1e-8);
                return new[] { p, m, v };
            };
            Assert.Equal(Generates, GeneratedMatchesInterpreter(adam, args));
            Assert.Equal(Generates, GeneratedMatchesInterpreter(adam, args, donate: true));
        }
    }

    [Fact]
    public void ChainsWithSelectsComparisonsAndOperandOrdersMatchTheInterpreter()
    {
        foreach (int n in Sizes)
        {
            var args = new[] { Rand(5, n), Rand(6, n) };
            Assert.Equal(Generates, GeneratedMatchesInterpreter(x =>
            {
                var t = Lax.Exp(x[0] * 0.5 + x[1]) - Lax.Tanh(x[0]) / 3.0;
                var u = Np.Maximum(t, 0.0) * Np.Sqrt(Np.Abs(x[1]) + 1e-3);
                var w = Np.Where(x[0] > 0.0, u, -t);
                // Splat operators folded into the next binary one, in all four operand orders.
                var o = (x[0] - 0.3) / x[1] + x[1] / (0.7 - x[0]) - (x[1] - x[0] * 1.5) * (2.5 / x[0] - x[1]);
                return new[] { u, w + 1.0, o, t };
            }, args));
        }
    }

    [Fact]
    public void EveryVectorizableFloat32OperatorRunsGeneratedWithTheInterpretersBits()
    {
        int generatedOps = 0;
        foreach (var op in ElementwiseOps.All.Where(o => o.Float32 != null))
        {
            var p = op.Applies == null ? Params.None
                : new Params[] { new RoundParams(RoundingMethod.AwayFromZero), new RoundParams(RoundingMethod.ToNearestEven) }
                    .First(c => op.Applies(c) && ElementwiseOps.Find(op.Primitive, c) == op);
            bool unary = op.Arity is ElementwiseArity.Unary or ElementwiseArity.Predicate;
            foreach (int n in new[] { 17, 1037 })
            {
                var args = new[] { Rand(7, n, -3, 3), Rand(8, n, -3, 3) };
                // The operator between float32 arithmetic: tile by tile, and with a splat operand.
                bool generated = GeneratedMatchesInterpreter(x =>
                {
                    var a = x[0] * 0.75;
                    var r = unary ? op.Primitive.Bind1(p, a) : op.Primitive.Bind1(p, a, x[1]);
                    if (r.DType == DType.Bool) r = Np.Where(r, x[1], a);
                    var s = unary ? r : op.Primitive.Bind1(p, x[1], Np.BroadcastTo(Tensor.Scalar(1.25), x[1].Shape));
                    return new[] { r + x[1], s * 2.0 };
                }, args, what: op.ToString());
                if (generated) generatedOps++;
            }
        }
        // Arithmetic, comparisons and the vectorized transcendental functions all generate (pow, rem and
        // nextafter have scalar forms only and stay with the interpreter).
        if (Generates) Assert.True(generatedOps >= 2 * (ElementwiseOps.All.Count(o => o.Float32 != null) - 3), $"{generatedOps}");
    }

    [Fact]
    public void TheSwitchTurnsGeneratedLoopsOff()
    {
        var args = new[] { Rand(9, 4099), Rand(10, 4099) };
        var program = Program(x => new[] { x[0] * 0.5 + x[1] }, args, out var all);
        var off = Compile(program, false);
        Assert.DoesNotContain(off.StepNames, s => s.EndsWith(", generated"));
        long runs = FusedChainCodegen.Runs;
        off.Run(all, null);
        Assert.Equal(runs, FusedChainCodegen.Runs);
        if (!Generates) return;
        var on = Compile(program, true);
        Assert.Contains(on.StepNames, s => s.EndsWith(", generated"));
        on.Run(all, null);
        Assert.True(FusedChainCodegen.Runs > runs);
    }
}
