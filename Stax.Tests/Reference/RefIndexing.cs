namespace Stax.Tests.Reference;

public static partial class Ref
{
    // Gather and scatter straight from XLA's operation semantics, one output/update element at a
    // time, with jax's convention that the index vector is the last dimension of the indices.
    static partial void RegisterIndexing()
    {
        Rules[Prims.Gather] = (p, x, o) => new[] { RefGather((GatherParams)p, x[0], x[1], o[0]) };
        Rules[Prims.Scatter] = (p, x, o) => new[] { RefScatter((ScatterParams)p, x, (old, u) => u) };
        Rules[Prims.ScatterAdd] = (p, x, o) => new[] { RefScatter((ScatterParams)p, x, (old, u) => old + u) };
        Rules[Prims.ScatterMul] = (p, x, o) => new[] { RefScatter((ScatterParams)p, x, (old, u) => old * u) };
        Rules[Prims.ScatterMin] = (p, x, o) => new[] { RefScatter((ScatterParams)p, x, (old, u) => double.IsNaN(old) || double.IsNaN(u) ? double.NaN : Math.Min(old, u)) };
        Rules[Prims.ScatterMax] = (p, x, o) => new[] { RefScatter((ScatterParams)p, x, (old, u) => double.IsNaN(old) || double.IsNaN(u) ? double.NaN : Math.Max(old, u)) };
    }

    /// <summary>jax's default gather fill value for a dtype.</summary>
    public static double DefaultFill(DType t) => t switch
    {
        DType.Int32 => int.MinValue,
        DType.UInt32 => uint.MaxValue,
        DType.UInt8 => 255,
        DType.Bool => 1,
        _ => double.NaN,
    };

    static RefArray RefGather(GatherParams g, RefArray operand, RefArray indices, AbstractValue outType)
    {
        var dn = g.DimensionNumbers;
        var result = New(outType);
        var outShape = outType.Shape.ToArray();
        int r = operand.Rank;
        int nIdx = indices.Shape[^1];
        double fill = g.FillValue is { } f ? ConvertValue(f, DType.Float64, operand.DType) : DefaultFill(operand.DType);
        // Operand dimensions that the offset dims of the output walk, in order.
        var offsetOperandDims = Enumerable.Range(0, r)
            .Where(d => !dn.CollapsedSliceDims.Contains(d) && !dn.OperandBatchingDims.Contains(d)).ToArray();
        bool emptySlice = dn.CollapsedSliceDims.ToArray().Concat(dn.OperandBatchingDims.ToArray()).Any(d => g.SliceSizes[d] == 0);
        for (long i = 0; i < result.Size; i++)
        {
            var outIdx = Unravel(i, outShape);
            // G: the output's batch dimensions (those not in offset_dims), in order.
            var batch = new List<int>();
            for (int d = 0; d < outShape.Length; d++)
                if (!dn.OffsetDims.Contains(d)) batch.Add(outIdx[d]);
            // The start index vector S from indices[G..., :].
            var start = new long[r];
            bool outOfBounds = false;
            for (int k = 0; k < nIdx; k++)
            {
                var pos = batch.Append(k).ToArray();
                long v = (long)indices.Data[Ravel(pos, indices.Shape)];
                int d = dn.StartIndexMap[k];
                long hi = operand.Shape[d] - g.SliceSizes[d];
                if (v < 0 || v > hi) { outOfBounds = true; v = Math.Min(Math.Max(v, 0), Math.Max(hi, 0)); }
                start[d] = v;
            }
            for (int k = 0; k < dn.OperandBatchingDims.Length; k++)
                start[dn.OperandBatchingDims[k]] = batch[dn.StartIndicesBatchingDims[k]];
            if (emptySlice || (outOfBounds && g.Mode == GatherScatterMode.FillOrDrop))
            {
                result.Data[i] = emptySlice && g.Mode != GatherScatterMode.FillOrDrop ? 0 : fill;
                continue;
            }
            // Full operand index: start + offset (offset dims map in order to offsetOperandDims).
            var full = new int[r];
            for (int d = 0; d < r; d++) full[d] = (int)start[d];
            for (int k = 0; k < dn.OffsetDims.Length; k++)
                full[offsetOperandDims[k]] += outIdx[dn.OffsetDims[k]];
            result.Data[i] = operand.Data[Ravel(full, operand.Shape)];
        }
        return result;
    }

    static RefArray RefScatter(ScatterParams p, RefArray[] x, Func<double, double, double> combine)
    {
        var dn = p.DimensionNumbers;
        RefArray operand = x[0], indices = x[1], updates = x[2];
        var result = operand with { Data = (double[])operand.Data.Clone() };
        int r = operand.Rank;
        int nIdx = indices.Shape[^1];
        var windowOperandDims = Enumerable.Range(0, r)
            .Where(d => !dn.InsertedWindowDims.Contains(d) && !dn.OperandBatchingDims.Contains(d)).ToArray();
        var scatterDims = Enumerable.Range(0, updates.Rank).Where(d => !dn.UpdateWindowDims.Contains(d)).ToArray();
        var windowDims = dn.UpdateWindowDims.ToArray();
        // Window extent along each operand dimension (1 for inserted and batching dimensions).
        var extent = new int[r];
        for (int d = 0; d < r; d++) extent[d] = 1;
        for (int k = 0; k < windowDims.Length; k++) extent[windowOperandDims[k]] = updates.Shape[windowDims[k]];
        var scatterShape = scatterDims.Select(d => updates.Shape[d]).ToArray();
        var windowShape = windowDims.Select(d => updates.Shape[d]).ToArray();
        long nScatter = scatterShape.Aggregate(1L, (a, b) => a * b);
        long nWindow = windowShape.Aggregate(1L, (a, b) => a * b);
        // Updates are applied in row-major order of their scatter positions, each window in row-major order.
        for (long s = 0; s < nScatter; s++)
        {
            var g = Unravel(s, scatterShape);
            var start = new long[r];
            bool drop = false;
            for (int k = 0; k < nIdx; k++)
            {
                long v = (long)indices.Data[Ravel(g.Append(k).ToArray(), indices.Shape)];
                int d = dn.ScatterDimsToOperandDims[k];
                long hi = operand.Shape[d] - extent[d];
                if (v < 0 || v > hi)
                {
                    if (p.Mode == GatherScatterMode.Clip) v = Math.Min(Math.Max(v, 0), Math.Max(hi, 0));
                    else drop = true;
                }
                start[d] = v;
            }
            for (int k = 0; k < dn.OperandBatchingDims.Length; k++)
                start[dn.OperandBatchingDims[k]] = g[dn.ScatterIndicesBatchingDims[k]];
            if (drop) continue;
            for (long w = 0; w < nWindow; w++)
            {
                var wi = Unravel(w, windowShape);
                var full = new int[r];
                for (int d = 0; d < r; d++) full[d] = (int)start[d];
                for (int k = 0; k < windowDims.Length; k++) full[windowOperandDims[k]] += wi[k];
                var u = new int[updates.Rank];
                for (int k = 0; k < scatterDims.Length; k++) u[scatterDims[k]] = g[k];
                for (int k = 0; k < windowDims.Length; k++) u[windowDims[k]] = wi[k];
                long at = Ravel(full, operand.Shape);
                result.Data[at] = RefArray.Fit(combine(result.Data[at], updates.Data[Ravel(u, updates.Shape)]), operand.DType);
            }
        }
        return result;
    }
}
