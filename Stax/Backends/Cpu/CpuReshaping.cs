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
            FillRow(st.src.Data.AsSpan(0, st.esize), st.dst.Data.AsSpan((int)(s * st.esize), (int)((e - s) * st.esize)),
                st.esize));
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

    /// <summary>How a broadcast copies rows: per output dimension the input stride (0 where broadcast).</summary>
    sealed class BroadcastPlan
    {
        public required long[] InStrides;
        public required int[] OutDims;
        public int Inner;
        public long InnerStride, Rows;
    }

    static BroadcastPlan MakeBroadcastPlan(BroadcastInDimParams p, Shape srcShape)
    {
        var outShape = p.Shape;
        int rank = outShape.Rank;
        var inStrides = new long[rank];
        var srcStrides = srcShape.Strides();
        for (int i = 0; i < p.BroadcastDimensions.Length; i++)
            if (srcShape[i] != 1) inStrides[p.BroadcastDimensions[i]] = srcStrides[i];
        int inner = rank == 0 ? 1 : outShape[rank - 1];
        return new BroadcastPlan
        {
            InStrides = inStrides,
            OutDims = outShape.ToArray(),
            Inner = inner,
            InnerStride = rank == 0 ? 0 : inStrides[rank - 1],
            Rows = outShape.Size / Math.Max(1, inner),
        };
    }

    static void BroadcastRows(BroadcastInDimParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        int esize = dst.DType.SizeOf();
        if (p.Shape.Size == 0) return;
        if (src.Length == 1)
        {
            FillScalar(src, dst);
            return;
        }
        // Copy runs along the last dimension (contiguous when its input stride is 1).
        var plan = CpuPlanCache<BroadcastInDimParams, BroadcastPlan>.Get(p, srcType.Shape, MakeBroadcastPlan);
        CpuParallel.For(plan.Rows, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, plan.Inner)),
            (plan, src: src.Data, dst: dst.Data, esize),
            static (st, r0, r1) =>
        {
            var (plan, src, dst, esize) = st;
            var outDims = plan.OutDims;
            var inStrides = plan.InStrides;
            int rank = outDims.Length, inner = plan.Inner;
            long innerStride = plan.InnerStride;
            for (long r = r0; r < r1; r++)
            {
                long rem = r, inOff = 0;
                for (int d = rank - 2; d >= 0; d--)
                {
                    int k = (int)(rem % outDims[d]);
                    rem /= outDims[d];
                    inOff += k * inStrides[d];
                }
                var dstRow = dst.AsSpan((int)(r * inner * esize), inner * esize);
                if (innerStride == 1)
                    src.AsSpan((int)(inOff * esize), inner * esize).CopyTo(dstRow);
                else if (innerStride == 0)
                    FillRow(src.AsSpan((int)(inOff * esize), esize), dstRow, esize);
                else
                    for (int j = 0; j < inner; j++)
                        src.AsSpan((int)((inOff + j * innerStride) * esize), esize).CopyTo(dstRow.Slice(j * esize));
            }
        });
    }
}
