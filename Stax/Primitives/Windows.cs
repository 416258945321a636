using static Stax.TypeRules;

namespace Stax;

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

/// <summary>Shape arithmetic of windowed operations.</summary>
public static class Windows
{
    internal static string FormatPadding(IntTuple lo, IntTuple hi)
    {
        var parts = new List<string>();
        for (int i = 0; i < Math.Min(lo.Length, hi.Length); i++) parts.Add($"({lo[i]}, {hi[i]})");
        return parts.Count == 1 ? $"({parts[0]},)" : "(" + string.Join(", ", parts) + ")";
    }

    /// <summary>
    /// Validates a window against an operand shape and returns the output shape: per dimension,
    /// the dilated padded size <c>(n - 1) * base_dilation + 1 + lo + hi</c> (0 + lo + hi when n is 0)
    /// minus the dilated window <c>(w - 1) * window_dilation + 1</c>, divided by the stride, plus one
    /// (0 when the window does not fit).
    /// </summary>
    public static Shape OutputShape(string op, Shape operand, IntTuple windowDimensions, IntTuple windowStrides,
        IntTuple paddingLow, IntTuple paddingHigh, IntTuple baseDilation, IntTuple windowDilation)
    {
        int r = operand.Rank;
        void Len(IntTuple t, string what)
        {
            if (t.Length != r)
                throw new ArgumentException($"{op}: {what} {t} must have one entry per operand dimension (operand shape {operand}, rank {r}), got {t.Length}");
        }
        Len(windowDimensions, "window_dimensions");
        Len(windowStrides, "window_strides");
        Len(paddingLow, "padding (low)");
        Len(paddingHigh, "padding (high)");
        Len(baseDilation, "base_dilation");
        Len(windowDilation, "window_dilation");
        var dims = new int[r];
        for (int i = 0; i < r; i++)
        {
            if (windowDimensions[i] < 1)
                throw new ArgumentException($"{op}: window_dimensions {windowDimensions} must be positive (dimension {i} is {windowDimensions[i]})");
            if (windowStrides[i] < 1)
                throw new ArgumentException($"{op}: window_strides {windowStrides} must be positive (dimension {i} is {windowStrides[i]})");
            if (baseDilation[i] < 1 || windowDilation[i] < 1)
                throw new ArgumentException($"{op}: base_dilation {baseDilation} and window_dilation {windowDilation} must be positive (dimension {i})");
            if (paddingLow[i] < 0 || paddingHigh[i] < 0)
                throw new ArgumentException($"{op}: padding {FormatPadding(paddingLow, paddingHigh)} must be non-negative (dimension {i})");
            long n = operand[i];
            long padded = (n == 0 ? 0 : (n - 1) * baseDilation[i] + 1) + paddingLow[i] + paddingHigh[i];
            long win = (long)(windowDimensions[i] - 1) * windowDilation[i] + 1;
            long o = padded < win ? 0 : (padded - win) / windowStrides[i] + 1;
            if (o > int.MaxValue) throw new ArgumentException($"{op}: output dimension {i} is too large ({o})");
            dims[i] = (int)o;
        }
        return new Shape(dims);
    }

    internal static IntTuple Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
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
