using Stax.Backends.Cpu.Gemm;
using Stax.Tracing;

namespace Stax.Backends.Cpu;

/// <summary>
/// A float32 dot_general followed by a fused elementwise chain that reads its result at the same
/// element (bias add and activation after a dense layer's product, a ReLU mask times the gradient
/// after an input-gradient product), run as one step: the GEMM hands each block of the result to
/// the chain as soon as the block is final (<see cref="GemmEpilogue"/>), so the chain reads it from
/// cache instead of a second pass over memory. The product is still written to its own buffer
/// (other equations may read it; otherwise it is freed after this step). Each element goes through
/// the same operators in the same order as in the separate chain, so results are bit-identical to
/// the unfused program and independent of the thread count. GEMM paths without block callbacks
/// (very small or narrow products) run the chain after the product instead.
/// </summary>
internal sealed class CpuDotEpilogue : CpuExecutable.Step
{
    /// <summary>
    /// Whether compiled programs fold chains into GEMM epilogues (read when a program is compiled). On by default;
    /// the environment variable <c>STAX_CPU_EPILOGUE=0</c> turns it off.
    /// </summary>
    internal static bool Enabled = Environment.GetEnvironmentVariable("STAX_CPU_EPILOGUE") != "0";

    readonly DotGeneralParams _params;
    readonly AbstractValue _lt, _rt, _ot;
    readonly int _lhs, _rhs, _out;
    readonly long _cols;
    readonly FusedStep _chain;
    readonly int[] _reads, _writes;

    CpuDotEpilogue(DotGeneralParams p, AbstractValue lt, AbstractValue rt, AbstractValue ot, int lhs, int rhs, int output,
        long cols, FusedStep chain)
    {
        _params = p;
        _lt = lt; _rt = rt; _ot = ot;
        _lhs = lhs; _rhs = rhs; _out = output;
        _cols = cols;
        _chain = chain;
        _reads = new[] { lhs, rhs }.Concat(chain.Reads).Distinct().ToArray();
        _writes = new[] { output }.Concat(chain.Writes).ToArray();
    }

    public override int[] Reads => _reads;
    public override int[] Writes => _writes;
    public override string Name => $"dot_general {_lt.Shape} {_rt.Shape} + {_chain.Name}";

    /// <summary>
    /// The step for eqns[<paramref name="k"/>] (a float32 dot_general) and the fusible chain right after it, when the
    /// chain has the product's size and reads the product only elementwise; null otherwise. <paramref name="end"/> is
    /// the index after the chain.
    /// </summary>
    internal static CpuDotEpilogue? TryBuild(CpuBackend backend, Eqn[] eqns, int k, Dictionary<Var, int> slotOf, bool[] isOutput,
        int[] lastUseEqn, int nArgs, out int end)
    {
        end = k;
        var e = eqns[k];
        if (!Enabled || e.Primitive != Prims.DotGeneral || e.Params is not DotGeneralParams p || e.Inputs.Length != 2
            || e.Outputs.Length != 1 || k + 1 >= eqns.Length)
            return null;
        var (lt, rt, ot) = (e.Inputs[0].Aval, e.Inputs[1].Aval, e.Outputs[0].Aval);
        if (lt.DType != DType.Float32 || rt.DType != DType.Float32 || ot.DType != DType.Float32 || ot.Size == 0) return null;
        // One matrix product (no batch dimensions): the result is row-major (lhs free dims) x (rhs free dims).
        var plan = CpuDotPlan.For(lt, rt, p);
        if (plan.NBatch != 1) return null;
        int chainEnd = FusedStep.ChainEnd(eqns, k + 1);
        if (chainEnd == k + 1 || FusedStep.Fusible(eqns[k + 1]) != ot.Size) return null;
        int product = slotOf[e.Outputs[0]];
        bool reads = false;
        for (int i = k + 1; i < chainEnd; i++)
            foreach (var v in eqns[i].Inputs)
            {
                if (slotOf[v] != product) continue;
                // A broadcast reads its operand at other indices (and a scalar before the product exists).
                if (eqns[i].Primitive == Prims.BroadcastInDim) return null;
                reads = true;
            }
        if (!reads) return null;
        int lhs = slotOf[e.Inputs[0]], rhs = slotOf[e.Inputs[1]];
        // The GEMM reads its operands until its last block: the chain must not write over them.
        var chain = FusedStep.Build(backend, eqns, k + 1, chainEnd, slotOf, isOutput, lastUseEqn, nArgs,
            noAlias: new[] { lhs, rhs });
        end = chainEnd;
        return new CpuDotEpilogue(p, lt, rt, ot, lhs, rhs, product, plan.N, chain);
    }

    public override void Run(CpuExecutable exe, CpuExecutable.Frame f)
    {
        EvalTrace.NotifyEvaluated(Prims.DotGeneral);
        var state = f.StepState[Index] as State ?? (State)(f.StepState[Index] = new State());
        var lhs = f.Bufs[_lhs]!;
        var rhs = f.Bufs[_rhs]!;
        var product = exe.NewBuffer(f, _out, DType.Float32, _ot.Size);
        f.Bufs[_out] = product;
        f.Owned[_out] = true;
        f.Committed[_out] = f.Committed[_lhs] || f.Committed[_rhs];
        var run = _chain.Begin(exe, f, ref state.Chain);
        var blocks = state.Blocks;
        blocks.Chain = run;
        blocks.Cols = _cols;
        if (!CpuDot.Run(lhs, rhs, product, _lt, _rt, _ot, _params, null, blocks))
            CpuParallel.For(_chain.Size, CpuParallel.ElementwiseGrain, run.Body);
        blocks.Chain = null;
        FusedStep.End(run);
    }

    sealed class State
    {
        public object? Chain;
        public readonly ChainOnBlocks Blocks = new();
    }

    // The chain over blocks of the row-major product: whole rows are one range of elements.
    sealed class ChainOnBlocks : GemmEpilogue
    {
        public FusedStep.RunState? Chain;
        public long Cols;

        public override void Run(int i0, int rows, int j0, int cols)
        {
            var run = Chain!;
            if (j0 == 0 && cols == Cols)
            {
                run.Range(i0 * Cols, (i0 + rows) * Cols);
                return;
            }
            run.Rows(i0 * Cols + j0, cols, rows, Cols);
        }
    }
}
