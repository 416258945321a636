namespace Stax;

// NumPy shape functions (jax.numpy semantics). They lower to the movement primitives only:
// transpose, slice, pad, concatenate, rev, broadcast_in_dim and reshape (plus convert_element_type
// where operands need type promotion).
public static partial class Np
{
    /// <summary>Permutes the axes; without <paramref name="axes"/> reverses them (NumPy's default). Negative axes count from the end.</summary>
    public static Tensor Transpose(Tensor x, params int[]? axes)
    {
        int r = x.Rank;
        if (axes == null || (axes.Length == 0 && r != 0))
            return Lax.Transpose(x, Enumerable.Range(0, r).Reverse().ToArray());
        if (axes.Length != r)
            throw new ArgumentException($"transpose: axes {Shape.Format(axes)} do not match the {r} dimensions of shape {x.Shape}");
        var perm = new int[r];
        var seen = new bool[r];
        for (int i = 0; i < r; i++)
        {
            int a = x.Shape.Axis(axes[i], "transpose");
            if (seen[a]) throw new ArgumentException($"transpose: repeated axis in axes {Shape.Format(axes)} for shape {x.Shape}");
            seen[a] = true;
            perm[i] = a;
        }
        return Lax.Transpose(x, perm);
    }

    /// <summary>Swaps two axes.</summary>
    public static Tensor SwapAxes(Tensor x, int axis1, int axis2)
    {
        int a = x.Shape.Axis(axis1, "swapaxes"), b = x.Shape.Axis(axis2, "swapaxes");
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Lax.Transpose(x, perm);
    }

    /// <summary>Moves axis <paramref name="source"/> to position <paramref name="destination"/>, keeping the others in order.</summary>
    public static Tensor MoveAxis(Tensor x, int source, int destination) => MoveAxis(x, new[] { source }, new[] { destination });

    /// <summary>Moves several axes to new positions, keeping the others in order.</summary>
    public static Tensor MoveAxis(Tensor x, int[] source, int[] destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"moveaxis: source {Shape.Format(source)} and destination {Shape.Format(destination)} must have the same number of elements");
        var src = MovementAxes("moveaxis", x.Shape, source);
        var dst = MovementAxes("moveaxis", x.Shape, destination);
        var perm = new int[x.Rank];
        Array.Fill(perm, -1);
        for (int i = 0; i < src.Length; i++) perm[dst[i]] = src[i];
        var rest = Enumerable.Range(0, x.Rank).Where(a => !src.Contains(a)).GetEnumerator();
        for (int i = 0; i < perm.Length; i++)
            if (perm[i] < 0) { rest.MoveNext(); perm[i] = rest.Current; }
        return Lax.Transpose(x, perm);
    }

    /// <summary>Removes size-1 axes: the given ones (each must have size 1), or all of them when none are given.</summary>
    public static Tensor Squeeze(Tensor x, params int[] axes)
    {
        if (axes.Length == 0)
            return Lax.Reshape(x, new Shape(x.Shape.Where(d => d != 1).ToArray()));
        var ax = MovementAxes("squeeze", x.Shape, axes);
        foreach (var a in ax)
            if (x.Shape[a] != 1)
                throw new ArgumentException($"squeeze: cannot select axis {a} of shape {x.Shape}: its size is {x.Shape[a]}, not 1");
        return Lax.Squeeze(x, ax);
    }

    /// <summary>Inserts size-1 axes at the given positions of the result (negative counts from the end of the result).</summary>
    public static Tensor ExpandDims(Tensor x, params int[] axes) => Lax.ExpandDims(x, axes);

    /// <summary>Joins tensors along an existing axis, promoting dtypes as jax.numpy does.</summary>
    public static Tensor Concatenate(Tensor[] tensors, int axis = 0)
    {
        if (tensors.Length == 0) throw new ArgumentException("concatenate: need at least one tensor to concatenate");
        for (int i = 0; i < tensors.Length; i++)
            if (tensors[i].Rank == 0)
                throw new ArgumentException($"concatenate: zero-dimensional tensors cannot be concatenated (tensor {i} has shape ())");
        int a = tensors[0].Shape.Axis(axis, "concatenate");
        var p = Promote(tensors);
        return Lax.Concatenate(p, a);
    }

    /// <summary>Joins tensors of equal shape along a new axis.</summary>
    public static Tensor Stack(Tensor[] tensors, int axis = 0)
    {
        if (tensors.Length == 0) throw new ArgumentException("stack: need at least one tensor to stack");
        var shape = tensors[0].Shape;
        for (int i = 1; i < tensors.Length; i++)
            if (tensors[i].Shape != shape)
                throw new ArgumentException($"stack: all tensors must have the same shape; tensor 0 has {shape}, tensor {i} has {tensors[i].Shape}");
        int r = shape.Rank + 1;
        if (axis < -r || axis >= r)
            throw new ArgumentException($"stack: axis {axis} is out of range for a result of rank {r} (tensor shape {shape})");
        int a = axis < 0 ? axis + r : axis;
        var p = Promote(tensors);
        return Lax.Concatenate(p.Select(t => Lax.ExpandDims(t, a)).ToArray(), a);
    }

    /// <summary>Splits into <paramref name="sections"/> equal parts along <paramref name="axis"/> (the size must divide evenly).</summary>
    public static Tensor[] Split(Tensor x, int sections, int axis = 0)
    {
        int a = x.Shape.Axis(axis, "split");
        int n = x.Shape[a];
        if (sections <= 0)
            throw new ArgumentException($"split: number of sections must be positive, got {sections}");
        if (n % sections != 0)
            throw new ArgumentException($"split: axis {axis} of shape {x.Shape} (size {n}) does not divide into {sections} equal sections");
        int each = n / sections;
        var result = new Tensor[sections];
        for (int i = 0; i < sections; i++) result[i] = Lax.SliceInDim(x, i * each, (i + 1) * each, 1, a);
        return result;
    }

    /// <summary>Splits before each of the (increasing) <paramref name="indices"/> along <paramref name="axis"/>; indices clamp like Python slices.</summary>
    public static Tensor[] Split(Tensor x, int[] indices, int axis = 0)
    {
        int a = x.Shape.Axis(axis, "split");
        int n = x.Shape[a];
        var result = new Tensor[indices.Length + 1];
        int prev = 0;
        for (int i = 0; i <= indices.Length; i++)
        {
            int stop = i < indices.Length ? SplitBound(indices[i], n) : n;
            int start = Math.Min(prev, n);
            result[i] = Lax.SliceInDim(x, start, Math.Max(start, stop), 1, a);
            prev = Math.Max(start, stop);
        }
        return result;
    }

    static int SplitBound(int i, int n) => i < 0 ? Math.Max(0, i + n) : Math.Min(i, n);

    /// <summary>Reverses the order of elements along the given axes (all axes when none are given).</summary>
    public static Tensor Flip(Tensor x, params int[] axes)
        => Lax.Rev(x, axes.Length == 0 ? Enumerable.Range(0, x.Rank).ToArray() : MovementAxes("flip", x.Shape, axes));

    /// <summary>Pads each axis with (before, after) copies of <paramref name="constantValue"/> (NumPy's mode='constant').</summary>
    public static Tensor Pad(Tensor x, (int Before, int After)[] padWidth, double constantValue = 0)
    {
        if (padWidth.Length == 1 && x.Rank != 1) padWidth = Enumerable.Repeat(padWidth[0], x.Rank).ToArray();
        if (padWidth.Length != x.Rank)
            throw new ArgumentException($"pad: expected {x.Rank} (before, after) pairs for shape {x.Shape}, got {padWidth.Length}");
        foreach (var (b, e) in padWidth)
            if (b < 0 || e < 0)
                throw new ArgumentException($"pad: pad widths must be non-negative, got ({b}, {e}) for shape {x.Shape}");
        if (padWidth.All(w => w.Before == 0 && w.After == 0)) return x;
        var value = MovementScalarLike(x, constantValue);
        return Lax.Pad(x, value, padWidth.Select(w => (w.Before, w.After, 0)).ToArray());
    }

    /// <summary>Pads every axis with <paramref name="width"/> values on both sides.</summary>
    public static Tensor Pad(Tensor x, int width, double constantValue = 0) => Pad(x, new[] { (width, width) }, constantValue);

    /// <summary>Pads every axis with (before, after) values.</summary>
    public static Tensor Pad(Tensor x, (int Before, int After) width, double constantValue = 0) => Pad(x, new[] { width }, constantValue);

    /// <summary>Repeats the whole tensor <paramref name="reps"/>[i] times along axis i (NumPy's tile).</summary>
    public static Tensor Tile(Tensor x, params int[] reps)
    {
        foreach (var r in reps)
            if (r < 0) throw new ArgumentException($"tile: repetitions must be non-negative, got {Shape.Format(reps)}");
        int rank = Math.Max(x.Rank, reps.Length);
        var dims = Enumerable.Repeat(1, rank - x.Rank).Concat(x.Shape).ToArray();
        var rp = Enumerable.Repeat(1, rank - reps.Length).Concat(reps).ToArray();
        var y = Lax.Reshape(x, new Shape(dims));
        var big = new int[2 * rank];
        var bdims = new int[rank];
        var final = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            big[2 * i] = rp[i];
            big[2 * i + 1] = dims[i];
            bdims[i] = 2 * i + 1;
            final[i] = rp[i] * dims[i];
        }
        return Lax.Reshape(Lax.BroadcastInDim(y, new Shape(big), bdims), new Shape(final));
    }

    /// <summary>Repeats each element <paramref name="repeats"/> times along <paramref name="axis"/> (the flattened tensor when null).</summary>
    public static Tensor Repeat(Tensor x, int repeats, int? axis = null)
    {
        if (repeats < 0) throw new ArgumentException($"repeat: repeats must be non-negative, got {repeats}");
        if (axis == null) { x = Lax.Reshape(x, new Shape(checked((int)x.Size))); axis = 0; }
        int a = x.Shape.Axis(axis.Value, "repeat");
        var dims = x.Shape.ToArray();
        var big = new List<int>(dims);
        big.Insert(a + 1, repeats);
        var bdims = Enumerable.Range(0, x.Rank).Select(d => d <= a ? d : d + 1).ToArray();
        var final = (int[])dims.Clone();
        final[a] = dims[a] * repeats;
        return Lax.Reshape(Lax.BroadcastInDim(x, new Shape(big.ToArray()), bdims), new Shape(final));
    }

    /// <summary>A scalar of <paramref name="x"/>'s dtype on <paramref name="x"/>'s backend (the default one when traced).</summary>
    static Tensor MovementScalarLike(Tensor x, double value)
        => Tensor.Full(Shape.Scalar, value, x.DType, x.IsWeak, x.IsConcrete ? x.Backend : null);

    /// <summary>Normalises (possibly negative) axes against <paramref name="shape"/>; rejects repeats.</summary>
    static int[] MovementAxes(string op, Shape shape, int[] axes)
    {
        var r = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            r[i] = shape.Axis(axes[i], op);
            for (int j = 0; j < i; j++)
                if (r[j] == r[i]) throw new ArgumentException($"{op}: repeated axis {axes[i]} in {Shape.Format(axes)} for shape {shape}");
        }
        return r;
    }
}
