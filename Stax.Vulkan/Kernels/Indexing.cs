using System.Runtime.InteropServices;

namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    /// <summary>Uploads a small int32 table (shader metadata).</summary>
    VulkanBuffer Meta(int[] data) => (VulkanBuffer)Upload(MemoryMarshal.AsBytes(data.AsSpan()), DType.Int32);

    /// <summary>Indices as int32 on the device (a converted copy when they are another integer dtype;
    /// uint32 values of 2^31 and above wrap to negative and then clamp or fill as negative indices do).</summary>
    VulkanBuffer Int32Indices(VulkanBuffer idx, out bool owned)
    {
        owned = idx.DType != DType.Int32;
        return owned ? Convert(idx, DType.Int32) : idx;
    }

    /// <summary>The scalar start-index operands gathered into one int32 buffer on the device.</summary>
    VulkanBuffer Starts(VulkanBuffer[] scalars)
    {
        var r = Allocate(DType.Int32, Math.Max(1, scalars.Length));
        for (int d = 0; d < scalars.Length; d++)
        {
            var s = Int32Indices(scalars[d], out bool owned);
            StridedCopy(r, s, new long[] { 1 }, new long[] { 1 }, 0, new long[] { 1 }, d, "dynamic_slice");
            if (owned) s.Dispose();
        }
        return r;
    }

    /// <summary>Runs an index-shader mode with widening of 8-bit elements to 32-bit words.</summary>
    void IndexOp(int mode, VulkanBuffer output, VulkanBuffer x, VulkanBuffer idx, int[] meta, VulkanBuffer? update, uint fill)
    {
        if (output.Length == 0) return;
        var xw = Widen(x, out bool ownX);
        VulkanBuffer? uw = null; bool ownU = false;
        if (update != null) uw = Widen(update, out ownU);
        var res = output.DType == xw.DType ? output : Allocate(xw.DType, output.Length);
        using var m = Meta(meta);
        Run("index", new[] { mode }, new[] { res, xw, idx, m, uw ?? xw }, stackalloc int[] { checked((int)output.Length), unchecked((int)fill) }, output.Length);
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (ownX) xw.Dispose();
        if (ownU) uw!.Dispose();
    }

    /// <summary>Bits of the gather fill value (float16/bfloat16: the 16-bit pattern, zero-extended), as the CPU backend defines it.</summary>
    static uint FillBits(DType t, double? fill)
    {
        if (fill is not { } v)
            return t switch { DType.Float32 => 0x7FC00000u, DType.Float16 => 0x7E00u, DType.BFloat16 => 0x7FC0u, DType.Int32 => 0x80000000u, DType.UInt32 => uint.MaxValue, DType.UInt8 => 255u, _ => 1u };
        return t switch
        {
            DType.Float32 => BitConverter.SingleToUInt32Bits((float)v),
            DType.Float16 => BitConverter.HalfToUInt16Bits((Half)v),
            DType.BFloat16 => ((BFloat16)(float)v).Bits,
            // convert_element_type's rule (the CPU's HostConvert.FloatToInt32/UInt32/UInt8).
            DType.Int32 => unchecked((uint)FillInt32(v)),
            DType.UInt32 => FillUInt32(v),
            DType.UInt8 => unchecked((uint)FillInt32(v)) & 0xFFu,
            _ => v != 0 ? 1u : 0u,
        };
    }

    static int FillInt32(double v) => Math.Truncate(v) is var t && t >= -2147483648.0 && t < 2147483648.0 ? (int)t : int.MinValue;
    static uint FillUInt32(double v) => Math.Truncate(v) is var t && t > -9223372036854775808.0 && t < 9223372036854775808.0 ? unchecked((uint)(long)t) : 0u;

    void Gather(GatherParams g, VulkanBuffer x, VulkanBuffer indices, Shape os, Shape isx, Shape outShape, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var dn = g.DimensionNumbers;
        if (outShape.Rank > 8) throw new NotSupportedException($"gather: the Vulkan backend supports outputs of rank at most 8, got {outShape}");
        var istr = Strides(isx);
        var batchOut = Enumerable.Range(0, outShape.Rank).Where(d => !dn.OffsetDims.Contains(d)).ToArray();
        var meta = new List<int> { outShape.Rank, os.Rank, g.Mode == GatherScatterMode.FillOrDrop ? 1 : 0, isx.Rank > 0 ? isx[^1] : 0 };
        for (int d = 0; d < outShape.Rank; d++)
        {
            int j = Array.IndexOf(batchOut, d);
            meta.Add(outShape[d]);
            meta.Add(j >= 0 ? checked((int)istr[j]) : 0);
        }
        var ostr = Strides(os);
        var windowDims = Enumerable.Range(0, os.Rank).Where(d => !dn.CollapsedSliceDims.Contains(d) && !dn.OperandBatchingDims.Contains(d)).ToArray();
        for (int d = 0; d < os.Rank; d++)
        {
            int w = Array.IndexOf(windowDims, d);
            int comp = dn.StartIndexMap.ToArray().ToList().IndexOf(d);
            int bi = dn.OperandBatchingDims.ToArray().ToList().IndexOf(d);
            int batchOutDim = bi >= 0 ? batchOut[dn.StartIndicesBatchingDims[bi]] : -1;
            meta.AddRange(new[] { os[d], g.SliceSizes[d], checked((int)ostr[d]), w >= 0 ? dn.OffsetDims[w] : -1, comp, batchOutDim });
        }
        var idx = Int32Indices(indices, out bool owned);
        IndexOp(0, output, x, idx.Length == 0 ? output : idx, meta.ToArray(), null, FillBits(x.DType, g.FillValue));
        if (owned) idx.Dispose();
    }

    /// <summary>Loop-header executions one invocation may run: lavapipe silently stops a loop nest
    /// after 65535 header executions in total (inner loops and their exit tests count), so long
    /// index lists run in passes.</summary>
    const int LoopBudget = 60000;

    void Scatter(int op, ScatterParams sp, VulkanBuffer operand, VulkanBuffer indices, VulkanBuffer updates, Shape os, Shape isx, Shape us, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var dn = sp.DimensionNumbers;
        if (os.Rank > 8 || isx.Rank > 9) throw new NotSupportedException($"{ScatterName(op)}: the Vulkan backend supports operands and index batches of rank at most 8");
        int nb = Math.Max(0, isx.Rank - 1);
        long count = 1;
        for (int j = 0; j < nb; j++) count *= isx[j];
        var ustr = Strides(us);
        var updBatch = Enumerable.Range(0, us.Rank).Where(d => !dn.UpdateWindowDims.Contains(d)).ToArray();
        var meta = new List<int> { os.Rank, nb, isx.Rank > 0 ? isx[^1] : 0, sp.Mode == GatherScatterMode.Clip ? 0 : 1 };
        for (int j = 0; j < nb; j++) meta.AddRange(new[] { isx[j], checked((int)ustr[updBatch[j]]) });
        var windowOperandDims = Enumerable.Range(0, os.Rank).Where(d => !dn.InsertedWindowDims.Contains(d) && !dn.OperandBatchingDims.Contains(d)).ToArray();
        for (int d = 0; d < os.Rank; d++)
        {
            int w = Array.IndexOf(windowOperandDims, d);
            int comp = Array.IndexOf(dn.ScatterDimsToOperandDims.ToArray(), d);
            int bi = Array.IndexOf(dn.OperandBatchingDims.ToArray(), d);
            meta.AddRange(new[] { os[d], w >= 0 ? us[dn.UpdateWindowDims[w]] : 1, w >= 0 ? checked((int)ustr[dn.UpdateWindowDims[w]]) : 0, comp, bi >= 0 ? dn.ScatterIndicesBatchingDims[bi] : -1 });
        }
        var xw = Widen(operand, out bool ownX);
        var uw = Widen(updates, out bool ownU);
        var res = output.DType == xw.DType ? output : Allocate(xw.DType, output.Length);
        var idx = Int32Indices(indices, out bool ownI);
        using var m = Meta(meta.ToArray());
        long n = output.Length;
        if (count == 0)
            Run("scatter", new[] { op, (int)xw.DType }, new[] { res, xw, idx, uw, m }, stackalloc int[] { checked((int)n), 0, 0 }, n);
        int chunk = LoopBudget / (3 + nb + os.Rank);   // headers per index: 1 + (nb + 1) + (rank + 1)
        for (long i0 = 0; i0 < count; i0 += chunk)
        {
            int i1 = (int)Math.Min(count, i0 + chunk);
            Run("scatter", new[] { op, (int)xw.DType }, new[] { res, i0 == 0 ? xw : res, idx, uw, m }, new[] { checked((int)n), (int)i0, i1 }, n);
        }
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (ownX) xw.Dispose();
        if (ownU) uw.Dispose();
        if (ownI) idx.Dispose();
    }

    static string ScatterName(int op) => op switch { 0 => "scatter-add", 1 => "scatter-mul", 2 => "scatter-max", 3 => "scatter-min", _ => "scatter" };

    static partial void RegisterIndexing()
    {
        foreach (var (prim, op) in new[] { (Prims.ScatterAdd, 0), (Prims.ScatterMul, 1), (Prims.ScatterMax, 2), (Prims.ScatterMin, 3), (Prims.Scatter, 4) })
            Kernels[prim] = (b, p, ins, outs, it, ot) => b.Scatter(op, (ScatterParams)p, ins[0], ins[1], ins[2], it[0].Shape, it[1].Shape, it[2].Shape, outs[0]);
        Kernels[Prims.Gather] = (b, p, ins, outs, it, ot) => b.Gather((GatherParams)p, ins[0], ins[1], it[0].Shape, it[1].Shape, ot[0].Shape, outs[0]);
        Kernels[Prims.DynamicSlice] = (b, p, ins, outs, it, ot) =>
        {
            if (ot[0].Size == 0) return;
            var s = it[0].Shape;
            var st = Strides(s);
            var meta = new List<int> { s.Rank };
            for (int d = 0; d < s.Rank; d++) meta.AddRange(new[] { ot[0].Shape[d], s[d], checked((int)st[d]) });
            using var starts = b.Starts(ins[1..]);
            b.IndexOp(1, outs[0], ins[0], starts, meta.ToArray(), null, 0);
        };
        Kernels[Prims.DynamicUpdateSlice] = (b, p, ins, outs, it, ot) =>
        {
            if (ot[0].Size == 0) return;
            var s = it[0].Shape;
            var us = it[1].Shape;
            var st = Strides(us);
            var meta = new List<int> { s.Rank };
            for (int d = 0; d < s.Rank; d++) meta.AddRange(new[] { s[d], us[d], checked((int)st[d]) });
            using var starts = b.Starts(ins[2..]);
            b.IndexOp(2, outs[0], ins[0], starts, meta.ToArray(), ins[1].Length == 0 ? null : ins[1], 0);
        };
        Kernels[Prims.Threefry2x32] = (b, p, ins, outs, it, ot) =>
        {
            long n = outs[0].Length;
            if (n == 0) return;
            b.Run("threefry", Array.Empty<int>(), new[] { outs[0], outs[1], ins[0], ins[1], ins[2], ins[3] }, stackalloc int[] { checked((int)n) }, n);
        };
    }
}
