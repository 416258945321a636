namespace Stax.Extend;

/// <summary>Parameters of <c>sort</c>.</summary>
/// <param name="Dimension">The dimension sorted along (non-negative).</param>
/// <param name="IsStable">Requests a stable sort. Stax's sorts are always stable, so this never changes results.</param>
/// <param name="NumKeys">The first <paramref name="NumKeys"/> operands are the keys, compared lexicographically.</param>
public sealed record SortParams(int Dimension, bool IsStable = true, int NumKeys = 1) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"dimension={Dimension} is_stable={IsStable} num_keys={NumKeys}";
}

/// <summary>Parameters of <c>top_k</c>.</summary>
/// <param name="K">How many of the largest entries of the last axis to return.</param>
public sealed record TopKParams(int K) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"k={K}";
}

public static partial class Prims
{
    /// <summary>
    /// Sorts several same-shaped operands together along one dimension, ascending by the first
    /// <see cref="SortParams.NumKeys"/> operands compared lexicographically; the other operands
    /// follow the permutation. Order of keys (jax's comparator): floats compare after mapping
    /// -0.0 to +0.0 and every NaN (either sign) to +NaN, then by IEEE total order, so NaNs sort to
    /// the end and -0.0 ties with +0.0 (ties keep their input order: the sort is stable);
    /// integers and bool compare by value.
    /// </summary>
    public static readonly Primitive Sort = new("sort", PrimitiveFamily.Sorting, (ins, p) =>
    {
        var s = (SortParams)p;
        if (ins.Length == 0)
            throw new ArgumentException("sort: expected at least one operand");
        var shape = ins[0].Shape;
        for (int i = 1; i < ins.Length; i++)
            if (ins[i].Shape != shape)
                throw new ArgumentException($"sort: all operands must have the same shape, got {string.Join(" and ", ins.ToArray().Select(x => x.Shape.ToString()))}");
        if (shape.Rank == 0)
            throw new ArgumentException($"sort: operands must have rank >= 1, got shape {shape}");
        if (s.Dimension < 0 || s.Dimension >= shape.Rank)
            throw new ArgumentException($"sort: dimension {s.Dimension} is out of range for shape {shape} (rank {shape.Rank})");
        if (s.NumKeys < 1 || s.NumKeys > ins.Length)
            throw new ArgumentException($"sort: num_keys {s.NumKeys} must lie in [1, {ins.Length}] (the number of operands)");
        var outs = new AbstractValue[ins.Length];
        for (int i = 0; i < ins.Length; i++) outs[i] = ins[i];
        return outs;
    }, multipleResults: true);

    /// <summary>
    /// The <see cref="TopKParams.K"/> largest entries along the last axis, in descending order, and
    /// their int32 positions. Order: the same as <see cref="Sort"/>'s, reversed (every NaN counts as
    /// larger than +Inf, -0.0 ties with +0.0); among equal values the lower index comes first.
    /// </summary>
    public static readonly Primitive TopK = new("top_k", PrimitiveFamily.Sorting, (ins, p) =>
    {
        var t = (TopKParams)p;
        var x = ins[0];
        if (x.Rank == 0)
            throw new ArgumentException($"top_k: operand must have rank >= 1, got shape {x.Shape}");
        int n = x.Shape[x.Rank - 1];
        if (t.K < 0 || t.K > n)
            throw new ArgumentException($"top_k: k={t.K} must lie in [0, {n}] (the last axis of operand shape {x.Shape})");
        var dims = x.Shape.ToArray();
        dims[^1] = t.K;
        var shape = new Shape(dims);
        return new[] { new AbstractValue(shape, x.DType, x.Weak), new AbstractValue(shape, DType.Int32) };
    }, inputs: 1, multipleResults: true);
}
