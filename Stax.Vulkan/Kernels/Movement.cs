namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int MaxCopyRank = 6, MaxPadRank = 5;

    /// <summary>
    /// Records a strided copy over the iteration space <paramref name="dims"/>:
    /// out[outOff + idx·outStr] = in[inOff + idx·inStr]. Size-1 dimensions are dropped and
    /// contiguous neighbours merged. 8-bit elements need a dense row-major output.
    /// </summary>
    internal void StridedCopy(VulkanBuffer output, VulkanBuffer input, long[] dims, long[] inStr, long inOff, long[] outStr, long outOff, string op)
    {
        long n = 1;
        foreach (var d in dims) n *= d;
        if (n == 0) return;
        var D = new List<long>(); var I = new List<long>(); var O = new List<long>();
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] == 1) continue;
            if (D.Count > 0 && I[^1] == inStr[d] * dims[d] && O[^1] == outStr[d] * dims[d])
            {
                D[^1] *= dims[d]; I[^1] = inStr[d]; O[^1] = outStr[d];
                continue;
            }
            D.Add(dims[d]); I.Add(inStr[d]); O.Add(outStr[d]);
        }
        if (D.Count > MaxCopyRank)
            throw new NotSupportedException($"{op}: the Vulkan backend copies at most {MaxCopyRank} non-contiguous dimensions, got {D.Count} (shape {new Shape(dims.Select(x => (int)x).ToArray())})");
        int es = output.DType.SizeOf();
        Span<int> push = stackalloc int[28];
        push[0] = checked((int)n); push[1] = D.Count; push[2] = checked((int)inOff); push[3] = checked((int)outOff);
        for (int d = 0; d < D.Count; d++)
        {
            push[4 + d] = checked((int)D[d]); push[10 + d] = checked((int)I[d]); push[16 + d] = checked((int)O[d]);
        }
        Run("copy", new[] { 0, es }, new[] { output, input, input }, push, es == 4 ? n : (n + 4 / es - 1) / (4 / es));
    }

    static partial void RegisterMovement()
    {
        Kernels[Prims.BroadcastInDim] = (b, p, ins, outs, it, ot) =>
        {
            var bp = (BroadcastInDimParams)p;
            var src = Strides(it[0].Shape);
            var inStr = new long[bp.Shape.Rank];
            for (int i = 0; i < bp.BroadcastDimensions.Length; i++)
                if (it[0].Shape[i] != 1) inStr[bp.BroadcastDimensions[i]] = src[i];
            b.StridedCopy(outs[0], ins[0], bp.Shape.ToArray().Select(x => (long)x).ToArray(), inStr, 0, Strides(bp.Shape), 0, "broadcast_in_dim");
        };
        Kernels[Prims.Transpose] = (b, p, ins, outs, it, ot) =>
        {
            var perm = ((TransposeParams)p).Permutation;
            var src = Strides(it[0].Shape);
            var inStr = new long[perm.Length];
            for (int i = 0; i < perm.Length; i++) inStr[i] = src[perm[i]];
            b.StridedCopy(outs[0], ins[0], Dims(ot[0].Shape), inStr, 0, Strides(ot[0].Shape), 0, "transpose");
        };
        Kernels[Prims.Slice] = (b, p, ins, outs, it, ot) =>
        {
            var sp = (SliceParams)p;
            var src = Strides(it[0].Shape);
            var inStr = new long[src.Length];
            long off = 0;
            for (int d = 0; d < src.Length; d++) { inStr[d] = src[d] * sp.Strides[d]; off += sp.StartIndices[d] * src[d]; }
            b.StridedCopy(outs[0], ins[0], Dims(ot[0].Shape), inStr, off, Strides(ot[0].Shape), 0, "slice");
        };
        Kernels[Prims.Rev] = (b, p, ins, outs, it, ot) =>
        {
            var dims = ((RevParams)p).Dimensions;
            var src = Strides(it[0].Shape);
            var inStr = (long[])src.Clone();
            long off = 0;
            foreach (var d in dims.Span)
                if (it[0].Shape[d] > 0) { inStr[d] = -src[d]; off += (it[0].Shape[d] - 1) * src[d]; }
            b.StridedCopy(outs[0], ins[0], Dims(ot[0].Shape), inStr, off, Strides(ot[0].Shape), 0, "rev");
        };
        Kernels[Prims.Concatenate] = (b, p, ins, outs, it, ot) =>
        {
            int dim = ((ConcatenateParams)p).Dimension;
            var outStr = Strides(ot[0].Shape);
            if (outs[0].DType.SizeOf() != 4)
            {
                // 8/16-bit elements: concatenate 32-bit copies (copies own whole words), then narrow.
                var wide = ins.Select(x => b.WidenBits(x, out _)).ToArray();
                var tmp = b.Allocate(DType.UInt32, outs[0].Length);
                b.ConcatInto(tmp, wide, it, dim, outStr);
                b.Narrow(tmp, outs[0]);
                foreach (var w in wide) w.Dispose();
                tmp.Dispose();
                return;
            }
            b.ConcatInto(outs[0], ins, it, dim, outStr);
        };
        Kernels[Prims.Pad] = (b, p, ins, outs, it, ot) =>
        {
            var pp = (PadParams)p;
            int rank = it[0].Shape.Rank;
            if (ot[0].Size == 0) return;
            if (rank > MaxPadRank)
                throw new NotSupportedException($"pad: the Vulkan backend pads at most {MaxPadRank} dimensions, got shape {it[0].Shape}");
            var src = Strides(it[0].Shape);
            Span<int> push = stackalloc int[28];
            push[0] = checked((int)ot[0].Size); push[1] = rank;
            for (int d = 0; d < rank; d++)
            {
                push[2 + d] = ot[0].Shape[d]; push[7 + d] = pp.Low[d]; push[12 + d] = pp.Interior[d] + 1;
                push[17 + d] = it[0].Shape[d]; push[22 + d] = checked((int)src[d]);
            }
            int es = outs[0].DType.SizeOf();
            long n = ot[0].Size;
            b.Run("copy", new[] { 1, es }, new[] { outs[0], ins[0], ins[1] }, push, es == 4 ? n : (n + 4 / es - 1) / (4 / es));
        };
    }

    void ConcatInto(VulkanBuffer output, VulkanBuffer[] ins, AbstractValue[] it, int dim, long[] outStr)
    {
        long offset = 0;
        for (int k = 0; k < ins.Length; k++)
        {
            b_copy(ins[k], it[k].Shape);
            offset += it[k].Shape[dim];
        }

        void b_copy(VulkanBuffer x, Shape s) =>
            StridedCopy(output, x, Dims(s), Strides(s), 0, outStr, offset * outStr[dim], "concatenate");
    }

    static long[] Dims(Shape s) => s.ToArray().Select(x => (long)x).ToArray();
}
