namespace Stax;

public static partial class Lax
{
    static ReduceWindowParams WindowParams(int rank, int[] windowDimensions, int[]? windowStrides, (int Low, int High)[]? padding,
        int[]? baseDilation, int[]? windowDilation)
    {
        padding ??= new (int, int)[rank];
        return new ReduceWindowParams(windowDimensions, windowStrides ?? Windows.Ones(rank).ToArray(),
            padding.Select(p => p.Low).ToArray(), padding.Select(p => p.High).ToArray(),
            baseDilation ?? Windows.Ones(rank).ToArray(), windowDilation ?? Windows.Ones(rank).ToArray());
    }

    /// <summary>Sum over windows (padding adds 0). Strides, padding and dilations default to 1, none and 1.</summary>
    public static Tensor ReduceWindowSum(Tensor x, int[] windowDimensions, int[]? windowStrides = null, (int Low, int High)[]? padding = null,
        int[]? baseDilation = null, int[]? windowDilation = null)
        => Prims.ReduceWindowSum.Bind1(WindowParams(x.Rank, windowDimensions, windowStrides, padding, baseDilation, windowDilation), x);

    /// <summary>Maximum over windows (padding is -inf); max pooling.</summary>
    public static Tensor ReduceWindowMax(Tensor x, int[] windowDimensions, int[]? windowStrides = null, (int Low, int High)[]? padding = null,
        int[]? baseDilation = null, int[]? windowDilation = null)
        => Prims.ReduceWindowMax.Bind1(WindowParams(x.Rank, windowDimensions, windowStrides, padding, baseDilation, windowDilation), x);

    /// <summary>Minimum over windows (padding is +inf).</summary>
    public static Tensor ReduceWindowMin(Tensor x, int[] windowDimensions, int[]? windowStrides = null, (int Low, int High)[]? padding = null,
        int[]? baseDilation = null, int[]? windowDilation = null)
        => Prims.ReduceWindowMin.Bind1(WindowParams(x.Rank, windowDimensions, windowStrides, padding, baseDilation, windowDilation), x);

    /// <summary>
    /// Adds each <paramref name="source"/> element to the position its window of
    /// <paramref name="operand"/> selects (<paramref name="selectPrim"/>: <see cref="Prims.Ge"/> for max pooling).
    /// </summary>
    public static Tensor SelectAndScatterAdd(Tensor source, Tensor operand, Primitive selectPrim, int[] windowDimensions, int[] windowStrides,
        (int Low, int High)[] padding)
        => Prims.SelectAndScatterAdd.Bind1(new SelectAndScatterAddParams(selectPrim, windowDimensions, windowStrides,
            padding.Select(p => p.Low).ToArray(), padding.Select(p => p.High).ToArray()), source, operand);

    /// <summary>
    /// For each window of <paramref name="operand"/>, the <paramref name="tangents"/> element at the
    /// position <paramref name="selectPrim"/> selects (max pooling's JVP).
    /// </summary>
    public static Tensor SelectAndGatherAdd(Tensor tangents, Tensor operand, Primitive selectPrim, int[] windowDimensions, int[] windowStrides,
        (int Low, int High)[] padding, int[]? baseDilation = null, int[]? windowDilation = null)
        => Prims.SelectAndGatherAdd.Bind1(new SelectAndGatherAddParams(selectPrim, windowDimensions, windowStrides,
            padding.Select(p => p.Low).ToArray(), padding.Select(p => p.High).ToArray(),
            baseDilation ?? Windows.Ones(operand.Rank).ToArray(), windowDilation ?? Windows.Ones(operand.Rank).ToArray()), tangents, operand);
}
