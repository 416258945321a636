namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterReshaping()
    {
        Kernels[Prims.Reshape] = (p, ins, outs, it, ot) => ins[0].Data.AsSpan().CopyTo(outs[0].Data);
        Kernels[Prims.BroadcastInDim] = (p, ins, outs, it, ot) => BroadcastInDim((BroadcastInDimParams)p, ins[0], it[0], outs[0]);
    }

    // Fills with one element using typed (vectorised) Span.Fill.
    static void FillScalar(CpuBuffer src, CpuBuffer dst)
    {
        int esize = dst.DType.SizeOf();
        CpuParallel.For(dst.Length, CpuParallel.ElementwiseGrain, (src, dst, esize), static (st, s, e) =>
            FillRow(st.src.Data.AsSpan(0, st.esize), st.dst.Data.AsSpan((int)(s * st.esize), (int)((e - s) * st.esize)), st.esize));
    }

    static void FillRow(ReadOnlySpan<byte> one, Span<byte> row, int esize)
    {
        switch (esize)
        {
            case 1: row.Fill(one[0]); break;
            case 2: System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(row).Fill(BitConverter.ToUInt16(one)); break;
            case 4: System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(row).Fill(BitConverter.ToUInt32(one)); break;
            default: System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(row).Fill(BitConverter.ToUInt64(one)); break;
        }
    }

    static void BroadcastInDim(BroadcastInDimParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        if (p.Shape.Size == 0) return;
        // Scalars are filled here; the general copy is a method of its own so that this path
        // allocates nothing (its lambda's captures would be allocated on entry).
        if (src.Length == 1) { FillScalar(src, dst); return; }
        BroadcastRows(p, src, srcType, dst);
    }

    static void BroadcastRows(BroadcastInDimParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        int esize = dst.DType.SizeOf();
        var outShape = p.Shape;
        int rank = outShape.Rank;
        // Input stride for each output dimension (0 where broadcast).
        var inStrides = new long[rank];
        var srcStrides = srcType.Shape.Strides();
        for (int i = 0; i < p.BroadcastDimensions.Length; i++)
            if (srcType.Shape[i] != 1) inStrides[p.BroadcastDimensions[i]] = srcStrides[i];
        long total = outShape.Size;
        if (total == 0) return;
        if (src.Length == 1)
        {
            FillScalar(src, dst);
            return;
        }
        // Copy runs along the last dimension (contiguous when its input stride is 1).
        int inner = rank == 0 ? 1 : outShape[rank - 1];
        long innerStride = rank == 0 ? 0 : inStrides[rank - 1];
        long rows = total / Math.Max(1, inner);
        var outDims = outShape.ToArray();
        CpuParallel.For(rows, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, inner)), (r0, r1) =>
        {
            var idx = new int[Math.Max(0, rank - 1)];
            for (long r = r0; r < r1; r++)
            {
                long rem = r, inOff = 0;
                for (int d = rank - 2; d >= 0; d--)
                {
                    int k = (int)(rem % outDims[d]);
                    rem /= outDims[d];
                    inOff += k * inStrides[d];
                }
                var dstRow = dst.Data.AsSpan((int)(r * inner * esize), inner * esize);
                if (innerStride == 1)
                    src.Data.AsSpan((int)(inOff * esize), inner * esize).CopyTo(dstRow);
                else if (innerStride == 0)
                    FillRow(src.Data.AsSpan((int)(inOff * esize), esize), dstRow, esize);
                else
                    for (int j = 0; j < inner; j++)
                        src.Data.AsSpan((int)((inOff + j * innerStride) * esize), esize).CopyTo(dstRow.Slice(j * esize));
            }
        });
    }
}
