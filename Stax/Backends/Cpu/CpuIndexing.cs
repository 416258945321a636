using System.Numerics;
using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterIndexing()
    {
        Kernels[Prims.Gather] = (p, ins, outs, it, ot)
            => GatherKernel((GatherParams)p, ins[0], ins[1], outs[0], it[0], it[1], ot[0]);
        Kernels[Prims.Scatter] = (p, ins, outs, it, ot) => ScatterKernel(ScatterKind.Set, (ScatterParams)p, ins, outs[0], it);
        Kernels[Prims.ScatterAdd] = (p, ins, outs, it, ot) => ScatterKernel(ScatterKind.Add, (ScatterParams)p, ins, outs[0], it);
        Kernels[Prims.ScatterMul] = (p, ins, outs, it, ot) => ScatterKernel(ScatterKind.Mul, (ScatterParams)p, ins, outs[0], it);
        Kernels[Prims.ScatterMin] = (p, ins, outs, it, ot) => ScatterKernel(ScatterKind.Min, (ScatterParams)p, ins, outs[0], it);
        Kernels[Prims.ScatterMax] = (p, ins, outs, it, ot) => ScatterKernel(ScatterKind.Max, (ScatterParams)p, ins, outs[0], it);
    }

    enum ScatterKind { Set, Add, Mul, Min, Max }

    /// <summary>Reads index element <paramref name="i"/> of an integer buffer as a long.</summary>
    static long ReadIndex(byte[] data, DType t, long i) => t switch
    {
        DType.Int32 => MemoryMarshal.Cast<byte, int>(data.AsSpan())[(int)i],
        DType.UInt32 => MemoryMarshal.Cast<byte, uint>(data.AsSpan())[(int)i],
        _ => data[i],
    };

    /// <summary>The bytes of one element holding <paramref name="fill"/> (or jax's default fill)
    /// in <paramref name="t"/>.</summary>
    static byte[] FillBytes(DType t, double? fill)
    {
        if (fill is not { } v)
            return t switch
            {
                DType.Float32 => BitConverter.GetBytes(0x7FC00000),
                DType.Float64 => BitConverter.GetBytes(0x7FF8000000000000L),
                DType.Float16 => BitConverter.GetBytes((ushort)0x7E00),
                DType.BFloat16 => BitConverter.GetBytes((ushort)0x7FC0),
                DType.Int32 => BitConverter.GetBytes(int.MinValue),
                DType.UInt32 => BitConverter.GetBytes(uint.MaxValue),
                DType.UInt8 => new byte[] { 255 },
                _ => new byte[] { 1 },
            };
        return t switch
        {
            DType.Float32 => BitConverter.GetBytes((float)v),
            DType.Float64 => BitConverter.GetBytes(v),
            DType.Float16 => BitConverter.GetBytes((Half)v),
            DType.BFloat16 => BitConverter.GetBytes(((BFloat16)(float)v).Bits),
            // A fill value converts like convert_element_type.
            DType.Int32 => BitConverter.GetBytes(HostConvert.FloatToInt32(v)),
            DType.UInt32 => BitConverter.GetBytes(HostConvert.FloatToUInt32(v)),
            DType.UInt8 => new[] { HostConvert.FloatToUInt8(v) },
            _ => new[] { (byte)(v != 0 ? 1 : 0) },
        };
    }

    /// <summary>
    /// Precomputed geometry of a gather slice or scatter window: the slice is walked as rows of its
    /// last dimension; each row has an offset in the operand and in the output/updates.
    /// </summary>
    sealed class Window
    {
        public long Rows;
        public int Inner;
        public long InnerOperandStride, InnerOtherStride;
        public long[] RowOperand = Array.Empty<long>(), RowOther = Array.Empty<long>();

        public Window(int[] sizes, long[] operandStrides, long[] otherStrides)
        {
            int n = sizes.Length;
            Inner = n == 0 ? 1 : sizes[n - 1];
            InnerOperandStride = n == 0 ? 0 : operandStrides[n - 1];
            InnerOtherStride = n == 0 ? 0 : otherStrides[n - 1];
            long rows = 1;
            for (int k = 0; k < n - 1; k++) rows *= sizes[k];
            if (Inner == 0) rows = 0;
            Rows = rows;
            RowOperand = new long[rows];
            RowOther = new long[rows];
            var idx = new int[Math.Max(0, n - 1)];
            long op = 0, other = 0;
            for (long r = 0; r < rows; r++)
            {
                RowOperand[r] = op;
                RowOther[r] = other;
                // Increment the multi-index over the outer dimensions (row-major).
                for (int k = n - 2; k >= 0; k--)
                {
                    idx[k]++;
                    op += operandStrides[k];
                    other += otherStrides[k];
                    if (idx[k] < sizes[k]) break;
                    op -= operandStrides[k] * sizes[k];
                    other -= otherStrides[k] * sizes[k];
                    idx[k] = 0;
                }
            }
        }
    }

    static void GatherKernel(GatherParams g, CpuBuffer operand, CpuBuffer indices, CpuBuffer output,
        AbstractValue opT, AbstractValue idxT, AbstractValue outT)
    {
        switch (opT.DType.SizeOf())
        {
            case 1: GatherTyped<byte>(g, operand, indices, output, opT, idxT, outT); break;
            case 2: GatherTyped<ushort>(g, operand, indices, output, opT, idxT, outT); break;
            case 4: GatherTyped<int>(g, operand, indices, output, opT, idxT, outT); break;
            default: GatherTyped<long>(g, operand, indices, output, opT, idxT, outT); break;
        }
    }

    /// <summary>A gather's geometry for one pair of operand and indices shapes (computed once per equation).</summary>
    sealed class GatherPlan
    {
        public int Nb, NIdx;
        public required int[] OpDims, Slice, BatchSizes, StartMap, Obd, Sibd;
        public required long[] OpStrides, BatchOutStride;
        public required Window Window;
        public bool EmptySlice;
        public long Batches, SliceSize;
    }

    // jax's default fill element per dtype (indexed by the enum), made once.
    static readonly byte[][] DefaultFills = Enum.GetValues<DType>().Select(t => FillBytes(t, null)).ToArray();

    static GatherPlan MakeGatherPlan(Shape outShape, GatherParams g, Shape opShape, Shape idxShape)
    {
        var dn = g.DimensionNumbers;
        int outRank = outShape.Rank, nb = idxShape.Rank - 1;
        var opStrides = opShape.Strides();
        var outStrides = outShape.Strides();
        var slice = g.SliceSizes.ToArray();
        // Output dimensions: offset dims take the operand's non-collapsed, non-batching dims in order;
        // the others take the indices' batch dimensions in order.
        var batchSizes = new int[nb];
        var batchOutStride = new long[nb];
        var offSizes = new List<int>();
        var offOpStride = new List<long>();
        var offOutStride = new List<long>();
        int nextOp = 0, nextBatch = 0;
        for (int o = 0; o < outRank; o++)
        {
            if (dn.OffsetDims.Contains(o))
            {
                while (dn.CollapsedSliceDims.Contains(nextOp) || dn.OperandBatchingDims.Contains(nextOp)) nextOp++;
                offSizes.Add(slice[nextOp]);
                offOpStride.Add(opStrides[nextOp]);
                offOutStride.Add(outStrides[o]);
                nextOp++;
            }
            else
            {
                batchSizes[nextBatch] = idxShape[nextBatch];
                batchOutStride[nextBatch] = outStrides[o];
                nextBatch++;
            }
        }
        bool emptySlice = false;
        foreach (var d in dn.CollapsedSliceDims.Span) if (slice[d] == 0) emptySlice = true;
        foreach (var d in dn.OperandBatchingDims.Span) if (slice[d] == 0) emptySlice = true;
        var window = new Window(offSizes.ToArray(), offOpStride.ToArray(), offOutStride.ToArray());
        long batches = 1;
        foreach (var b in batchSizes) batches *= b;
        return new GatherPlan
        {
            Nb = nb, NIdx = idxShape[nb], OpDims = opShape.ToArray(), Slice = slice, BatchSizes = batchSizes,
            StartMap = dn.StartIndexMap.ToArray(), Obd = dn.OperandBatchingDims.ToArray(),
            Sibd = dn.StartIndicesBatchingDims.ToArray(),
            OpStrides = opStrides, BatchOutStride = batchOutStride, Window = window, EmptySlice = emptySlice,
            Batches = batches, SliceSize = window.Rows * window.Inner,
        };
    }

    static void GatherTyped<T>(GatherParams g, CpuBuffer operand, CpuBuffer indices, CpuBuffer output,
        AbstractValue opT, AbstractValue idxT, AbstractValue outT) where T : unmanaged
    {
        long total = outT.Size;
        if (total == 0) return;
        var plan = CpuPlanCache<GatherParams, GatherPlan>.Get(g, opT.Shape, idxT.Shape, outT.Shape, MakeGatherPlan);
        T fill = g.Mode == GatherScatterMode.FillOrDrop
            ? MemoryMarshal.Read<T>(g.FillValue is null ? DefaultFills[(int)opT.DType] : FillBytes(opT.DType, g.FillValue))
            : default;
        CpuParallel.For(plan.Batches, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.SliceSize)),
            (plan, fill, g.Mode, idxData: indices.Data, idxType: idxT.DType, src: operand.Data, dst: output.Data),
            static (st, b0, b1) =>
        {
            var (plan, fill, mode, idxData, idxType, src, dst) = st;
            var s = MemoryMarshal.Cast<byte, T>(src.AsSpan());
            var d = MemoryMarshal.Cast<byte, T>(dst.AsSpan());
            int nb = plan.Nb, nIdx = plan.NIdx;
            var batchSizes = plan.BatchSizes;
            var window = plan.Window;
            Span<int> bIdx = nb <= 16 ? stackalloc int[16] : new int[nb];
            // Unravel b0 into the batch multi-index, then increment as we go.
            long rem = b0;
            for (int k = nb - 1; k >= 0; k--) { bIdx[k] = (int)(rem % batchSizes[k]); rem /= batchSizes[k]; }
            for (long b = b0; b < b1; b++)
            {
                long outBase = 0;
                for (int k = 0; k < nb; k++) outBase += bIdx[k] * plan.BatchOutStride[k];
                bool inBounds = !plan.EmptySlice;
                long start = 0;
                for (int k = 0; k < nIdx; k++)
                {
                    int dim = plan.StartMap[k];
                    long v = ReadIndex(idxData, idxType, b * nIdx + k);
                    long hi = plan.OpDims[dim] - plan.Slice[dim];
                    if (v < 0 || v > hi)
                    {
                        if (mode == GatherScatterMode.FillOrDrop) inBounds = false;
                        v = Math.Clamp(v, 0, Math.Max(0, hi));
                    }
                    start += v * plan.OpStrides[dim];
                }
                for (int k = 0; k < plan.Obd.Length; k++) start += bIdx[plan.Sibd[k]] * plan.OpStrides[plan.Obd[k]];

                int inner = window.Inner;
                for (long row = 0; row < window.Rows; row++)
                {
                    long o = outBase + window.RowOther[row];
                    if (!inBounds)
                    {
                        for (int j = 0; j < inner; j++) d[(int)(o + j * window.InnerOtherStride)] = fill;
                        continue;
                    }
                    long a = start + window.RowOperand[row];
                    if (window.InnerOperandStride == 1 && window.InnerOtherStride == 1)
                        s.Slice((int)a, inner).CopyTo(d.Slice((int)o, inner));
                    else
                        for (int j = 0; j < inner; j++)
                            d[(int)(o + j * window.InnerOtherStride)] = s[(int)(a + j * window.InnerOperandStride)];
                }
                for (int k = nb - 1; k >= 0; k--)
                {
                    if (++bIdx[k] < batchSizes[k]) break;
                    bIdx[k] = 0;
                }
            }
        });
    }

    interface IScatterOp
    {
        static abstract T Apply<T>(T old, T update) where T : INumber<T>;
    }

    struct SetOp : IScatterOp { public static T Apply<T>(T old, T update) where T : INumber<T> => update; }
    struct AddOp : IScatterOp { public static T Apply<T>(T old, T update) where T : INumber<T> => unchecked(old + update); }
    struct MulOp : IScatterOp { public static T Apply<T>(T old, T update) where T : INumber<T> => unchecked(old * update); }
    // T.Min/T.Max propagate NaN for floating types (IEEE 754:2019 minimum/maximum), as XLA does.
    struct MinOp : IScatterOp { public static T Apply<T>(T old, T update) where T : INumber<T> => T.Min(old, update); }
    struct MaxOp : IScatterOp { public static T Apply<T>(T old, T update) where T : INumber<T> => T.Max(old, update); }

    static void ScatterKernel(ScatterKind kind, ScatterParams p, CpuBuffer[] ins, CpuBuffer output, AbstractValue[] types)
    {
        ins[0].Data.AsSpan().CopyTo(output.Data);
        var dtype = types[0].DType;
        if (kind == ScatterKind.Set)
        {
            switch (dtype.SizeOf())
            {
                case 1: ScatterTyped<byte, SetOp>(p, ins, output, types); break;
                case 2: ScatterTyped<ushort, SetOp>(p, ins, output, types); break;
                case 4: ScatterTyped<int, SetOp>(p, ins, output, types); break;
                default: ScatterTyped<long, SetOp>(p, ins, output, types); break;
            }
            return;
        }
        if (dtype == DType.Bool)
        {
            // On 0/1 values: or = max, and = min = product.
            kind = kind switch { ScatterKind.Add => ScatterKind.Max, ScatterKind.Mul => ScatterKind.Min, _ => kind };
            Dispatch<byte>(kind, p, ins, output, types);
            return;
        }
        if (dtype == DType.BFloat16)
        {
            // Compute in float32 and round back (bfloat16 is storage-first in Stax).
            var f = new[] { ToFloatBuffer(ins[0]), ins[1], ToFloatBuffer(ins[2]) };
            var o = ToFloatBuffer(ins[0]);
            var ft = new[] { types[0] with { DType = DType.Float32 }, types[1], types[2] with { DType = DType.Float32 } };
            Dispatch<float>(kind, p, f, o, ft);
            var src = o.Span<float>();
            var dst = output.Span<ushort>();
            for (int i = 0; i < dst.Length; i++) dst[i] = ((BFloat16)src[i]).Bits;
            // The temporaries go back to the pool now, after their last read (left to their finalizers, a
            // collection during the loop above could hand o's array to another kernel while it is read).
            f[0].Release();
            f[2].Release();
            o.Release();
            return;
        }
        switch (dtype)
        {
            case DType.Float32: Dispatch<float>(kind, p, ins, output, types); break;
            case DType.Float64: Dispatch<double>(kind, p, ins, output, types); break;
            case DType.Float16: Dispatch<Half>(kind, p, ins, output, types); break;
            case DType.Int32: Dispatch<int>(kind, p, ins, output, types); break;
            case DType.UInt32: Dispatch<uint>(kind, p, ins, output, types); break;
            default: Dispatch<byte>(kind, p, ins, output, types); break;
        }
    }

    static CpuBuffer ToFloatBuffer(CpuBuffer b)
    {
        var f = Instance.Allocate(DType.Float32, b.Length);
        var s = b.Span<ushort>();
        var d = f.Span<float>();
        for (int i = 0; i < s.Length; i++) d[i] = (float)BFloat16.FromBits(s[i]);
        return f;
    }

    static void Dispatch<T>(ScatterKind kind, ScatterParams p, CpuBuffer[] ins, CpuBuffer output, AbstractValue[] types)
        where T : unmanaged, INumber<T>
    {
        switch (kind)
        {
            case ScatterKind.Add: ScatterTyped<T, AddOp>(p, ins, output, types); break;
            case ScatterKind.Mul: ScatterTyped<T, MulOp>(p, ins, output, types); break;
            case ScatterKind.Min: ScatterTyped<T, MinOp>(p, ins, output, types); break;
            case ScatterKind.Max: ScatterTyped<T, MaxOp>(p, ins, output, types); break;
            default: ScatterTyped<T, SetOp>(p, ins, output, types); break;
        }
    }

    /// <summary>
    /// Scatter: updates are applied in row-major order of the updates' scatter dimensions, so
    /// repeated indices combine deterministically. When no window dimension is indexed, distinct
    /// window positions always hit distinct operand elements, so threads split the window and each
    /// walks all updates in order (deterministic for any thread count).
    /// </summary>
    static void ScatterTyped<T, TOp>(ScatterParams p, CpuBuffer[] ins, CpuBuffer output, AbstractValue[] types)
        where T : unmanaged, INumber<T> where TOp : struct, IScatterOp
    {
        var opT = types[0];
        var idxT = types[1];
        var updT = types[2];
        if (updT.Size == 0 || opT.Size == 0) return;
        var plan = CpuPlanCache<ScatterParams, ScatterPlan>.Get(p, opT.Shape, idxT.Shape, updT.Shape, MakeScatterPlan);
        long batches = plan.Batches;
        int nb = plan.Nb, nIdx = plan.NIdx;

        // First pass: each update's operand start (or -1 when dropped) and its offset in updates
        // (pooled arrays: a train step scatters every step).
        var starts = System.Buffers.ArrayPool<long>.Shared.Rent((int)batches);
        var bases = System.Buffers.ArrayPool<long>.Shared.Rent((int)batches);
        try
        {
            Span<int> bIdx = nb <= 16 ? stackalloc int[16] : new int[nb];
            bIdx.Clear();
            for (long b = 0; b < batches; b++)
            {
                long ub = 0;
                for (int k = 0; k < nb; k++) ub += bIdx[k] * plan.BatchUpdStride[k];
                bases[b] = ub;
                long start = 0;
                bool drop = false;
                for (int k = 0; k < nIdx; k++)
                {
                    int dim = plan.Sdod[k];
                    long v = ReadIndex(ins[1].Data, idxT.DType, b * nIdx + k);
                    long hi = plan.OpDims[dim] - plan.WinAlong[dim];
                    if (v < 0 || v > hi)
                    {
                        if (p.Mode == GatherScatterMode.Clip) v = Math.Clamp(v, 0, Math.Max(0, hi));
                        else drop = true;
                    }
                    start += v * plan.OpStrides[dim];
                }
                for (int k = 0; k < plan.Obd.Length; k++) start += bIdx[plan.Sibd[k]] * plan.OpStrides[plan.Obd[k]];
                starts[b] = drop ? -1 : start;
                for (int k = nb - 1; k >= 0; k--)
                {
                    if (++bIdx[k] < plan.BatchSizes[k]) break;
                    bIdx[k] = 0;
                }
            }

            var window = plan.Window;
            var st = (window, starts, bases, batches, upd: ins[2].Data, outp: output.Data);
            long work = batches * window.Rows * window.Inner;
            if (plan.WindowIndexed || work < CpuParallel.ElementwiseGrain || window.Rows * window.Inner < 2)
                ScatterBody<T, TOp>(st, 0, window.Rows, 0, window.Inner);
            else if (window.Rows >= 2)
                CpuParallel.For(window.Rows, 1, st,
                    static (st, s, e) => ScatterBody<T, TOp>(st, s, e, 0, st.window.Inner), align: 1);
            else
                CpuParallel.For(window.Inner, 1, st, static (st, s, e) => ScatterBody<T, TOp>(st, 0, st.window.Rows, s, e));
        }
        finally
        {
            System.Buffers.ArrayPool<long>.Shared.Return(starts);
            System.Buffers.ArrayPool<long>.Shared.Return(bases);
        }
    }

    static void ScatterBody<T, TOp>((Window window, long[] starts, long[] bases, long batches, byte[] upd, byte[] outp) st,
        long r0, long r1, long c0, long c1)
        where T : unmanaged, INumber<T> where TOp : struct, IScatterOp
    {
        var (window, starts, bases, batches, updData, outData) = st;
        var u = MemoryMarshal.Cast<byte, T>(updData.AsSpan());
        var o = MemoryMarshal.Cast<byte, T>(outData.AsSpan());
        long so = window.InnerOperandStride, su = window.InnerOtherStride;
        for (long b = 0; b < batches; b++)
        {
            long start = starts[b];
            if (start < 0) continue;
            long ub = bases[b];
            for (long row = r0; row < r1; row++)
            {
                long a = start + window.RowOperand[row];
                long c = ub + window.RowOther[row];
                if (so == 1 && su == 1)
                {
                    var os = o.Slice((int)(a + c0), (int)(c1 - c0));
                    var us = u.Slice((int)(c + c0), (int)(c1 - c0));
                    for (int j = 0; j < os.Length; j++) os[j] = TOp.Apply(os[j], us[j]);
                }
                else
                    for (long j = c0; j < c1; j++)
                    {
                        int oi = (int)(a + j * so);
                        o[oi] = TOp.Apply(o[oi], u[(int)(c + j * su)]);
                    }
            }
        }
    }

    /// <summary>A scatter's geometry for one set of operand, indices and updates shapes (computed once per equation).</summary>
    sealed class ScatterPlan
    {
        public int Nb, NIdx;
        public required int[] OpDims, BatchSizes, Sdod, Obd, Sibd;
        public required long[] OpStrides, WinAlong, BatchUpdStride;
        public required Window Window;
        public bool WindowIndexed;
        public long Batches;
    }

    static ScatterPlan MakeScatterPlan(Shape updShape, ScatterParams p, Shape opShape, Shape idxShape)
    {
        var dn = p.DimensionNumbers;
        int r = opShape.Rank, nb = idxShape.Rank - 1;
        var opStrides = opShape.Strides();
        var updStrides = updShape.Strides();
        var winAlong = new long[r]; // window extent along each operand dimension
        for (int d = 0; d < r; d++) winAlong[d] = 1;
        var batchSizes = new int[nb];
        var batchUpdStride = new long[nb];
        var wSizes = new List<int>();
        var wOpStride = new List<long>();
        var wUpdStride = new List<long>();
        bool windowIndexed = false;
        int nextOp = 0, nextBatch = 0;
        for (int u = 0; u < updShape.Rank; u++)
        {
            if (dn.UpdateWindowDims.Contains(u))
            {
                while (dn.InsertedWindowDims.Contains(nextOp) || dn.OperandBatchingDims.Contains(nextOp)) nextOp++;
                wSizes.Add(updShape[u]);
                wOpStride.Add(opStrides[nextOp]);
                wUpdStride.Add(updStrides[u]);
                winAlong[nextOp] = updShape[u];
                if (dn.ScatterDimsToOperandDims.Contains(nextOp) && updShape[u] > 1) windowIndexed = true;
                nextOp++;
            }
            else
            {
                batchSizes[nextBatch] = idxShape[nextBatch];
                batchUpdStride[nextBatch] = updStrides[u];
                nextBatch++;
            }
        }
        long batches = 1;
        foreach (var b in batchSizes) batches *= b;
        return new ScatterPlan
        {
            Nb = nb, NIdx = idxShape[nb], OpDims = opShape.ToArray(), BatchSizes = batchSizes,
            Sdod = dn.ScatterDimsToOperandDims.ToArray(), Obd = dn.OperandBatchingDims.ToArray(),
            Sibd = dn.ScatterIndicesBatchingDims.ToArray(),
            OpStrides = opStrides, WinAlong = winAlong, BatchUpdStride = batchUpdStride,
            Window = new Window(wSizes.ToArray(), wOpStride.ToArray(), wUpdStride.ToArray()),
            WindowIndexed = windowIndexed, Batches = batches,
        };
    }
}
