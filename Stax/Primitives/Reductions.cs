using static Stax.Extend.TypeRules;

namespace Stax.Extend;

/// <summary>Parameters of <c>reduce_sum</c>, <c>reduce_max</c>, <c>reduce_min</c> and <c>reduce_prod</c>:
/// the axes to reduce (distinct, in range); the output drops them.</summary>
public sealed record ReduceParams(IntTuple Axes) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"axes={Axes}";
}

/// <summary>Parameters of <c>argmax</c> and <c>argmin</c>: one axis (as a one-element tuple, like
/// jax.lax's <c>axes</c>) and the integer dtype of the returned indices.</summary>
public sealed record ArgReduceParams(IntTuple Axes, DType IndexDType) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"axes={Axes} index_dtype={IndexDType.Name()}";
}

/// <summary>Parameters of the cumulative reductions (<c>cumsum</c>, <c>cumprod</c>, <c>cummax</c>,
/// <c>cummin</c>): the axis to scan and whether to scan from the end.</summary>
public sealed record CumulativeParams(int Axis, bool Reverse = false) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"axis={Axis} reverse={(Reverse ? "True" : "False")}";
}

public static partial class Prims
{
    /// <summary>Checks reduction axes (in range, no duplicates) and returns the reduced shape.</summary>
    internal static Shape ReducedShape(string op, Shape shape, IntTuple axes)
    {
        var seen = new bool[shape.Rank];
        foreach (var a in axes.Span)
        {
            if (a < 0 || a >= shape.Rank)
                throw new ArgumentException($"{op}: axis {a} is out of range for operand shape {shape} (rank {shape.Rank}); axes must be in [0, {shape.Rank}) (use Np functions for negative axes)");
            if (seen[a])
                throw new ArgumentException($"{op}: duplicate axis {a} in axes {axes} for operand shape {shape}");
            seen[a] = true;
        }
        var dims = new List<int>();
        for (int i = 0; i < shape.Rank; i++) if (!seen[i]) dims.Add(shape[i]);
        return new Shape(dims.ToArray());
    }

    static Primitive Reduction(string name, Kinds kinds) => new(name, PrimitiveFamily.Reduction, (ins, p) =>
    {
        if (p is not ReduceParams r)
            throw new ArgumentException($"{name}: expected ReduceParams, got {p.GetType().Name}");
        RequireKind(name, kinds, ins[0]);
        return new[] { new AbstractValue(ReducedShape(name, ins[0].Shape, r.Axes), ins[0].DType, ins[0].Weak) };
    }, inputs: 1);

    static Primitive ArgReduction(string name) => new(name, PrimitiveFamily.Reduction, (ins, p) =>
    {
        if (p is not ArgReduceParams r)
            throw new ArgumentException($"{name}: expected ArgReduceParams, got {p.GetType().Name}");
        if (r.Axes.Length != 1)
            throw new ArgumentException($"{name}: expected exactly one axis, got axes {r.Axes} for operand shape {ins[0].Shape}");
        if (r.IndexDType is not (DType.Int32 or DType.UInt32))
            throw new ArgumentException($"{name}: index_dtype must be int32 or uint32, got {r.IndexDType.Name()}");
        var shape = ReducedShape(name, ins[0].Shape, r.Axes);
        if (ins[0].Shape[r.Axes[0]] == 0)
            throw new ArgumentException($"{name}: cannot reduce over axis {r.Axes[0]} of size 0 (operand shape {ins[0].Shape})");
        return new[] { new AbstractValue(shape, r.IndexDType) };
    }, inputs: 1);

    static Primitive Cumulative(string name, Kinds kinds) => new(name, PrimitiveFamily.Reduction, (ins, p) =>
    {
        if (p is not CumulativeParams c)
            throw new ArgumentException($"{name}: expected CumulativeParams, got {p.GetType().Name}");
        RequireKind(name, kinds, ins[0]);
        if (c.Axis < 0 || c.Axis >= ins[0].Rank)
            throw new ArgumentException($"{name}: axis {c.Axis} is out of range for operand shape {ins[0].Shape} (rank {ins[0].Rank})");
        return new[] { ins[0] };
    }, inputs: 1);

    /// <summary>Sum over <see cref="ReduceParams.Axes"/>; the empty sum is 0. Numeric dtypes
    /// (bool is not allowed here; <c>Np.Sum</c> converts it). Integer sums wrap.</summary>
    public static readonly Primitive ReduceSum = Reduction("reduce_sum", Kinds.Numeric);
    /// <summary>Product over the axes; the empty product is 1. Integer products wrap.</summary>
    public static readonly Primitive ReduceProd = Reduction("reduce_prod", Kinds.Numeric);
    /// <summary>Maximum over the axes (NaN propagates; for bool it is <c>any</c>); the empty
    /// maximum is the dtype's lowest value (-inf for floats).</summary>
    public static readonly Primitive ReduceMax = Reduction("reduce_max", Kinds.Any);
    /// <summary>Minimum over the axes (NaN propagates; for bool it is <c>all</c>); the empty
    /// minimum is the dtype's highest value (+inf for floats).</summary>
    public static readonly Primitive ReduceMin = Reduction("reduce_min", Kinds.Any);

    /// <summary>Index of the maximum along one axis: ties pick the first index, and the first NaN wins.</summary>
    public static readonly Primitive Argmax = ArgReduction("argmax");
    /// <summary>Index of the minimum along one axis: ties pick the first index, and the first NaN wins.</summary>
    public static readonly Primitive Argmin = ArgReduction("argmin");

    /// <summary>Inclusive cumulative sum along an axis (optionally from the end).</summary>
    public static readonly Primitive Cumsum = Cumulative("cumsum", Kinds.Numeric);
    /// <summary>Inclusive cumulative product along an axis.</summary>
    public static readonly Primitive Cumprod = Cumulative("cumprod", Kinds.Numeric);
    /// <summary>Inclusive running maximum along an axis (NaN propagates).</summary>
    public static readonly Primitive Cummax = Cumulative("cummax", Kinds.Any);
    /// <summary>Inclusive running minimum along an axis (NaN propagates).</summary>
    public static readonly Primitive Cummin = Cumulative("cummin", Kinds.Any);
}
