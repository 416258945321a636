using static Stax.Extend.TypeRules;

namespace Stax.Extend;

/// <summary>
/// The window of a windowed reduction, per operand dimension: window size, stride, low/high padding
/// (applied after base dilation; padded positions hold the reduction's identity), base dilation
/// (holes inserted between operand elements) and window dilation (holes inside the window).
/// This is XLA's ReduceWindow window, as jax.lax.reduce_window_*_p take it.
/// </summary>
public sealed record ReduceWindowParams(IntTuple WindowDimensions, IntTuple WindowStrides, IntTuple PaddingLow, IntTuple PaddingHigh,
    IntTuple BaseDilation, IntTuple WindowDilation) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"window_dimensions={WindowDimensions} window_strides={WindowStrides} padding={Windows.FormatPadding(PaddingLow, PaddingHigh)} base_dilation={BaseDilation} window_dilation={WindowDilation}";
}

/// <summary>Parameters of <c>select_and_scatter_add</c> (as jax's select_and_scatter_add_p): the
/// selection primitive (<see cref="Prims.Ge"/> selects the maximum, for max pooling; <see cref="Prims.Le"/>
/// the minimum), window sizes, strides and low/high padding.</summary>
public sealed record SelectAndScatterAddParams(Primitive SelectPrim, IntTuple WindowDimensions, IntTuple WindowStrides,
    IntTuple PaddingLow, IntTuple PaddingHigh) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"select_prim={SelectPrim.Name} window_dimensions={WindowDimensions} window_strides={WindowStrides} padding={Windows.FormatPadding(PaddingLow, PaddingHigh)}";
}

/// <summary>Parameters of <c>select_and_gather_add</c> (as jax's select_and_gather_add_p): the
/// selection primitive and the full window (see <see cref="ReduceWindowParams"/>).</summary>
public sealed record SelectAndGatherAddParams(Primitive SelectPrim, IntTuple WindowDimensions, IntTuple WindowStrides,
    IntTuple PaddingLow, IntTuple PaddingHigh, IntTuple BaseDilation, IntTuple WindowDilation) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"select_prim={SelectPrim.Name} window_dimensions={WindowDimensions} window_strides={WindowStrides} padding={Windows.FormatPadding(PaddingLow, PaddingHigh)} base_dilation={BaseDilation} window_dilation={WindowDilation}";
}

public static partial class Prims
{
    static Primitive ReduceWindow(string name, Kinds kinds) => new(name, PrimitiveFamily.Window, (ins, p) =>
    {
        if (p is not ReduceWindowParams w)
            throw new ArgumentException($"{name}: expected ReduceWindowParams, got {p.GetType().Name}");
        RequireKind(name, kinds, ins[0]);
        var shape = Windows.OutputShape(name, ins[0].Shape, w.WindowDimensions, w.WindowStrides, w.PaddingLow, w.PaddingHigh, w.BaseDilation, w.WindowDilation);
        return new[] { new AbstractValue(shape, ins[0].DType, ins[0].Weak) };
    }, inputs: 1);

    static void RequireSelectPrim(string op, Primitive select)
    {
        if (!ReferenceEquals(select, Ge) && !ReferenceEquals(select, Le))
            throw new ArgumentException($"{op}: select_prim must be ge (max pooling) or le (min pooling), got {select.Name}");
    }

    /// <summary>Sum over each window (padding contributes 0).</summary>
    public static readonly Primitive ReduceWindowSum = ReduceWindow("reduce_window_sum", Kinds.Numeric);
    /// <summary>Maximum over each window (padding is -inf / the lowest value; NaN propagates).</summary>
    public static readonly Primitive ReduceWindowMax = ReduceWindow("reduce_window_max", Kinds.Any);
    /// <summary>Minimum over each window (padding is +inf / the highest value; NaN propagates).</summary>
    public static readonly Primitive ReduceWindowMin = ReduceWindow("reduce_window_min", Kinds.Any);

    /// <summary>
    /// select_and_scatter_add(source, operand): for each window of <c>operand</c> (shaped like the
    /// output of a reduce_window with the same window), selects one position with
    /// <see cref="SelectAndScatterAddParams.SelectPrim"/> and adds the window's <c>source</c>
    /// element there; the result has the operand's shape. This is max pooling's transpose.
    /// Selection scans the window in row-major order and keeps the current choice while
    /// <c>select(current, candidate)</c> holds, so ties pick the first; a NaN is selected and
    /// kept (matching reduce_window_max's NaN propagation); padded positions are never selected.
    /// </summary>
    public static readonly Primitive SelectAndScatterAdd = new("select_and_scatter_add", PrimitiveFamily.Window, (ins, p) =>
    {
        const string name = "select_and_scatter_add";
        if (p is not SelectAndScatterAddParams s)
            throw new ArgumentException($"{name}: expected SelectAndScatterAddParams, got {p.GetType().Name}");
        RequireSelectPrim(name, s.SelectPrim);
        RequireKind(name, Kinds.Numeric, ins[0], "source");
        RequireKind(name, Kinds.Numeric, ins[1]);
        if (ins[0].DType != ins[1].DType)
            throw new ArgumentException($"{name}: source dtype {ins[0].DType.Name()} must equal operand dtype {ins[1].DType.Name()}");
        int r = ins[1].Rank;
        var windowShape = Windows.OutputShape(name, ins[1].Shape, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh, Windows.Ones(r), Windows.Ones(r));
        if (ins[0].Shape != windowShape)
            throw new ArgumentException($"{name}: source shape {ins[0].Shape} must equal the window output shape {windowShape} of operand shape {ins[1].Shape}");
        return new[] { new AbstractValue(ins[1].Shape, ins[0].DType) };
    }, inputs: 2);

    /// <summary>
    /// select_and_gather_add(tangents, operand): for each window of <c>operand</c>, selects one
    /// position with <see cref="SelectAndGatherAddParams.SelectPrim"/> (same rule as
    /// <see cref="SelectAndScatterAdd"/>) and returns the <c>tangents</c> element at that position
    /// (0 when the window holds only padding). The result is shaped like the reduce_window output.
    /// This is max pooling's JVP.
    /// </summary>
    public static readonly Primitive SelectAndGatherAdd = new("select_and_gather_add", PrimitiveFamily.Window, (ins, p) =>
    {
        const string name = "select_and_gather_add";
        if (p is not SelectAndGatherAddParams s)
            throw new ArgumentException($"{name}: expected SelectAndGatherAddParams, got {p.GetType().Name}");
        RequireSelectPrim(name, s.SelectPrim);
        RequireKind(name, Kinds.Numeric, ins[0], "tangents");
        RequireKind(name, Kinds.Numeric, ins[1]);
        if (ins[0].Shape != ins[1].Shape)
            throw new ArgumentException($"{name}: tangents shape {ins[0].Shape} must equal operand shape {ins[1].Shape}");
        if (ins[0].DType != ins[1].DType)
            throw new ArgumentException($"{name}: tangents dtype {ins[0].DType.Name()} must equal operand dtype {ins[1].DType.Name()}");
        var shape = Windows.OutputShape(name, ins[1].Shape, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh, s.BaseDilation, s.WindowDilation);
        return new[] { new AbstractValue(shape, ins[0].DType) };
    }, inputs: 2);
}
