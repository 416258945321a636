using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

/// <summary>
/// float32 pooling when the innermost dimension is not windowed (window 1, stride 1, no padding or
/// dilation: channels-last pooling such as NHWC max pool). Every window position then reads a
/// contiguous run of the last dimension, so max/min/sum are vector operations over that run and
/// max pooling's gradient selects per channel in a tight loop. Results match the general path:
/// max/min are exact, sums add in float32 in window order, selection follows the same rule
/// (first maximum wins, NaN is selected and kept), and scatter-adds into one element happen in
/// window order, so any thread count and ISA give identical bits.
/// </summary>
public sealed partial class CpuBackend
{
    // The plan over all dims but the last, and the run length, when the fast path applies.
    static bool ChannelRun(DType dtype, Shape operand, Shape output, IntTuple wdims, IntTuple strides, IntTuple padLo,
        IntTuple baseDil, IntTuple winDil, out WindowPlan plan, out int run)
    {
        plan = null!;
        run = 0;
        int r = operand.Rank;
        if (dtype != DType.Float32 || r < 2) return false;
        int d = r - 1;
        if (wdims[d] != 1 || strides[d] != 1 || padLo[d] != 0 || baseDil[d] != 1 || winDil[d] != 1
            || output[d] != operand[d]) return false;
        var outer = new Shape(output.ToArray()[..d]);
        var inner = new Shape(operand.ToArray()[..d]);
        plan = new WindowPlan(inner, outer, Slice(wdims, d), Slice(strides, d), Slice(padLo, d), Slice(baseDil, d),
            Slice(winDil, d));
        run = operand[d];
        return true;
    }

    static IntTuple Slice(IntTuple t, int n) => new(t.ToArray()[..n]);

    // ChannelRun's answer for one pooling equation (Plan null: the fast path does not apply),
    // cached by parameters and shapes so that a compiled program's calls build no index tables.
    sealed class ChannelRunPlan(WindowPlan? plan, int run)
    {
        public readonly WindowPlan? Plan = plan;
        public readonly int Run = run;

        public static ChannelRunPlan Make(Shape operand, Shape output, IntTuple wdims, IntTuple strides,
            IntTuple padLo, IntTuple baseDil, IntTuple winDil)
            => ChannelRun(DType.Float32, operand, output, wdims, strides, padLo, baseDil, winDil, out var plan, out int run)
                ? new(plan, run)
                : new(null, 0);
    }

    // Per-thread scratch of the pooling loops, grown on demand and reused across calls (the loops
    // use only the lengths they need).
    sealed class PoolingScratch
    {
        [ThreadStatic] static PoolingScratch? _current;
        public int[] OutIdx = [], K = [], BestW = [];
        public long[] Offsets = [], Valid = [];
        public float[] BestVal = [];

        public static PoolingScratch For(int rank, long window, int run)
        {
            var s = _current ??= new PoolingScratch();
            if (s.OutIdx.Length < rank) { s.OutIdx = new int[rank]; s.K = new int[rank]; }
            if (s.Offsets.Length < window) { s.Offsets = new long[window]; s.Valid = new long[window]; }
            if (s.BestVal.Length < run) { s.BestVal = new float[run]; s.BestW = new int[run]; }
            return s;
        }
    }

    // Offsets (in elements of the full operand, -1 for padding) of every window position of outer
    // element t, row-major over the window (no delegate: this runs once per pooled position).
    static void WindowOffsets(WindowPlan plan, long t, int run, int[] outIdx, int[] k, long[] offsets)
    {
        int rank = plan.Rank;
        for (int d = rank - 1; d >= 0; d--) { outIdx[d] = (int)(t % plan.OutDims[d]); t /= plan.OutDims[d]; }
        Array.Clear(k, 0, rank);
        for (long w = 0; w < plan.WindowSize; w++)
        {
            long off = 0;
            for (int d = 0; d < rank; d++)
            {
                int i = plan.Table[d][outIdx[d] * plan.WinDims[d] + k[d]];
                if (i < 0) { off = -1; break; }
                off += i * plan.InStrides[d];
            }
            offsets[w] = off < 0 ? -1 : off * run;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++k[d] < plan.WinDims[d]) break;
                k[d] = 0;
            }
        }
    }

    static bool TryReduceWindowFast(int kind, ReduceWindowParams p, CpuBuffer src, AbstractValue srcType,
        CpuBuffer dst, AbstractValue dstType)
    {
        if (src.DType != DType.Float32) return false;
        var cr = CpuPlanCache<ReduceWindowParams, ChannelRunPlan>.Get(p, srcType.Shape, dstType.Shape, 0,
            static (_, p, operand, output) => ChannelRunPlan.Make(operand, output, p.WindowDimensions,
                p.WindowStrides, p.PaddingLow, p.BaseDilation, p.WindowDilation));
        if (cr.Plan is not { } plan) return false;
        int run = cr.Run;
        long outer = dstType.Size / Math.Max(1, run);
        if (outer == 0 || run == 0) return true;
        float identity = kind == 0 ? 0f : kind == 1 ? float.NegativeInfinity : float.PositiveInfinity;
        var state = (plan, run, kind, isa: Config.Isa, identity, xa: src.Data, ya: dst.Data);
        CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize * run)), state,
            static (st, t0, t1) =>
            {
                var (plan, run, kind, isa, identity, xa, ya) = st;
                var scratch = PoolingScratch.For(plan.Rank, plan.WindowSize, run);
                long[] offsets = scratch.Offsets;
                ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(xa));
                for (long t = t0; t < t1; t++)
                {
                    ref float y = ref Unsafe.Add(
                        ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(ya)), (nint)(t * run));
                    MemoryMarshal.CreateSpan(ref y, run).Fill(identity);
                    WindowOffsets(plan, t, run, scratch.OutIdx, scratch.K, offsets);
                    for (long w = 0; w < plan.WindowSize; w++)
                    {
                        long off = offsets[w];
                        if (off < 0) continue;   // padding contributes the identity
                        ref float xs = ref Unsafe.Add(ref x, (nint)off);
                        switch (kind)
                        {
                            case 0: Drivers.BinaryRange<AddOp<float>, float>(isa, ref y, ref xs, ref y, run); break;
                            case 1: Drivers.BinaryRange<MaxOp<float>, float>(isa, ref y, ref xs, ref y, run); break;
                            default: Drivers.BinaryRange<MinOp<float>, float>(isa, ref y, ref xs, ref y, run); break;
                        }
                    }
                }
            }, align: 1);
        return true;
    }

    // select_and_scatter_add's geometry for one equation (the source's shape, the channels-last plan
    // and how the windows lie), cached by parameters and operand shape.
    sealed class SelectScatterGeometry
    {
        public readonly Shape Source;
        public readonly ChannelRunPlan Channels;
        public readonly bool Disjoint, Write, Tiled;

        SelectScatterGeometry(SelectAndScatterAddParams p, Shape operand)
        {
            var ones = Windows.Ones(operand.Rank);
            Source = Windows.OutputShape("select_and_scatter_add", operand, p.WindowDimensions, p.WindowStrides,
                p.PaddingLow, p.PaddingHigh, ones, ones);
            Channels = ChannelRunPlan.Make(operand, Source, p.WindowDimensions, p.WindowStrides, p.PaddingLow, ones, ones);
            // Windows that cannot overlap scatter to disjoint elements: any order, so threads split them.
            // Without padding each such window then writes all its elements (the selected one gets
            // 0 + source, as the scatter-add would, the others 0), and when the windows tile the
            // operand exactly nothing is left to clear first.
            bool disjoint = true, unpadded = true, tiled = true;
            for (int d = 0; d < operand.Rank - 1; d++)
            {
                disjoint &= p.WindowStrides[d] >= p.WindowDimensions[d];
                unpadded &= p.PaddingLow[d] == 0 && p.PaddingHigh[d] == 0;
                tiled &= p.WindowStrides[d] == p.WindowDimensions[d] && (long)Source[d] * p.WindowStrides[d] == operand[d];
            }
            Disjoint = disjoint;
            Write = disjoint && unpadded;
            Tiled = tiled;
        }

        public static SelectScatterGeometry Get(SelectAndScatterAddParams p, Shape operand)
            => CpuPlanCache<SelectAndScatterAddParams, SelectScatterGeometry>.Get(p, operand, static (p, a) => new(p, a));
    }

    static unsafe bool TrySelectAndScatterAddFast(SelectAndScatterAddParams p, SelectScatterGeometry g, CpuBuffer source,
        CpuBuffer operand, CpuBuffer dst)
    {
        if (source.DType != DType.Float32 || operand.DType != DType.Float32) return false;
        if (g.Channels.Plan is not { } plan) return false;
        int run = g.Channels.Run;
        var result = dst.Span<float>();
        long outer = g.Source.Size / Math.Max(1, run);
        bool ge = ReferenceEquals(p.SelectPrim, Prims.Ge);
        bool disjoint = g.Disjoint, write = g.Write;
        if (!(write && g.Tiled)) result.Clear();
        if (outer == 0 || run == 0) return true;
        fixed (byte* xb = operand.Data, sb = source.Data, rb = dst.Data)
        {
            var state = new SelectScatter(plan, run, Config.Isa, ge, write, (nint)xb, (nint)sb, (nint)rb);
            if (disjoint)
                CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize * run)),
                    state, static (st, t0, t1) => SelectAndScatterRange(st, t0, t1), align: 1);
            else SelectAndScatterRange(state, 0, outer);
        }
        return true;
    }

    // What one range of pooled positions of a select-and-scatter-add needs (operand x, source s and
    // result res are pinned by the caller for the call's duration).
    readonly record struct SelectScatter(WindowPlan Plan, int Run, Isa Isa, bool Ge, bool Write, nint X, nint S, nint Res);

    static unsafe void SelectAndScatterRange(SelectScatter st, long t0, long t1)
    {
        var (plan, run, isa, ge, write, xp, sp, rp) = st;
        float* x = (float*)xp, s = (float*)sp, res = (float*)rp;
        var scratch = PoolingScratch.For(plan.Rank, plan.WindowSize, run);
        long[] offsets = scratch.Offsets, valid = scratch.Valid;
        float[] bestVal = scratch.BestVal;
        int[] bestW = scratch.BestW;
        for (long t = t0; t < t1; t++)
        {
            WindowOffsets(plan, t, run, scratch.OutIdx, scratch.K, offsets);
            int nv = 0;
            for (long w = 0; w < plan.WindowSize; w++)
                if (offsets[w] >= 0) valid[nv++] = offsets[w];
            if (nv == 0) continue;
            new ReadOnlySpan<float>(x + valid[0], run).CopyTo(bestVal);
            Array.Clear(bestW, 0, run);
            for (int w = 1; w < nv; w++) SelectStep(isa, ge, x + valid[w], w, bestVal, bestW, run);
            float* stp = s + t * run;
            if (write) WriteWindow(isa, res, valid, nv, bestW, stp, run);
            else for (int c = 0; c < run; c++) res[valid[bestW[c]] + c] += stp[c];
        }
    }

    // Every element of one window: 0 + source where it was selected (so -0 becomes +0 as in the
    // scatter-add into zeros), else 0.
    static unsafe void WriteWindow(Isa isa, float* res, long[] valid, int nv, int[] bestW, float* st, int run)
    {
        fixed (int* bw = bestW)
            for (int w = 0; w < nv; w++)
            {
                float* r = res + valid[w];
                int c = 0;
                if (isa >= Isa.Vector256 && Vector256.IsHardwareAccelerated)
                {
                    var wv = Vector256.Create(w);
                    for (; c <= run - 8; c += 8)
                    {
                        var take = Vector256.Equals(Vector256.Load(bw + c), wv).AsSingle();
                        (Vector256.Load(st + c) + Vector256<float>.Zero & take).Store(r + c);
                    }
                }
                for (; c < run; c++) r[c] = bw[c] == w ? 0f + st[c] : 0f;
            }
    }

    // One more window position w for every channel: take the candidate when the current value is not
    // NaN and the candidate is NaN or strictly better (the first maximum / minimum wins).
    static unsafe void SelectStep(Isa isa, bool ge, float* cand, int w, float[] bestVal, int[] bestW, int run)
    {
        int c = 0;
        fixed (float* bv = bestVal)
        fixed (int* bw = bestW)
        {
            if (isa >= Isa.Vector256 && Vector256.IsHardwareAccelerated)
            {
                var wv = Vector256.Create(w);
                for (; c <= run - 8; c += 8)
                {
                    var cur = Vector256.Load(bv + c);
                    var x = Vector256.Load(cand + c);
                    var better = ge ? Vector256.LessThan(cur, x) : Vector256.GreaterThan(cur, x);
                    var take = Vector256.Equals(cur, cur) & (~Vector256.Equals(x, x) | better);
                    Vector256.ConditionalSelect(take, x, cur).Store(bv + c);
                    Vector256.ConditionalSelect(take.AsInt32(), wv, Vector256.Load(bw + c)).Store(bw + c);
                }
            }
            for (; c < run; c++)
            {
                float cur = bv[c], x = cand[c];
                bool take = !float.IsNaN(cur) && (float.IsNaN(x) || (ge ? cur < x : cur > x));
                if (take) { bv[c] = x; bw[c] = w; }
            }
        }
    }
}
