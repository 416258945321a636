namespace Stax;

/// <summary>Parameters of <c>transpose</c>: output dimension i is operand dimension <paramref name="Permutation"/>[i].</summary>
public sealed record TransposeParams(IntTuple Permutation) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"permutation={Permutation}";
}

/// <summary>Parameters of <c>slice</c> (as <c>jax.lax.slice</c>): for each dimension the elements
/// start, start + stride, ... below limit.</summary>
public sealed record SliceParams(IntTuple StartIndices, IntTuple LimitIndices, IntTuple Strides) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"start_indices={StartIndices} limit_indices={LimitIndices} strides={Strides}";
}

/// <summary>Parameters of <c>pad</c>: per dimension, <paramref name="Low"/> and <paramref name="High"/> padding
/// (negative values crop) and <paramref name="Interior"/> padding between elements (non-negative).</summary>
public sealed record PadParams(IntTuple Low, IntTuple High, IntTuple Interior) : Params
{
    /// <summary>Builds the parameters from JAX-style (low, high, interior) triples, one per dimension.</summary>
    public static PadParams FromConfig(params (int Low, int High, int Interior)[] config)
        => new(config.Select(c => c.Low).ToArray(), config.Select(c => c.High).ToArray(), config.Select(c => c.Interior).ToArray());

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new string[Low.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = $"({Low[i]}, {High[i]}, {Interior[i]})";
        return $"padding_config=({string.Join(", ", parts)}{(parts.Length == 1 ? "," : "")})";
    }
}

/// <summary>Parameters of <c>concatenate</c>.</summary>
public sealed record ConcatenateParams(int Dimension) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"dimension={Dimension}";
}

/// <summary>Parameters of <c>rev</c>: the dimensions to reverse.</summary>
public sealed record RevParams(IntTuple Dimensions) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"dimensions={Dimensions}";
}

/// <summary>Parameters of <c>dynamic_slice</c>: the (static) size of the slice in each dimension.</summary>
public sealed record DynamicSliceParams(IntTuple SliceSizes) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"slice_sizes={SliceSizes}";
}

public static partial class Prims
{
    /// <summary>Permutes dimensions: output dimension i is operand dimension permutation[i].</summary>
    public static readonly Primitive Transpose = new("transpose", PrimitiveFamily.Movement, (ins, p) =>
    {
        var perm = ((TransposeParams)p).Permutation;
        var x = ins[0];
        if (!IsPermutationOfRank(perm, x.Rank))
            throw new ArgumentException($"transpose: permutation {perm} is not a permutation of the {x.Rank} dimensions of operand shape {x.Shape}");
        var dims = new int[x.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = x.Shape[perm[i]];
        return new[] { new AbstractValue(new Shape(dims), x.DType, x.Weak) };
    }, inputs: 1);

    /// <summary>A static strided slice: elements start, start + stride, ... below limit in each dimension.</summary>
    public static readonly Primitive Slice = new("slice", PrimitiveFamily.Movement, (ins, p) =>
    {
        var s = (SliceParams)p;
        var x = ins[0];
        if (s.StartIndices.Length != x.Rank || s.LimitIndices.Length != x.Rank || s.Strides.Length != x.Rank)
            throw new ArgumentException($"slice: start_indices {s.StartIndices}, limit_indices {s.LimitIndices} and strides {s.Strides} must each have one entry per dimension of operand shape {x.Shape} (rank {x.Rank})");
        var dims = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            int start = s.StartIndices[d], limit = s.LimitIndices[d], stride = s.Strides[d];
            if (stride <= 0)
                throw new ArgumentException($"slice: strides must be positive, got {s.Strides} for operand shape {x.Shape}");
            if (start < 0 || limit > x.Shape[d] || start > limit)
                throw new ArgumentException($"slice: in dimension {d}, need 0 <= start <= limit <= {x.Shape[d]}; got start_indices {s.StartIndices} and limit_indices {s.LimitIndices} for operand shape {x.Shape}");
            dims[d] = (int)((limit - start + (long)stride - 1) / stride);
        }
        return new[] { new AbstractValue(new Shape(dims), x.DType, x.Weak) };
    }, inputs: 1);

    /// <summary>Pads with a scalar value: low/high padding per dimension (negative crops) and interior padding between elements.</summary>
    public static readonly Primitive Pad = new("pad", PrimitiveFamily.Movement, (ins, p) =>
    {
        var c = (PadParams)p;
        var x = ins[0];
        var v = ins[1];
        if (v.Rank != 0)
            throw new ArgumentException($"pad: padding value must be a scalar, got shape {v.Shape}");
        if (v.DType != x.DType)
            throw new ArgumentException($"pad: padding value dtype {v.DType.Name()} must equal operand dtype {x.DType.Name()} (operand shape {x.Shape})");
        if (c.Low.Length != x.Rank || c.High.Length != x.Rank || c.Interior.Length != x.Rank)
            throw new ArgumentException($"pad: padding_config must have one (low, high, interior) entry per dimension of operand shape {x.Shape} (rank {x.Rank}), got {c.Low.Length}");
        var dims = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            if (c.Interior[d] < 0)
                throw new ArgumentException($"pad: interior padding must be non-negative, got {c} for operand shape {x.Shape}");
            int n = x.Shape[d];
            long size = (long)c.Low[d] + c.High[d] + n + (long)Math.Max(n - 1, 0) * c.Interior[d];
            if (size < 0)
                throw new ArgumentException($"pad: dimension {d} of operand shape {x.Shape} would have negative size {size} with {c}");
            if (size > int.MaxValue)
                throw new ArgumentException($"pad: dimension {d} of operand shape {x.Shape} would have size {size} with {c}, too large");
            dims[d] = (int)size;
        }
        return new[] { new AbstractValue(new Shape(dims), x.DType, x.Weak && v.Weak) };
    }, inputs: 2);

    /// <summary>Joins operands along one dimension; all other dimensions and the dtypes must match.</summary>
    public static readonly Primitive Concatenate = new("concatenate", PrimitiveFamily.Movement, (ins, p) =>
    {
        int dim = ((ConcatenateParams)p).Dimension;
        if (ins.Length == 0)
            throw new ArgumentException("concatenate: needs at least one operand, got none");
        var first = ins[0];
        if (dim < 0 || dim >= first.Rank)
            throw new ArgumentException($"concatenate: dimension {dim} is out of range for operand 0 of shape {first.Shape} (rank {first.Rank})");
        long total = 0;
        for (int i = 0; i < ins.Length; i++)
        {
            var x = ins[i];
            if (x.DType != first.DType)
                throw new ArgumentException($"concatenate: operand {i} has dtype {x.DType.Name()} but operand 0 has {first.DType.Name()} (use Np.Concatenate for type promotion)");
            if (x.Rank != first.Rank)
                throw new ArgumentException($"concatenate: operand {i} has shape {x.Shape} (rank {x.Rank}) but operand 0 has shape {first.Shape} (rank {first.Rank})");
            for (int d = 0; d < x.Rank; d++)
                if (d != dim && x.Shape[d] != first.Shape[d])
                    throw new ArgumentException($"concatenate: operand {i} has shape {x.Shape} but operand 0 has shape {first.Shape}; they may differ only in dimension {dim}");
            total += x.Shape[dim];
        }
        if (total > int.MaxValue)
            throw new ArgumentException($"concatenate: the result would have {total} elements in dimension {dim}, too many");
        var dims = first.Shape.ToArray();
        dims[dim] = (int)total;
        return new[] { new AbstractValue(new Shape(dims), first.DType, TypeRules.AllWeak(ins)) };
    });

    /// <summary>Reverses the order of elements along the given dimensions.</summary>
    public static readonly Primitive Rev = new("rev", PrimitiveFamily.Movement, (ins, p) =>
    {
        var dims = ((RevParams)p).Dimensions;
        var x = ins[0];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0 || dims[i] >= x.Rank)
                throw new ArgumentException($"rev: dimension {dims[i]} in dimensions {dims} is out of range for operand shape {x.Shape} (rank {x.Rank})");
            for (int j = 0; j < i; j++)
                if (dims[j] == dims[i])
                    throw new ArgumentException($"rev: dimensions {dims} contain {dims[i]} more than once (operand shape {x.Shape})");
        }
        return new[] { x };
    }, inputs: 1);

    /// <summary>
    /// A slice of static size at run-time start indices (one scalar integer operand per dimension
    /// after the operand). As in XLA, each start index is clamped to [0, size - slice_size], so the
    /// slice always stays in bounds.
    /// </summary>
    public static readonly Primitive DynamicSlice = new("dynamic_slice", PrimitiveFamily.Indexing, (ins, p) =>
    {
        var sizes = ((DynamicSliceParams)p).SliceSizes;
        if (ins.Length == 0)
            throw new ArgumentException("dynamic_slice: expected an operand and one start index per dimension, got no operands");
        var x = ins[0];
        CheckDynamicStartIndices("dynamic_slice", x, ins[1..], 1);
        if (sizes.Length != x.Rank)
            throw new ArgumentException($"dynamic_slice: slice_sizes {sizes} must have one entry per dimension of operand shape {x.Shape} (rank {x.Rank})");
        for (int d = 0; d < x.Rank; d++)
            if (sizes[d] < 0 || sizes[d] > x.Shape[d])
                throw new ArgumentException($"dynamic_slice: slice_sizes {sizes} must satisfy 0 <= size <= operand size in every dimension; operand shape {x.Shape}");
        return new[] { new AbstractValue(new Shape(sizes.ToArray()), x.DType, x.Weak) };
    });

    /// <summary>
    /// Writes <c>update</c> into a copy of <c>operand</c> at run-time start indices (scalar integer
    /// operands after the update). As in XLA, each start index is clamped to [0, size - update size].
    /// </summary>
    public static readonly Primitive DynamicUpdateSlice = new("dynamic_update_slice", PrimitiveFamily.Indexing, (ins, p) =>
    {
        if (ins.Length < 2)
            throw new ArgumentException($"dynamic_update_slice: expected an operand, an update and one start index per dimension, got {ins.Length} operands");
        var x = ins[0];
        var u = ins[1];
        if (u.DType != x.DType)
            throw new ArgumentException($"dynamic_update_slice: update dtype {u.DType.Name()} must equal operand dtype {x.DType.Name()}");
        if (u.Rank != x.Rank)
            throw new ArgumentException($"dynamic_update_slice: update shape {u.Shape} must have the rank of operand shape {x.Shape}");
        for (int d = 0; d < x.Rank; d++)
            if (u.Shape[d] > x.Shape[d])
                throw new ArgumentException($"dynamic_update_slice: update shape {u.Shape} does not fit in operand shape {x.Shape} (dimension {d})");
        CheckDynamicStartIndices("dynamic_update_slice", x, ins[2..], 2);
        return new[] { new AbstractValue(x.Shape, x.DType, x.Weak) };
    });

    static void CheckDynamicStartIndices(string op, AbstractValue x, ReadOnlySpan<AbstractValue> idx, int firstOperand)
    {
        if (idx.Length != x.Rank)
            throw new ArgumentException($"{op}: expected {x.Rank} start indices for operand shape {x.Shape}, got {idx.Length}");
        for (int i = 0; i < idx.Length; i++)
        {
            if (idx[i].Rank != 0)
                throw new ArgumentException($"{op}: start index {i} (operand {firstOperand + i}) must be a scalar, got shape {idx[i].Shape}");
            if (!idx[i].DType.IsInteger())
                throw new ArgumentException($"{op}: start index {i} (operand {firstOperand + i}) must have an integer dtype, got {idx[i].DType.Name()}");
        }
    }

    static bool IsPermutationOfRank(IntTuple perm, int rank)
    {
        if (perm.Length != rank) return false;
        var seen = new bool[rank];
        foreach (var a in perm.Span)
        {
            if (a < 0 || a >= rank || seen[a]) return false;
            seen[a] = true;
        }
        return true;
    }
}
