using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

// Transpose, slice, pad, concatenate, rev and the dynamic slices. All of them are one operation:
// a strided copy of a box of elements (CpuMovePlan), which simplifies the box (drops size-1
// dimensions, merges dimensions that are contiguous in both source and destination) and then
// copies contiguous rows with memmove, transposes 2-D tiles when the source's unit-stride
// dimension is not the destination's, or falls back to a strided element loop. Kernels work on
// raw bytes and are generic over the element size (1, 2, 4, 8 bytes), so every dtype shares them.
// They do not vectorise explicitly (memmove already does), so they ignore Config.Isa.
public sealed partial class CpuBackend
{
    static partial void RegisterSlicing()
    {
        Kernels[Prims.Transpose] = (p, ins, outs, it, ot) => TransposeKernel((TransposeParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.Slice] = (p, ins, outs, it, ot) => SliceKernel((SliceParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.Rev] = (p, ins, outs, it, ot) => RevKernel((RevParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Pad] = (p, ins, outs, it, ot) => PadKernel((PadParams)p, ins[0], ins[1], it[0], outs[0], ot[0]);
        Kernels[Prims.Concatenate] = (p, ins, outs, it, ot) => ConcatenateKernel((ConcatenateParams)p, ins, it, outs[0], ot[0]);
        Kernels[Prims.DynamicSlice] = (p, ins, outs, it, ot) => DynamicSliceKernel(ins, it, outs[0], ot[0]);
        Kernels[Prims.DynamicUpdateSlice] = (p, ins, outs, it, ot) => DynamicUpdateSliceKernel(ins, it, outs[0]);
    }

    // Transpose, slice and rev depend only on their parameters and operand shape: their copy plan
    // is cached per equation (a compiled program's calls allocate nothing for it).
    static void TransposeKernel(TransposeParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst, AbstractValue dt)
        => CpuPlanCache<TransposeParams, CpuMovePlan>.Get(p, st.Shape, dt.Shape, 0, static (_, p, shape, outShape) =>
        {
            var inStrides = shape.Strides();
            var srcStrides = new long[shape.Rank];
            for (int i = 0; i < srcStrides.Length; i++) srcStrides[i] = inStrides[p.Permutation[i]];
            return CpuMovePlan.Make(0, srcStrides, 0, outShape.Strides(), outShape.Dims);
        }).Run(src.Data, dst.Data, dst.DType.SizeOf());

    static void SliceKernel(SliceParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst, AbstractValue dt)
        => CpuPlanCache<SliceParams, CpuMovePlan>.Get(p, st.Shape, dt.Shape, 0, static (_, p, shape, outShape) =>
        {
            var inStrides = shape.Strides();
            var srcStrides = new long[shape.Rank];
            long srcBase = 0;
            for (int d = 0; d < shape.Rank; d++)
            {
                srcBase += p.StartIndices[d] * inStrides[d];
                srcStrides[d] = p.Strides[d] * inStrides[d];
            }
            return CpuMovePlan.Make(srcBase, srcStrides, 0, outShape.Strides(), outShape.Dims);
        }).Run(src.Data, dst.Data, dst.DType.SizeOf());

    static void RevKernel(RevParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst)
        => CpuPlanCache<RevParams, CpuMovePlan>.Get(p, st.Shape, static (p, shape) =>
        {
            var srcStrides = shape.Strides();
            long srcBase = 0;
            foreach (var d in p.Dimensions.Span)
            {
                srcBase += Math.Max(0, shape[d] - 1) * srcStrides[d];
                srcStrides[d] = -srcStrides[d];
            }
            return CpuMovePlan.Make(srcBase, srcStrides, 0, shape.Strides(), shape.Dims);
        }).Run(src.Data, dst.Data, dst.DType.SizeOf());

    static void PadKernel(PadParams p, CpuBuffer src, CpuBuffer value, AbstractValue st, CpuBuffer dst, AbstractValue dt)
    {
        int esize = dst.DType.SizeOf();
        int rank = st.Rank;
        var outStrides = dt.Shape.Strides();
        var box = new int[rank];
        var srcStrides = st.Shape.Strides();
        var dstStrides = new long[rank];
        long srcBase = 0, dstBase = 0;
        bool fullyCovered = true;
        for (int d = 0; d < rank; d++)
        {
            int n = st.Shape[d], outN = dt.Shape[d];
            long step = p.Interior[d] + 1L, low = p.Low[d];
            // Input element i lands at low + i * step; keep those inside [0, outN).
            long first = low >= 0 ? 0 : (-low + step - 1) / step;
            long last = n == 0 || low + (n - 1) * step < 0 ? -1 : Math.Min(n - 1, MoveFloorDiv(outN - 1 - low, step));
            box[d] = (int)Math.Max(0, last - first + 1);
            srcBase += first * srcStrides[d];
            dstBase += (low + first * step) * outStrides[d];
            dstStrides[d] = step * outStrides[d];
            if (p.Low[d] > 0 || p.High[d] > 0 || (p.Interior[d] > 0 && n > 1)) fullyCovered = false;
        }
        if (!fullyCovered) MoveFill(dst.Data, value.Data.AsSpan(0, esize), esize);
        foreach (var b in box) if (b == 0) return;
        MoveStridedCopy(src.Data, srcBase, srcStrides, dst.Data, dstBase, dstStrides, box, esize);
    }

    static long MoveFloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    static void ConcatenateKernel(ConcatenateParams p, CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst, AbstractValue dt)
    {
        int esize = dst.DType.SizeOf();
        var dstStrides = dt.Shape.Strides();
        long offset = 0;
        for (int i = 0; i < ins.Length; i++)
        {
            var shape = it[i].Shape;
            if (shape.Size > 0)
                MoveStridedCopy(ins[i].Data, 0, shape.Strides(), dst.Data, offset * dstStrides[p.Dimension], dstStrides, shape.ToArray(), esize);
            offset += shape[p.Dimension];
        }
    }

    // XLA clamps each start index to [0, operand size - slice size].
    static long[] MoveClampedStarts(CpuBuffer[] idx, AbstractValue[] idxTypes, int first, Shape operand, ReadOnlySpan<int> sizes)
    {
        var starts = new long[operand.Rank];
        for (int d = 0; d < starts.Length; d++)
        {
            var b = idx[first + d];
            long v = b.DType switch
            {
                DType.Int32 => b.Span<int>()[0],
                DType.UInt32 => b.Span<uint>()[0],
                _ => b.Data[0],
            };
            starts[d] = Math.Clamp(v, 0, operand[d] - (long)sizes[d]);
        }
        return starts;
    }

    static void DynamicSliceKernel(CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst, AbstractValue dt)
    {
        var shape = it[0].Shape;
        if (dt.Size == 0) return;
        var starts = MoveClampedStarts(ins, it, 1, shape, dt.Shape.Dims);
        var strides = shape.Strides();
        long srcBase = 0;
        for (int d = 0; d < starts.Length; d++) srcBase += starts[d] * strides[d];
        MoveStridedCopy(ins[0].Data, srcBase, strides, dst.Data, 0, dt.Shape.Strides(), dt.Shape.ToArray(), dst.DType.SizeOf());
    }

    static void DynamicUpdateSliceKernel(CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst)
    {
        var shape = it[0].Shape;
        MoveCopyAll(ins[0].Data, dst.Data);
        var ushape = it[1].Shape;
        if (ushape.Size == 0) return;
        var starts = MoveClampedStarts(ins, it, 2, shape, ushape.Dims);
        var strides = shape.Strides();
        long dstBase = 0;
        for (int d = 0; d < starts.Length; d++) dstBase += starts[d] * strides[d];
        MoveStridedCopy(ins[1].Data, 0, ushape.Strides(), dst.Data, dstBase, strides, ushape.ToArray(), dst.DType.SizeOf());
    }

    // ------------------------------------------------------------------ engine

    const int MoveByteGrain = 1 << 17;

    static void MoveCopyAll(byte[] src, byte[] dst)
    {
        long n = src.Length;
        CpuParallel.For(n, MoveByteGrain, (s, e) => src.AsSpan((int)s, (int)(e - s)).CopyTo(dst.AsSpan((int)s)));
    }

    static void MoveFill(byte[] dst, ReadOnlySpan<byte> value, int esize)
    {
        if (dst.Length == 0) return;
        ulong pattern = 0;
        for (int i = 0; i < esize; i++) pattern |= (ulong)value[i] << (8 * i);
        long n = dst.Length / esize;
        CpuParallel.For(n, MoveByteGrain / esize, (s, e) =>
        {
            var span = dst.AsSpan((int)(s * esize), (int)((e - s) * esize));
            switch (esize)
            {
                case 1: span.Fill((byte)pattern); break;
                case 2: MemoryMarshal.Cast<byte, ushort>(span).Fill((ushort)pattern); break;
                case 4: MemoryMarshal.Cast<byte, uint>(span).Fill((uint)pattern); break;
                default: MemoryMarshal.Cast<byte, ulong>(span).Fill(pattern); break;
            }
        });
    }

    /// <summary>A strided copy planned for this call only (see <see cref="CpuMovePlan.Make"/>).</summary>
    internal static void MoveStridedCopy(byte[] src, long srcBase, long[] srcStrides, byte[] dst, long dstBase, long[] dstStrides,
        int[] dims, int esize)
        => CpuMovePlan.Make(srcBase, srcStrides, dstBase, dstStrides, dims).Run(src, dst, esize);
}
