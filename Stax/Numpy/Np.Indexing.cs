namespace Stax;

public static partial class Np
{
    /// <summary>
    /// Elements of <paramref name="x"/> at <paramref name="indices"/> along <paramref name="axis"/>
    /// (jnp.take); with no axis, <paramref name="x"/> is flattened first. The result has shape
    /// <c>x.shape[:axis] + indices.shape + x.shape[axis+1:]</c>. Out-of-range indices follow
    /// <paramref name="mode"/>, as jnp.take's: by default (<see cref="GatherScatterMode.FillOrDrop"/>,
    /// jnp.take's 'fill') negative indices count from the end and indices still out of range give
    /// <paramref name="fillValue"/> (default NaN for floats, the minimum for signed integers, the
    /// maximum for unsigned, true for bool); <see cref="GatherScatterMode.Clip"/> clamps the index
    /// as given into [0, size), so -1 is 0; <see cref="GatherScatterMode.Wrap"/> takes the index
    /// modulo the size; <see cref="GatherScatterMode.PromiseInBounds"/> counts negative indices from
    /// the end and clamps (what <c>x.at[i].get()</c> does).
    /// </summary>
    public static Tensor Take(Tensor x, Tensor indices, int? axis = null, GatherScatterMode mode = GatherScatterMode.FillOrDrop, double? fillValue = null)
    {
        const string op = "take";
        if (axis is null) { x = Ravel(x); axis = 0; }
        if (x.Rank == 0) throw new ArgumentException($"{op}: cannot index a scalar (shape {x.Shape}) along an axis");
        int ax = x.Shape.Axis(axis.Value, op);
        // jnp.take (jax/_src/numpy/indexing.py): 'fill' wraps negative indices first, 'clip' hands
        // them to a clipping gather as they are, 'wrap' applies jnp.mod and promises in bounds.
        var idx = mode switch
        {
            GatherScatterMode.Clip => CheckIndices(op, indices),
            GatherScatterMode.Wrap => WrapIndices(op, indices, x.Shape[ax]),
            _ => NormalizeIndices(op, indices, x.Shape[ax]),
        };
        if (mode == GatherScatterMode.Wrap) mode = GatherScatterMode.PromiseInBounds;
        int r = x.Rank, m = idx.Rank;
        var idxDims = idx.Shape.ToArray().Append(1).ToArray();
        idx = Lax.Reshape(idx, new Shape(idxDims));
        var offsetDims = Enumerable.Range(0, ax).Concat(Enumerable.Range(ax + m, r - 1 - ax)).ToArray();
        var sliceSizes = x.Shape.ToArray();
        sliceSizes[ax] = Math.Min(1, sliceSizes[ax]);
        var dn = new GatherDimensionNumbers(offsetDims, new[] { ax }, new[] { ax });
        return Lax.Gather(x, idx, dn, sliceSizes, mode: mode, fillValue: fillValue);
    }

    /// <summary>
    /// jnp.take_along_axis: picks, for every position, the element of <paramref name="x"/> along
    /// <paramref name="axis"/> named by <paramref name="indices"/> (same rank as x; the other
    /// dimensions broadcast against x's). Lowered to one gather whose other dimensions are batching
    /// dimensions. Negative indices count from the end (except with
    /// <see cref="GatherScatterMode.PromiseInBounds"/>, as jnp.take_along_axis); out-of-range indices
    /// follow <paramref name="mode"/> (<see cref="GatherScatterMode.Wrap"/> is not one of its modes).
    /// </summary>
    public static Tensor TakeAlongAxis(Tensor x, Tensor indices, int axis, GatherScatterMode mode = GatherScatterMode.FillOrDrop, double? fillValue = null)
    {
        const string op = "take_along_axis";
        if (indices.Rank != x.Rank)
            throw new ArgumentException($"{op}: indices must have the same rank as x, got indices shape {indices.Shape} and x shape {x.Shape}");
        if (x.Rank == 0) throw new ArgumentException($"{op}: cannot index a scalar (shape {x.Shape}) along an axis");
        int ax = x.Shape.Axis(axis, op);
        int r = x.Rank;
        if (mode == GatherScatterMode.Wrap) throw new ArgumentException($"{op}: mode Wrap is not supported (jnp.take_along_axis has 'fill', 'clip' and 'promise_in_bounds')");
        // jnp.take_along_axis wraps negative indices unless mode is 'promise_in_bounds'.
        var idx = mode == GatherScatterMode.PromiseInBounds ? CheckIndices(op, indices) : NormalizeIndices(op, indices, x.Shape[ax]);
        // Broadcast the non-axis dimensions of x and indices together.
        var xDims = x.Shape.ToArray();
        var iDims = idx.Shape.ToArray();
        for (int d = 0; d < r; d++)
        {
            if (d == ax) continue;
            int a = xDims[d], b = iDims[d];
            if (a != b && a != 1 && b != 1)
                throw new ArgumentException($"{op}: x shape {x.Shape} and indices shape {indices.Shape} do not broadcast in dimension {d}");
            int s = a == 1 ? b : a;
            xDims[d] = s;
            iDims[d] = s;
        }
        var all = Enumerable.Range(0, r).ToArray();
        x = Lax.BroadcastInDim(x, new Shape(xDims), all);
        idx = Lax.BroadcastInDim(idx, new Shape(iDims), all);
        idx = Lax.Reshape(idx, new Shape(iDims.Append(1).ToArray()));
        var batching = all.Where(d => d != ax).ToArray();
        var sliceSizes = xDims.Select(s => Math.Min(1, s)).ToArray();
        var dn = new GatherDimensionNumbers(Array.Empty<int>(), new[] { ax }, new[] { ax }, batching, batching);
        return Lax.Gather(x, idx, dn, sliceSizes, mode: mode, fillValue: fillValue);
    }

    /// <summary>Sorts along <paramref name="axis"/> (jnp.sort): NaNs last, stable.</summary>
    public static Tensor Sort(Tensor x, int axis = -1)
    {
        if (x.Rank == 0) return x;
        return Lax.Sort(x, axis);
    }

    /// <summary>
    /// The int32 indices that sort <paramref name="x"/> along <paramref name="axis"/> (jnp.argsort
    /// with <c>stable=True</c>): equal elements keep their input order; NaNs sort last.
    /// </summary>
    public static Tensor Argsort(Tensor x, int axis = -1)
    {
        if (x.Rank == 0) return Tensor.Scalar(0, DType.Int32);
        int ax = x.Shape.Axis(axis, "argsort");
        var iota = Lax.Iota(DType.Int32, x.Shape, ax);
        return Lax.Sort(new[] { x, iota }, ax, isStable: true, numKeys: 1)[1];
    }

    /// <summary>The <paramref name="k"/> largest entries along the last axis and their int32 indices (jax.lax.top_k).</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor x, int k) => Lax.TopK(x, k);

    /// <summary>
    /// A functional indexed update like jax's <c>x.at[...]</c>, selecting the entries at
    /// <paramref name="indices"/> along <paramref name="axis"/>: <c>x.At(i).Set(v)</c>,
    /// <c>.Add(v)</c>, <c>.Multiply(v)</c>, <c>.Min(v)</c>, <c>.Max(v)</c> return new tensors;
    /// <c>.Get()</c> reads them like <c>x[i]</c> in JAX (negative indices count from the end,
    /// out-of-range ones are clamped).
    /// </summary>
    public static IndexUpdate At(this Tensor x, Tensor indices, int axis = 0) => new(x, indices, axis);

    /// <summary>
    /// x with <paramref name="updates"/> added at <paramref name="indices"/> along
    /// <paramref name="axis"/> (<c>x.at[..., indices, ...].add(updates)</c>); repeated indices accumulate.
    /// </summary>
    public static Tensor ScatterAdd(Tensor x, Tensor indices, Tensor updates, int axis = 0) => x.At(indices, axis).Add(updates);

    static Tensor CheckIndices(string op, Tensor indices)
        => indices.DType.IsInteger() ? indices
            : throw new ArgumentException($"{op}: indices must have an integer dtype, got {indices.DType.Name()} (shape {indices.Shape})");

    /// <summary>jnp.take's mode='wrap': <c>jnp.mod(indices, size)</c>.</summary>
    static Tensor WrapIndices(string op, Tensor indices, int size)
    {
        CheckIndices(op, indices);
        // uint8 indices are all below a size over 255 (and the size would not fit the dtype).
        if (indices.DType == DType.UInt8 && size > 255) return indices;
        return Remainder(indices, Tensor.Scalar(size, indices.DType));
    }

    /// <summary>Checks the index dtype and maps negative indices to <c>index + size</c>.</summary>
    static Tensor NormalizeIndices(string op, Tensor indices, int size)
    {
        CheckIndices(op, indices);
        if (indices.DType.IsUnsigned()) return indices;
        // Eager fast path: concrete indices without negatives need no extra operations.
        if (indices.IsConcrete && indices.ToArray<int>().All(v => v >= 0)) return indices;
        var zero = Lax.BroadcastInDim(Tensor.Scalar(0, indices.DType), indices.Shape);
        var n = Lax.BroadcastInDim(Tensor.Scalar(size, indices.DType), indices.Shape);
        return Lax.Select(Lax.Lt(indices, zero), Lax.Add(indices, n), indices);
    }

    /// <summary>Negative indices along <paramref name="axis"/> of <paramref name="x"/> counted from the end.</summary>
    internal static Tensor WrapNegative(Tensor indices, Tensor x, int axis)
    {
        if (x.Rank == 0) return indices;
        return NormalizeIndices("at.get", indices, x.Shape[x.Shape.Axis(axis, "at.get")]);
    }

    internal static Tensor ScatterAlongAxis(string op, Primitive prim, Tensor x, Tensor indices, int axis, Tensor values, GatherScatterMode mode)
    {
        if (x.Rank == 0) throw new ArgumentException($"{op}: cannot index a scalar (shape {x.Shape}) along an axis");
        int ax = x.Shape.Axis(axis, op);
        var idx = NormalizeIndices(op, indices, x.Shape[ax]);
        int r = x.Rank, m = idx.Rank;
        var xd = x.Shape.ToArray();
        var updShape = new Shape(xd.Take(ax).Concat(idx.Shape.ToArray()).Concat(xd.Skip(ax + 1)).ToArray());
        values = Lax.ConvertElementType(values, x.DType, x.IsWeak);
        values = BroadcastTo(values, updShape, op, "the values of shape ");
        idx = Lax.Reshape(idx, new Shape(idx.Shape.ToArray().Append(1).ToArray()));
        var windowDims = Enumerable.Range(0, ax).Concat(Enumerable.Range(ax + m, r - 1 - ax)).ToArray();
        var dn = new ScatterDimensionNumbers(windowDims, new[] { ax }, new[] { ax });
        return prim.Bind1(new ScatterParams(dn, Mode: mode), x, idx, values);
    }
}

/// <summary>
/// The result of <see cref="Np.At"/>: entries of a tensor selected by integer indices along one
/// axis, to read or to update functionally (jax's <c>x.at[...]</c>). As in JAX, out-of-range
/// indices are dropped by updates and clamped by <see cref="Get"/> unless another mode is given.
/// </summary>
public readonly struct IndexUpdate
{
    readonly Tensor _x, _indices;
    readonly int _axis;

    internal IndexUpdate(Tensor x, Tensor indices, int axis) { _x = x; _indices = indices; _axis = axis; }

    /// <summary>
    /// The selected entries, as <c>x[i]</c> and <c>x.at[i].get()</c> in JAX: negative indices count
    /// from the end, and the default mode is jax's 'promise_in_bounds', under which XLA clamps
    /// out-of-range indices. <see cref="GatherScatterMode.FillOrDrop"/> fills them with
    /// <paramref name="fillValue"/> instead (see <see cref="Np.Take"/>).
    /// </summary>
    public Tensor Get(GatherScatterMode mode = GatherScatterMode.PromiseInBounds, double? fillValue = null)
    {
        if (mode == GatherScatterMode.Wrap) throw new ArgumentException("at.get: mode Wrap is not supported (x.at[i].get has 'promise_in_bounds', 'clip' and 'fill'); use Np.Take");
        // .at[].get() wraps negative indices in every mode (wrap_negative_indices=True).
        return mode == GatherScatterMode.Clip ? Np.Take(_x, Np.WrapNegative(_indices, _x, _axis), _axis, mode, fillValue) : Np.Take(_x, _indices, _axis, mode, fillValue);
    }
    /// <summary>A copy with the selected entries replaced; with repeated indices the last value wins.</summary>
    public Tensor Set(Tensor values, GatherScatterMode mode = GatherScatterMode.FillOrDrop) => Np.ScatterAlongAxis("at.set", Prims.Scatter, _x, _indices, _axis, values, mode);
    /// <summary>A copy with values added to the selected entries; repeated indices accumulate.</summary>
    public Tensor Add(Tensor values, GatherScatterMode mode = GatherScatterMode.FillOrDrop) => Np.ScatterAlongAxis("at.add", Prims.ScatterAdd, _x, _indices, _axis, values, mode);
    /// <summary>A copy with the selected entries multiplied by values.</summary>
    public Tensor Multiply(Tensor values, GatherScatterMode mode = GatherScatterMode.FillOrDrop) => Np.ScatterAlongAxis("at.multiply", Prims.ScatterMul, _x, _indices, _axis, values, mode);
    /// <summary>A copy with the selected entries replaced by the minimum of entry and value.</summary>
    public Tensor Min(Tensor values, GatherScatterMode mode = GatherScatterMode.FillOrDrop) => Np.ScatterAlongAxis("at.min", Prims.ScatterMin, _x, _indices, _axis, values, mode);
    /// <summary>A copy with the selected entries replaced by the maximum of entry and value.</summary>
    public Tensor Max(Tensor values, GatherScatterMode mode = GatherScatterMode.FillOrDrop) => Np.ScatterAlongAxis("at.max", Prims.ScatterMax, _x, _indices, _axis, values, mode);
}
