namespace Stax;

public static partial class Lax
{
    /// <summary>Permutes dimensions: output dimension i is operand dimension <paramref name="permutation"/>[i] (a no-op for the identity).</summary>
    public static Tensor Transpose(Tensor x, params int[] permutation)
    {
        bool identity = permutation.Length == x.Rank;
        for (int i = 0; identity && i < permutation.Length; i++) identity = permutation[i] == i;
        return identity ? x : Prims.Transpose.Bind1(new TransposeParams(permutation), x);
    }

    /// <summary>
    /// Static slice as <c>jax.lax.slice</c>: elements start, start + stride, ... below limit in each
    /// dimension. <paramref name="strides"/> defaults to all ones. A no-op when it selects everything.
    /// </summary>
    public static Tensor Slice(Tensor x, int[] startIndices, int[] limitIndices, int[]? strides = null)
    {
        strides ??= Enumerable.Repeat(1, startIndices.Length).ToArray();
        bool identity = startIndices.Length == x.Rank && limitIndices.Length == x.Rank && strides.Length == x.Rank;
        for (int d = 0; identity && d < x.Rank; d++)
            identity = startIndices[d] == 0 && limitIndices[d] == x.Shape[d] && (strides[d] == 1 || (strides[d] > 0 && x.Shape[d] <= 1));
        return identity ? x : Prims.Slice.Bind1(new SliceParams(startIndices, limitIndices, strides), x);
    }

    /// <summary>Slices one dimension (as <c>jax.lax.slice_in_dim</c>); <paramref name="dimension"/> may be negative.</summary>
    public static Tensor SliceInDim(Tensor x, int startIndex, int limitIndex, int stride = 1, int dimension = 0)
    {
        int dim = x.Shape.Axis(dimension, "slice_in_dim");
        var start = new int[x.Rank];
        var limit = x.Shape.ToArray();
        var strides = Enumerable.Repeat(1, x.Rank).ToArray();
        start[dim] = startIndex;
        limit[dim] = limitIndex;
        strides[dim] = stride;
        return Slice(x, start, limit, strides);
    }

    /// <summary>
    /// Pads <paramref name="x"/> with the scalar <paramref name="paddingValue"/> (same dtype) using
    /// JAX's (low, high, interior) triples per dimension; negative low/high crop.
    /// </summary>
    public static Tensor Pad(Tensor x, Tensor paddingValue, params (int Low, int High, int Interior)[] paddingConfig)
        => Prims.Pad.Bind1(PadParams.FromConfig(paddingConfig), x, paddingValue);

    /// <summary>Concatenates operands along <paramref name="dimension"/> (dtypes and other dimensions must match).</summary>
    public static Tensor Concatenate(Tensor[] operands, int dimension)
        => operands.Length == 1 && dimension >= 0 && dimension < operands[0].Rank
            ? operands[0] : Prims.Concatenate.Bind1(new ConcatenateParams(dimension), operands);

    /// <summary>Reverses the elements along <paramref name="dimensions"/> (a no-op for none).</summary>
    public static Tensor Rev(Tensor x, params int[] dimensions)
        => dimensions.Length == 0 ? x : Prims.Rev.Bind1(new RevParams(dimensions), x);

    /// <summary>
    /// A slice of static <paramref name="sliceSizes"/> at run-time scalar integer
    /// <paramref name="startIndices"/> (jax.lax.dynamic_slice): a negative start counts from the end
    /// (the dimension's size is added, unless <paramref name="allowNegativeIndices"/> is false), and
    /// the start is then clamped so that the slice stays in bounds (XLA's rule).
    /// </summary>
    public static Tensor DynamicSlice(Tensor x, Tensor[] startIndices, int[] sliceSizes, bool allowNegativeIndices = true)
    {
        var args = new Tensor[startIndices.Length + 1];
        args[0] = x;
        DynamicStarts(x, startIndices, allowNegativeIndices).CopyTo(args, 1);
        return Prims.DynamicSlice.Bind1(new DynamicSliceParams(sliceSizes), args);
    }

    /// <summary>
    /// A copy of <paramref name="x"/> with <paramref name="update"/> written at run-time scalar integer
    /// <paramref name="startIndices"/> (jax.lax.dynamic_update_slice): a negative start counts from
    /// the end (unless <paramref name="allowNegativeIndices"/> is false), and the start is then
    /// clamped so that the update stays in bounds (XLA's rule).
    /// </summary>
    public static Tensor DynamicUpdateSlice(Tensor x, Tensor update, Tensor[] startIndices, bool allowNegativeIndices = true)
    {
        var args = new Tensor[startIndices.Length + 2];
        args[0] = x;
        args[1] = update;
        DynamicStarts(x, startIndices, allowNegativeIndices).CopyTo(args, 2);
        return Prims.DynamicUpdateSlice.Bind1(Params.None, args);
    }

    // jax's _dynamic_slice_indices: i < 0 ? i + size : i for signed starts (on the host for C#
    // literals, else a select), before the primitive clamps.
    static Tensor[] DynamicStarts(Tensor x, Tensor[] starts, bool allowNegative)
    {
        if (!allowNegative || starts.Length != x.Rank) return starts; // the primitive reports a rank mismatch
        var r = new Tensor[starts.Length];
        for (int d = 0; d < starts.Length; d++)
        {
            var s = starts[d];
            int n = x.Shape[d];
            if (s.DType.IsUnsigned() || !s.DType.IsInteger() || s.Rank != 0) r[d] = s;
            else if (s.ExactValue is double v) r[d] = v < 0 ? Tensor.Scalar(v + n, s.DType).WithWeak(s.IsWeak) : s;
            else r[d] = Select(Lt(s, Tensor.Scalar(0, s.DType).WithWeak(s.IsWeak)), Add(s, Tensor.Scalar(n, s.DType).WithWeak(s.IsWeak)), s);
        }
        return r;
    }

    /// <summary>Removes the given size-1 dimensions (a reshape; <c>squeeze</c> is not a separate primitive here).</summary>
    public static Tensor Squeeze(Tensor x, params int[] dimensions)
    {
        var drop = new bool[x.Rank];
        foreach (var d0 in dimensions)
        {
            int d = x.Shape.Axis(d0, "squeeze");
            if (x.Shape[d] != 1)
                throw new ArgumentException($"squeeze: dimension {d0} of shape {x.Shape} has size {x.Shape[d]}, not 1");
            drop[d] = true;
        }
        var dims = new List<int>();
        for (int d = 0; d < x.Rank; d++) if (!drop[d]) dims.Add(x.Shape[d]);
        return Reshape(x, new Shape(dims.ToArray()));
    }

    /// <summary>Inserts size-1 dimensions at the given positions of the result (a reshape).</summary>
    public static Tensor ExpandDims(Tensor x, params int[] dimensions)
    {
        int rank = x.Rank + dimensions.Length;
        var insert = new bool[rank];
        foreach (var d0 in dimensions)
        {
            if (d0 < -rank || d0 >= rank)
                throw new ArgumentException($"expand_dims: dimension {d0} is out of range for a result of rank {rank} (operand shape {x.Shape})");
            int d = d0 < 0 ? d0 + rank : d0;
            if (insert[d])
                throw new ArgumentException($"expand_dims: repeated dimension {d0} in {Shape.Format(dimensions)} (operand shape {x.Shape})");
            insert[d] = true;
        }
        var dims = new int[rank];
        for (int d = 0, k = 0; d < rank; d++) dims[d] = insert[d] ? 1 : x.Shape[k++];
        return Reshape(x, new Shape(dims));
    }
}
