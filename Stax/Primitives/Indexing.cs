namespace Stax.Extend;

/// <summary>Parameters of <c>gather</c>.</summary>
/// <param name="DimensionNumbers">How operand, indices and output dimensions correspond.</param>
/// <param name="SliceSizes">Size of the slice taken from each operand dimension.</param>
/// <param name="IndicesAreSorted">A promise that the indices are sorted (a hint; never changes results here).</param>
/// <param name="UniqueIndices">A promise that the indices are unique (a hint).</param>
/// <param name="Mode">Out-of-bounds behaviour.</param>
/// <param name="FillValue">The fill value of <see cref="GatherScatterMode.FillOrDrop"/>; null gives jax's default
/// (NaN for floats, the minimum for signed integers, the maximum for unsigned integers, true for bool).</param>
public sealed record GatherParams(GatherDimensionNumbers DimensionNumbers, IntTuple SliceSizes, bool IndicesAreSorted = false,
    bool UniqueIndices = false, GatherScatterMode Mode = GatherScatterMode.FillOrDrop, double? FillValue = null) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"dimension_numbers={DimensionNumbers} fill_value={(FillValue is { } f ? f.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "None")} " +
           $"indices_are_sorted={IndicesAreSorted} mode={Prims.ModeName(Mode)} slice_sizes={SliceSizes} unique_indices={UniqueIndices}";
}

/// <summary>Parameters of the scatter primitives (<c>scatter</c>, <c>scatter-add</c>, ...).</summary>
/// <param name="DimensionNumbers">How operand, indices and updates dimensions correspond.</param>
/// <param name="IndicesAreSorted">A promise that the indices are sorted (a hint).</param>
/// <param name="UniqueIndices">A promise that the indices are unique (a hint; results here never depend on it).</param>
/// <param name="Mode">Out-of-bounds behaviour: <see cref="GatherScatterMode.Clip"/> clamps, the others drop out-of-bounds windows.</param>
public sealed record ScatterParams(ScatterDimensionNumbers DimensionNumbers, bool IndicesAreSorted = false, bool UniqueIndices = false,
    GatherScatterMode Mode = GatherScatterMode.FillOrDrop) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"dimension_numbers={DimensionNumbers} indices_are_sorted={IndicesAreSorted} mode={Prims.ModeName(Mode)} unique_indices={UniqueIndices}";
}

public static partial class Prims
{
    internal static string ModeName(GatherScatterMode m) => m switch
    {
        GatherScatterMode.Clip => "GatherScatterMode.CLIP",
        GatherScatterMode.FillOrDrop => "GatherScatterMode.FILL_OR_DROP",
        _ => "GatherScatterMode.PROMISE_IN_BOUNDS",
    };

    /// <summary>
    /// XLA's gather with jax's conventions: the index vector is the last dimension of the indices.
    /// For each position G of the indices' other (batch) dimensions, the slice of sizes
    /// <see cref="GatherParams.SliceSizes"/> starting at the operand position given by the index
    /// vector (through <c>start_index_map</c>, and by G itself for the batching dimensions) is copied
    /// to the output, whose dimensions are the indices' batch dimensions interleaved with
    /// <c>offset_dims</c>. Inputs: operand, indices (any integer dtype).
    /// </summary>
    public static readonly Primitive Gather = new("gather", PrimitiveFamily.Indexing, (ins, p) =>
    {
        var g = (GatherParams)p;
        return new[] { new AbstractValue(GatherShape(ins[0], ins[1], g), ins[0].DType, ins[0].Weak) };
    }, inputs: 2);

    /// <summary>Scatter that replaces: with repeated indices, the update that comes last in row-major order of the updates' scatter dimensions wins.</summary>
    public static readonly Primitive Scatter = new("scatter", PrimitiveFamily.Indexing, (ins, p) => ScatterRule("scatter", ins, p), inputs: 3);
    /// <summary>Scatter that adds; repeated indices accumulate in row-major order of the updates (deterministic).</summary>
    public static readonly Primitive ScatterAdd = new("scatter-add", PrimitiveFamily.Indexing, (ins, p) => ScatterRule("scatter-add", ins, p), inputs: 3);
    /// <summary>Scatter that multiplies (bool: logical and).</summary>
    public static readonly Primitive ScatterMul = new("scatter-mul", PrimitiveFamily.Indexing, (ins, p) => ScatterRule("scatter-mul", ins, p), inputs: 3);
    /// <summary>Scatter that keeps the minimum (NaN propagates).</summary>
    public static readonly Primitive ScatterMin = new("scatter-min", PrimitiveFamily.Indexing, (ins, p) => ScatterRule("scatter-min", ins, p), inputs: 3);
    /// <summary>Scatter that keeps the maximum (NaN propagates).</summary>
    public static readonly Primitive ScatterMax = new("scatter-max", PrimitiveFamily.Indexing, (ins, p) => ScatterRule("scatter-max", ins, p), inputs: 3);

    static void RequireDims(string op, string what, IntTuple dims, int bound, string boundWhat, bool sorted, string shapes)
    {
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0 || dims[i] >= bound)
                throw new ArgumentException($"{op}: {what} {dims} must lie in [0, {bound}) ({boundWhat}); {shapes}");
            for (int j = 0; j < i; j++)
                if (dims[j] == dims[i])
                    throw new ArgumentException($"{op}: {what} {dims} must not repeat a dimension; {shapes}");
            if (sorted && i > 0 && dims[i] < dims[i - 1])
                throw new ArgumentException($"{op}: {what} {dims} must be sorted ascending; {shapes}");
        }
    }

    static void RequireDisjoint(string op, string whatA, IntTuple a, string whatB, IntTuple b, string shapes)
    {
        foreach (var d in a.Span)
            if (b.Contains(d))
                throw new ArgumentException($"{op}: {whatA} {a} and {whatB} {b} must not share dimension {d}; {shapes}");
    }

    static void RequireIndices(string op, AbstractValue operand, AbstractValue indices, string shapes)
    {
        if (!indices.DType.IsInteger())
            throw new ArgumentException($"{op}: indices must have an integer dtype, got {indices.DType.Name()} (indices shape {indices.Shape}); {shapes}");
        if (indices.Rank < 1)
            throw new ArgumentException($"{op}: indices must have rank >= 1 (the last dimension is the index vector), got shape {indices.Shape}; {shapes}");
    }

    /// <summary>The output shape of gather, or a clear error naming the operand and indices shapes.</summary>
    public static Shape GatherShape(AbstractValue operand, AbstractValue indices, GatherParams g)
    {
        const string op = "gather";
        var dn = g.DimensionNumbers;
        string shapes = $"operand shape {operand.Shape}, indices shape {indices.Shape}, slice_sizes {g.SliceSizes}, {dn}";
        RequireMode(op, g.Mode);
        RequireIndices(op, operand, indices, shapes);
        int r = operand.Rank, ivd = indices.Rank - 1;
        int outRank = dn.OffsetDims.Length + indices.Rank - 1;
        RequireDims(op, "offset_dims", dn.OffsetDims, outRank, "output rank", true, shapes);
        RequireDims(op, "collapsed_slice_dims", dn.CollapsedSliceDims, r, "operand rank", true, shapes);
        RequireDims(op, "operand_batching_dims", dn.OperandBatchingDims, r, "operand rank", true, shapes);
        RequireDims(op, "start_indices_batching_dims", dn.StartIndicesBatchingDims, ivd, "indices batch dimensions; the last dimension is the index vector", false, shapes);
        RequireDims(op, "start_index_map", dn.StartIndexMap, r, "operand rank", false, shapes);
        RequireDisjoint(op, "collapsed_slice_dims", dn.CollapsedSliceDims, "operand_batching_dims", dn.OperandBatchingDims, shapes);
        RequireDisjoint(op, "start_index_map", dn.StartIndexMap, "operand_batching_dims", dn.OperandBatchingDims, shapes);
        if (dn.OperandBatchingDims.Length != dn.StartIndicesBatchingDims.Length)
            throw new ArgumentException($"{op}: operand_batching_dims {dn.OperandBatchingDims} and start_indices_batching_dims {dn.StartIndicesBatchingDims} must have the same length; {shapes}");
        if (indices.Shape[ivd] != dn.StartIndexMap.Length)
            throw new ArgumentException($"{op}: the index vector (last dimension of indices) has size {indices.Shape[ivd]} but start_index_map {dn.StartIndexMap} has {dn.StartIndexMap.Length} entries; {shapes}");
        if (g.SliceSizes.Length != r)
            throw new ArgumentException($"{op}: slice_sizes {g.SliceSizes} must have one entry per operand dimension (rank {r}); {shapes}");
        for (int i = 0; i < r; i++)
            if (g.SliceSizes[i] < 0 || g.SliceSizes[i] > operand.Shape[i])
                throw new ArgumentException($"{op}: slice size {g.SliceSizes[i]} of dimension {i} must lie in [0, {operand.Shape[i]}]; {shapes}");
        foreach (var d in dn.CollapsedSliceDims.Span)
            if (g.SliceSizes[d] > 1)
                throw new ArgumentException($"{op}: collapsed_slice_dims may only collapse dimensions with slice size 0 or 1, but dimension {d} has slice size {g.SliceSizes[d]}; {shapes}");
        foreach (var d in dn.OperandBatchingDims.Span)
            if (g.SliceSizes[d] > 1)
                throw new ArgumentException($"{op}: operand_batching_dims must have slice size 0 or 1, but dimension {d} has slice size {g.SliceSizes[d]}; {shapes}");
        int expectOffset = r - dn.CollapsedSliceDims.Length - dn.OperandBatchingDims.Length;
        if (dn.OffsetDims.Length != expectOffset)
            throw new ArgumentException($"{op}: offset_dims {dn.OffsetDims} must have one entry per operand dimension that is neither collapsed nor batching ({expectOffset}); {shapes}");
        for (int i = 0; i < dn.OperandBatchingDims.Length; i++)
        {
            int od = dn.OperandBatchingDims[i], id = dn.StartIndicesBatchingDims[i];
            if (operand.Shape[od] != indices.Shape[id])
                throw new ArgumentException($"{op}: operand batching dimension {od} (size {operand.Shape[od]}) and indices batching dimension {id} (size {indices.Shape[id]}) must have equal sizes; {shapes}");
        }
        var dims = new int[outRank];
        int nextOffset = 0, nextBatch = 0;
        for (int o = 0; o < outRank; o++)
        {
            if (dn.OffsetDims.Contains(o))
            {
                while (dn.CollapsedSliceDims.Contains(nextOffset) || dn.OperandBatchingDims.Contains(nextOffset)) nextOffset++;
                dims[o] = g.SliceSizes[nextOffset++];
            }
            else dims[o] = indices.Shape[nextBatch++];
        }
        return new Shape(dims);
    }

    static void RequireMode(string op, GatherScatterMode mode)
    {
        if (!Enum.IsDefined(mode) || mode == GatherScatterMode.Wrap)
            throw new ArgumentException($"{op}: mode {mode} is not a gather/scatter mode (Wrap is Np.Take's; use Clip, FillOrDrop or PromiseInBounds)");
    }

    static AbstractValue[] ScatterRule(string op, ReadOnlySpan<AbstractValue> ins, Params p)
    {
        var s = (ScatterParams)p;
        var operand = ins[0];
        RequireMode(op, s.Mode);
        CheckScatter(op, operand, ins[1], ins[2], s.DimensionNumbers);
        return new[] { new AbstractValue(operand.Shape, operand.DType, operand.Weak) };
    }

    /// <summary>Checks scatter's operand/indices/updates against its dimension numbers, or throws a clear error.</summary>
    public static void CheckScatter(string op, AbstractValue operand, AbstractValue indices, AbstractValue updates, ScatterDimensionNumbers dn)
    {
        string shapes = $"operand shape {operand.Shape}, indices shape {indices.Shape}, updates shape {updates.Shape}, {dn}";
        RequireIndices(op, operand, indices, shapes);
        if (updates.DType != operand.DType)
            throw new ArgumentException($"{op}: updates dtype {updates.DType.Name()} must equal operand dtype {operand.DType.Name()}; {shapes}");
        int r = operand.Rank, ivd = indices.Rank - 1;
        RequireDims(op, "update_window_dims", dn.UpdateWindowDims, updates.Rank, "updates rank", true, shapes);
        RequireDims(op, "inserted_window_dims", dn.InsertedWindowDims, r, "operand rank", true, shapes);
        RequireDims(op, "operand_batching_dims", dn.OperandBatchingDims, r, "operand rank", true, shapes);
        RequireDims(op, "scatter_indices_batching_dims", dn.ScatterIndicesBatchingDims, ivd, "indices batch dimensions; the last dimension is the index vector", false, shapes);
        RequireDims(op, "scatter_dims_to_operand_dims", dn.ScatterDimsToOperandDims, r, "operand rank", false, shapes);
        RequireDisjoint(op, "inserted_window_dims", dn.InsertedWindowDims, "operand_batching_dims", dn.OperandBatchingDims, shapes);
        RequireDisjoint(op, "scatter_dims_to_operand_dims", dn.ScatterDimsToOperandDims, "operand_batching_dims", dn.OperandBatchingDims, shapes);
        if (dn.OperandBatchingDims.Length != dn.ScatterIndicesBatchingDims.Length)
            throw new ArgumentException($"{op}: operand_batching_dims {dn.OperandBatchingDims} and scatter_indices_batching_dims {dn.ScatterIndicesBatchingDims} must have the same length; {shapes}");
        if (indices.Shape[ivd] != dn.ScatterDimsToOperandDims.Length)
            throw new ArgumentException($"{op}: the index vector (last dimension of indices) has size {indices.Shape[ivd]} but scatter_dims_to_operand_dims {dn.ScatterDimsToOperandDims} has {dn.ScatterDimsToOperandDims.Length} entries; {shapes}");
        int windowRank = dn.UpdateWindowDims.Length + dn.InsertedWindowDims.Length + dn.OperandBatchingDims.Length;
        if (windowRank != r)
            throw new ArgumentException($"{op}: update_window_dims, inserted_window_dims and operand_batching_dims together must cover the operand rank {r}, got {windowRank}; {shapes}");
        int scatterRank = updates.Rank - dn.UpdateWindowDims.Length;
        if (scatterRank != indices.Rank - 1)
            throw new ArgumentException($"{op}: updates must have {indices.Rank - 1} scatter dimensions (the indices' batch dimensions) besides the {dn.UpdateWindowDims.Length} window dimensions, got rank {updates.Rank}; {shapes}");
        int nextOperand = 0, nextIndex = 0;
        for (int u = 0; u < updates.Rank; u++)
        {
            if (dn.UpdateWindowDims.Contains(u))
            {
                while (dn.InsertedWindowDims.Contains(nextOperand) || dn.OperandBatchingDims.Contains(nextOperand)) nextOperand++;
                if (updates.Shape[u] > operand.Shape[nextOperand])
                    throw new ArgumentException($"{op}: updates window dimension {u} (size {updates.Shape[u]}) is larger than operand dimension {nextOperand} (size {operand.Shape[nextOperand]}); {shapes}");
                nextOperand++;
            }
            else
            {
                if (updates.Shape[u] != indices.Shape[nextIndex])
                    throw new ArgumentException($"{op}: updates scatter dimension {u} (size {updates.Shape[u]}) must equal indices dimension {nextIndex} (size {indices.Shape[nextIndex]}); {shapes}");
                nextIndex++;
            }
        }
        for (int i = 0; i < dn.OperandBatchingDims.Length; i++)
        {
            int od = dn.OperandBatchingDims[i], id = dn.ScatterIndicesBatchingDims[i];
            if (operand.Shape[od] != indices.Shape[id])
                throw new ArgumentException($"{op}: operand batching dimension {od} (size {operand.Shape[od]}) and indices batching dimension {id} (size {indices.Shape[id]}) must have equal sizes; {shapes}");
        }
    }
}
