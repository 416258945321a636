namespace Stax;

public static partial class Lax
{
    /// <summary>
    /// XLA's gather (jax.lax.gather). The last dimension of <paramref name="indices"/> is the index
    /// vector; see <see cref="Prims.Gather"/>. The default mode, as in jax.lax.gather (mode=None), is
    /// <see cref="GatherScatterMode.PromiseInBounds"/>: out-of-range starts are clamped.
    /// </summary>
    public static Tensor Gather(Tensor operand, Tensor indices, GatherDimensionNumbers dimensionNumbers, int[] sliceSizes,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.PromiseInBounds, double? fillValue = null)
        => Prims.Gather.Bind1(new GatherParams(dimensionNumbers, sliceSizes, indicesAreSorted, uniqueIndices, mode, fillValue), operand, indices);

    /// <summary>Scatter that replaces (jax.lax.scatter); with repeated indices the last update (row-major order of the updates) wins.</summary>
    public static Tensor Scatter(Tensor operand, Tensor indices, Tensor updates, ScatterDimensionNumbers dimensionNumbers,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Prims.Scatter.Bind1(new ScatterParams(dimensionNumbers, indicesAreSorted, uniqueIndices, mode), operand, indices, updates);

    /// <summary>Scatter that adds (jax.lax.scatter_add); repeated indices accumulate in order.</summary>
    public static Tensor ScatterAdd(Tensor operand, Tensor indices, Tensor updates, ScatterDimensionNumbers dimensionNumbers,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Prims.ScatterAdd.Bind1(new ScatterParams(dimensionNumbers, indicesAreSorted, uniqueIndices, mode), operand, indices, updates);

    /// <summary>Scatter that multiplies (jax.lax.scatter_mul).</summary>
    public static Tensor ScatterMul(Tensor operand, Tensor indices, Tensor updates, ScatterDimensionNumbers dimensionNumbers,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Prims.ScatterMul.Bind1(new ScatterParams(dimensionNumbers, indicesAreSorted, uniqueIndices, mode), operand, indices, updates);

    /// <summary>Scatter that keeps the minimum (jax.lax.scatter_min).</summary>
    public static Tensor ScatterMin(Tensor operand, Tensor indices, Tensor updates, ScatterDimensionNumbers dimensionNumbers,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Prims.ScatterMin.Bind1(new ScatterParams(dimensionNumbers, indicesAreSorted, uniqueIndices, mode), operand, indices, updates);

    /// <summary>Scatter that keeps the maximum (jax.lax.scatter_max).</summary>
    public static Tensor ScatterMax(Tensor operand, Tensor indices, Tensor updates, ScatterDimensionNumbers dimensionNumbers,
        bool indicesAreSorted = false, bool uniqueIndices = false, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Prims.ScatterMax.Bind1(new ScatterParams(dimensionNumbers, indicesAreSorted, uniqueIndices, mode), operand, indices, updates);
}
