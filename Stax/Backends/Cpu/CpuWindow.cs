namespace Stax.Backends.Cpu;

/// <summary>
/// Windowed reductions and the window selection primitives of max pooling's derivatives. Values are
/// computed in double (exact for every input dtype; float32 sums round once) and written back with
/// the dtype's wrap-around; windows are visited in row-major order, so results are identical for any
/// thread count.
/// </summary>
public sealed partial class CpuBackend
{
    static partial void RegisterWindow()
    {
        Kernels[Prims.ReduceWindowSum] = (p, ins, outs, it, ot) => ReduceWindow(0, (ReduceWindowParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.ReduceWindowMax] = (p, ins, outs, it, ot) => ReduceWindow(1, (ReduceWindowParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.ReduceWindowMin] = (p, ins, outs, it, ot) => ReduceWindow(2, (ReduceWindowParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.SelectAndScatterAdd] = (p, ins, outs, it, ot) => SelectAndScatterAdd((SelectAndScatterAddParams)p, ins[0], ins[1], it[1], outs[0], ot[0]);
        Kernels[Prims.SelectAndGatherAdd] = (p, ins, outs, it, ot) => SelectAndGatherAdd((SelectAndGatherAddParams)p, ins[0], ins[1], it[1], outs[0], ot[0]);
    }

    /// <summary>
    /// For each dimension, a table [outIndex * window + k] of the operand index that window
    /// position k of output index outIndex reads, or -1 for padding and dilation holes.
    /// </summary>
    sealed class WindowPlan
    {
        public readonly int Rank;
        public readonly int[] OutDims, WinDims;
        public readonly long[] InStrides;
        public readonly int[][] Table;
        public readonly long WindowSize;

        public WindowPlan(Shape operand, Shape output, IntTuple wdims, IntTuple strides, IntTuple padLo, IntTuple baseDil, IntTuple winDil)
        {
            Rank = operand.Rank;
            OutDims = output.ToArray();
            WinDims = wdims.ToArray();
            InStrides = operand.Strides();
            Table = new int[Rank][];
            WindowSize = 1;
            for (int d = 0; d < Rank; d++)
            {
                WindowSize *= WinDims[d];
                var t = new int[(long)OutDims[d] * WinDims[d]];
                for (int o = 0; o < OutDims[d]; o++)
                    for (int k = 0; k < WinDims[d]; k++)
                    {
                        long p = (long)o * strides[d] + (long)k * winDil[d] - padLo[d];
                        t[o * WinDims[d] + k] = p < 0 || p % baseDil[d] != 0 || p / baseDil[d] >= operand[d] ? -1 : (int)(p / baseDil[d]);
                    }
                Table[d] = t;
            }
        }

        /// <summary>Calls <paramref name="visit"/> with each operand flat index (-1 for padding) of output element <paramref name="flat"/>, row-major.</summary>
        public void ForEach(long flat, int[] outIdx, int[] k, Action<long> visit)
        {
            for (int d = Rank - 1; d >= 0; d--) { outIdx[d] = (int)(flat % OutDims[d]); flat /= OutDims[d]; }
            Array.Clear(k);
            for (long w = 0; w < WindowSize; w++)
            {
                long off = 0;
                for (int d = 0; d < Rank; d++)
                {
                    int i = Table[d][outIdx[d] * WinDims[d] + k[d]];
                    if (i < 0) { off = -1; break; }
                    off += i * InStrides[d];
                }
                visit(off);
                for (int d = Rank - 1; d >= 0; d--)
                {
                    if (++k[d] < WinDims[d]) break;
                    k[d] = 0;
                }
            }
        }
    }

    /// <summary>Writes doubles to a buffer: floats round, integers wrap (as integer arithmetic does), bool is != 0.</summary>
    static void WriteWrapped(CpuBuffer dst, double[] v)
    {
        int n = v.Length;
        switch (dst.DType)
        {
            case DType.Float32: { var d = dst.Span<float>(); for (int i = 0; i < n; i++) d[i] = (float)v[i]; break; }
            case DType.Float64: v.AsSpan().CopyTo(dst.Span<double>()); break;
            case DType.Float16: { var d = dst.Span<Half>(); for (int i = 0; i < n; i++) d[i] = (Half)v[i]; break; }
            case DType.BFloat16: { var d = dst.Span<ushort>(); for (int i = 0; i < n; i++) d[i] = ((BFloat16)(float)v[i]).Bits; break; }
            case DType.Int32: { var d = dst.Span<int>(); for (int i = 0; i < n; i++) d[i] = unchecked((int)(long)v[i]); break; }
            case DType.UInt32: { var d = dst.Span<uint>(); for (int i = 0; i < n; i++) d[i] = unchecked((uint)(long)v[i]); break; }
            case DType.Bool: for (int i = 0; i < n; i++) dst.Data[i] = (byte)(v[i] != 0 ? 1 : 0); break;
            default: for (int i = 0; i < n; i++) dst.Data[i] = unchecked((byte)(long)v[i]); break;
        }
    }

    static double LowestOf(DType t) => t switch
    {
        DType.Int32 => int.MinValue,
        DType.UInt32 or DType.UInt8 or DType.Bool => 0,
        _ => double.NegativeInfinity,
    };

    static double HighestOf(DType t) => t switch
    {
        DType.Int32 => int.MaxValue,
        DType.UInt32 => uint.MaxValue,
        DType.UInt8 => 255,
        DType.Bool => 1,
        _ => double.PositiveInfinity,
    };

    /// <summary>kind: 0 sum, 1 max, 2 min.</summary>
    static void ReduceWindow(int kind, ReduceWindowParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst, AbstractValue dstType)
    {
        long total = dstType.Size;
        if (total == 0 || TryReduceWindowFast(kind, p, src, srcType, dst, dstType)) return;
        ReduceWindowGeneral(kind, p, src, srcType, dst, dstType, total);
    }

    // A method of its own: its lambda captures parameters, whose closure would otherwise be
    // allocated on entry to ReduceWindow, on every call, even when the fast path returns.
    static void ReduceWindowGeneral(int kind, ReduceWindowParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst,
        AbstractValue dstType, long total)
    {
        var x = HostConvert.ToDoubles(src.Data, src.DType);
        var plan = new WindowPlan(srcType.Shape, dstType.Shape, p.WindowDimensions, p.WindowStrides, p.PaddingLow, p.BaseDilation, p.WindowDilation);
        double identity = kind == 0 ? 0 : kind == 1 ? LowestOf(src.DType) : HighestOf(src.DType);
        var result = new double[total];
        CpuParallel.For(total, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize)), (t0, t1) =>
        {
            var outIdx = new int[plan.Rank];
            var k = new int[plan.Rank];
            for (long t = t0; t < t1; t++)
            {
                double acc = identity;
                plan.ForEach(t, outIdx, k, off =>
                {
                    double v = off < 0 ? identity : x[off];
                    acc = kind == 0 ? acc + v : kind == 1 ? Math.Max(acc, v) : Math.Min(acc, v);
                });
                result[t] = acc;
            }
        }, align: 1);
        WriteWrapped(dst, result);
    }

    /// <summary>select(current, candidate): keep current while it holds; a NaN is selected and kept.</summary>
    static bool KeepsSelection(bool ge, double current, double candidate)
        => double.IsNaN(current) || (!double.IsNaN(candidate) && (ge ? current >= candidate : current <= candidate));

    static long SelectInWindow(WindowPlan plan, double[] operand, bool ge, long flat, int[] outIdx, int[] k)
    {
        long best = -1;
        plan.ForEach(flat, outIdx, k, off =>
        {
            if (off < 0) return;
            if (best < 0 || !KeepsSelection(ge, operand[best], operand[off])) best = off;
        });
        return best;
    }

    static void SelectAndScatterAdd(SelectAndScatterAddParams p, CpuBuffer source, CpuBuffer operand, AbstractValue operandType, CpuBuffer dst, AbstractValue dstType)
    {
        var geometry = SelectScatterGeometry.Get(p, operandType.Shape);
        if (TrySelectAndScatterAddFast(p, geometry, source, operand, dst)) return;
        SelectAndScatterAddGeneral(p, source, operand, operandType, dst, dstType, geometry.Source);
    }

    // A method of its own, as ReduceWindowGeneral: its lambda's closure is allocated on entry.
    static void SelectAndScatterAddGeneral(SelectAndScatterAddParams p, CpuBuffer source, CpuBuffer operand,
        AbstractValue operandType, CpuBuffer dst, AbstractValue dstType, Shape sourceShape)
    {
        int rank = operandType.Rank;
        var ones = Windows.Ones(rank);
        var result = new double[dstType.Size];
        var s = HostConvert.ToDoubles(source.Data, source.DType);
        if (s.Length > 0)
        {
            var x = HostConvert.ToDoubles(operand.Data, operand.DType);
            var plan = new WindowPlan(operandType.Shape, sourceShape, p.WindowDimensions, p.WindowStrides, p.PaddingLow, ones, ones);
            bool ge = ReferenceEquals(p.SelectPrim, Prims.Ge);
            // Selection is independent per window (parallel); the scatter-add runs in window order.
            var selected = new long[s.Length];
            CpuParallel.For(s.Length, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize)), (t0, t1) =>
            {
                var outIdx = new int[rank];
                var k = new int[rank];
                for (long t = t0; t < t1; t++) selected[t] = SelectInWindow(plan, x, ge, t, outIdx, k);
            }, align: 1);
            for (long t = 0; t < s.Length; t++)
                if (selected[t] >= 0) result[selected[t]] += s[t];
        }
        WriteWrapped(dst, result);
    }

    static void SelectAndGatherAdd(SelectAndGatherAddParams p, CpuBuffer tangents, CpuBuffer operand, AbstractValue operandType, CpuBuffer dst, AbstractValue dstType)
    {
        long total = dstType.Size;
        if (total == 0) return;
        var tan = HostConvert.ToDoubles(tangents.Data, tangents.DType);
        var x = HostConvert.ToDoubles(operand.Data, operand.DType);
        var plan = new WindowPlan(operandType.Shape, dstType.Shape, p.WindowDimensions, p.WindowStrides, p.PaddingLow, p.BaseDilation, p.WindowDilation);
        bool ge = ReferenceEquals(p.SelectPrim, Prims.Ge);
        var result = new double[total];
        CpuParallel.For(total, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.WindowSize)), (t0, t1) =>
        {
            var outIdx = new int[plan.Rank];
            var k = new int[plan.Rank];
            for (long t = t0; t < t1; t++)
            {
                long sel = SelectInWindow(plan, x, ge, t, outIdx, k);
                result[t] = sel >= 0 ? tan[sel] : 0;
            }
        }, align: 1);
        WriteWrapped(dst, result);
    }
}
