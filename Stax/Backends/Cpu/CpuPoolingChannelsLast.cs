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

    // Offsets (in elements of the full operand, -1 for padding) of every window position of outer
    // element t, row-major over the window (no delegate: this runs once per pooled position).
    static void WindowOffsets(WindowPlan plan, long t, int run, int[] outIdx, int[] k, long[] offsets)
    {
        int rank = plan.Rank;
        for (int d = rank - 1; d >= 0; d--) { outIdx[d] = (int)(t % plan.OutDims[d]); t /= plan.OutDims[d]; }
        Array.Clear(k);
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
        if (!ChannelRun(src.DType, srcType.Shape, dstType.Shape, p.WindowDimensions, p.WindowStrides, p.PaddingLow,
                p.BaseDilation, p.WindowDilation, out var plan, out int run))
            return false;
        long outer = dstType.Size / Math.Max(1, run);
        if (outer == 0 || run == 0) return true;
        var isa = Config.Isa;
        byte[] xa = src.Data, ya = dst.Data;
        float identity = kind == 0 ? 0f : kind == 1 ? float.NegativeInfinity : float.PositiveInfinity;
        CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize * run)), (t0, t1) =>
        {
            var outIdx = new int[plan.Rank];
            var k = new int[plan.Rank];
            var offsets = new long[plan.WindowSize];
            ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(xa));
            for (long t = t0; t < t1; t++)
            {
                ref float y = ref Unsafe.Add(
                    ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(ya)), (nint)(t * run));
                MemoryMarshal.CreateSpan(ref y, run).Fill(identity);
                WindowOffsets(plan, t, run, outIdx, k, offsets);
                foreach (long off in offsets)
                {
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

    static unsafe bool TrySelectAndScatterAddFast(SelectAndScatterAddParams p, CpuBuffer source, CpuBuffer operand,
        AbstractValue operandType, CpuBuffer dst, Shape sourceShape)
    {
        var ones = Windows.Ones(operandType.Rank);
        if (source.DType != DType.Float32 ||
            !ChannelRun(operand.DType, operandType.Shape, sourceShape, p.WindowDimensions, p.WindowStrides, p.PaddingLow,
                ones, ones, out var plan, out int run))
            return false;
        var result = dst.Span<float>();
        long outer = sourceShape.Size / Math.Max(1, run);
        bool ge = ReferenceEquals(p.SelectPrim, Prims.Ge);
        // Windows that cannot overlap scatter to disjoint elements: any order, so threads split them.
        // Without padding each such window then writes all its elements (the selected one gets
        // 0 + source, as the scatter-add would, the others 0), and when the windows tile the
        // operand exactly nothing is left to clear first.
        bool disjoint = true, unpadded = true, tiled = true;
        for (int d = 0; d < plan.Rank; d++)
        {
            disjoint &= p.WindowStrides[d] >= p.WindowDimensions[d];
            unpadded &= p.PaddingLow[d] == 0 && p.PaddingHigh[d] == 0;
            tiled &= p.WindowStrides[d] == p.WindowDimensions[d]
                && (long)sourceShape[d] * p.WindowStrides[d] == operandType.Shape[d];
        }
        bool write = disjoint && unpadded;
        if (!(write && tiled)) result.Clear();
        if (outer == 0 || run == 0) return true;
        fixed (byte* xb = operand.Data, sb = source.Data, rb = dst.Data)
        {
            float* x = (float*)xb, s = (float*)sb, res = (float*)rb;
            var isa = Config.Isa;
            void Range(long t0, long t1)
            {
                var outIdx = new int[plan.Rank];
                var k = new int[plan.Rank];
                var offsets = new long[plan.WindowSize];
                var valid = new long[plan.WindowSize];
                var bestVal = new float[run];
                var bestW = new int[run];
                for (long t = t0; t < t1; t++)
                {
                    WindowOffsets(plan, t, run, outIdx, k, offsets);
                    int nv = 0;
                    foreach (long off in offsets) if (off >= 0) valid[nv++] = off;
                    if (nv == 0) continue;
                    new ReadOnlySpan<float>(x + valid[0], run).CopyTo(bestVal);
                    Array.Clear(bestW);
                    for (int w = 1; w < nv; w++) SelectStep(isa, ge, x + valid[w], w, bestVal, bestW, run);
                    float* st = s + t * run;
                    if (write) WriteWindow(isa, res, valid, nv, bestW, st, run);
                    else for (int c = 0; c < run; c++) res[valid[bestW[c]] + c] += st[c];
                }
            }
            if (disjoint)
                CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize * run)),
                    Range, align: 1);
            else Range(0, outer);
        }
        return true;
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
