namespace Stax;

public static partial class Lax
{
    /// <summary>
    /// Sorts <paramref name="operands"/> together along <paramref name="dimension"/> (negative counts
    /// from the end), by the first <paramref name="numKeys"/> operands lexicographically
    /// (jax.lax.sort). NaNs sort last, -0.0 ties with +0.0, and the sort is always stable.
    /// </summary>
    public static Tensor[] Sort(Tensor[] operands, int dimension = -1, bool isStable = true, int numKeys = 1)
    {
        if (operands.Length == 0) throw new ArgumentException("sort: expected at least one operand");
        if (operands[0].Rank == 0) throw new ArgumentException($"sort: operands must have rank >= 1, got shape {operands[0].Shape}");
        int d = operands[0].Shape.Axis(dimension, "sort");
        return Prims.Sort.Bind(new SortParams(d, isStable, numKeys), operands);
    }

    /// <summary>Sorts one operand along <paramref name="dimension"/> (default: the last).</summary>
    public static Tensor Sort(Tensor operand, int dimension = -1, bool isStable = true) => Sort(new[] { operand }, dimension, isStable)[0];

    /// <summary>Sorts <paramref name="keys"/> and permutes <paramref name="values"/> the same way (jax.lax.sort_key_val).</summary>
    public static (Tensor Keys, Tensor Values) SortKeyVal(Tensor keys, Tensor values, int dimension = -1, bool isStable = true)
    {
        var r = Sort(new[] { keys, values }, dimension, isStable, 1);
        return (r[0], r[1]);
    }

    /// <summary>
    /// The <paramref name="k"/> largest entries along the last axis, descending, and their int32
    /// indices (jax.lax.top_k). NaNs count as largest; ties give the lower index first.
    /// </summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor operand, int k)
    {
        var r = Prims.TopK.Bind(new TopKParams(k), operand);
        return (r[0], r[1]);
    }
}
