namespace Stax;

public static partial class Lax
{
    /// <summary>Sum over <paramref name="axes"/> (non-negative, distinct); the output drops them.</summary>
    public static Tensor ReduceSum(Tensor x, params int[] axes) => Prims.ReduceSum.Bind1(new ReduceParams(axes), x);
    /// <summary>Product over <paramref name="axes"/>.</summary>
    public static Tensor ReduceProd(Tensor x, params int[] axes) => Prims.ReduceProd.Bind1(new ReduceParams(axes), x);
    /// <summary>Maximum over <paramref name="axes"/> (NaN propagates; bool: any).</summary>
    public static Tensor ReduceMax(Tensor x, params int[] axes) => Prims.ReduceMax.Bind1(new ReduceParams(axes), x);
    /// <summary>Minimum over <paramref name="axes"/> (NaN propagates; bool: all).</summary>
    public static Tensor ReduceMin(Tensor x, params int[] axes) => Prims.ReduceMin.Bind1(new ReduceParams(axes), x);

    /// <summary>Index of the maximum along <paramref name="axis"/> (first on ties; the first NaN wins).</summary>
    public static Tensor Argmax(Tensor x, int axis, DType indexDType = DType.Int32)
        => Prims.Argmax.Bind1(new ArgReduceParams(new[] { axis }, indexDType), x);
    /// <summary>Index of the minimum along <paramref name="axis"/> (first on ties; the first NaN wins).</summary>
    public static Tensor Argmin(Tensor x, int axis, DType indexDType = DType.Int32)
        => Prims.Argmin.Bind1(new ArgReduceParams(new[] { axis }, indexDType), x);

    /// <summary>Inclusive cumulative sum along <paramref name="axis"/> (from the end when <paramref name="reverse"/>).</summary>
    public static Tensor Cumsum(Tensor x, int axis = 0, bool reverse = false) => Prims.Cumsum.Bind1(new CumulativeParams(axis, reverse), x);
    /// <summary>Inclusive cumulative product along <paramref name="axis"/>.</summary>
    public static Tensor Cumprod(Tensor x, int axis = 0, bool reverse = false) => Prims.Cumprod.Bind1(new CumulativeParams(axis, reverse), x);
    /// <summary>Inclusive running maximum along <paramref name="axis"/>.</summary>
    public static Tensor Cummax(Tensor x, int axis = 0, bool reverse = false) => Prims.Cummax.Bind1(new CumulativeParams(axis, reverse), x);
    /// <summary>Inclusive running minimum along <paramref name="axis"/>.</summary>
    public static Tensor Cummin(Tensor x, int axis = 0, bool reverse = false) => Prims.Cummin.Bind1(new CumulativeParams(axis, reverse), x);
}
