namespace Stax;

public sealed partial class Tensor
{
    /// <summary>
    /// NumPy basic indexing with C# indices and ranges: <c>x[0]</c>, <c>x[^1]</c>, <c>x[.., 1..^1]</c>,
    /// <c>x[Idx.Ellipsis, 0]</c>, <c>x[Idx.NewAxis, ..]</c>, <c>x[Idx.Slice(step: -1)]</c>. An integer
    /// removes its dimension (negative integers and <c>^k</c> count from the end; out of range is an
    /// <see cref="ArgumentException"/>); ranges clamp like Python slices; missing trailing entries
    /// are full slices. Lowers to slice, rev (negative steps) and reshape, so it works under every
    /// transformation.
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("At")] // "Item" is taken by Item<T>()
    public Tensor this[params Idx[] indices] => Index(indices);

    /// <summary>
    /// The elements start, start + step, ... before stop along <paramref name="axis"/>, with Python
    /// slice semantics (null bounds are open, negative bounds count from the end, bounds clamp, a
    /// negative step walks backwards). C# ranges have no step; this is the stepped form.
    /// </summary>
    public Tensor Slice(int axis, int? start = null, int? stop = null, int step = 1)
    {
        int a = Shape.Axis(axis, "Tensor.Slice");
        if (step == 0) throw new ArgumentException($"Tensor.Slice: step must not be zero (shape {Shape}, axis {axis})");
        var idx = new Idx[a + 1];
        for (int i = 0; i < a; i++) idx[i] = Idx.All;
        idx[a] = Idx.Slice(start, stop, step);
        return Index(idx);
    }

    Tensor Index(Idx[] indices)
    {
        int rank = Rank;
        int ellipses = 0, consumed = 0;
        foreach (var i in indices)
        {
            if (i.Kind == Idx.IdxKind.Ellipsis) ellipses++;
            else if (i.Kind != Idx.IdxKind.NewAxis) consumed++;
        }
        string Describe() => "[" + string.Join(", ", indices.Select(i => i.ToString())) + "]";
        if (ellipses > 1)
            throw new ArgumentException($"index: an index can only have a single ellipsis, got {Describe()} for shape {Shape}");
        if (consumed > rank)
            throw new ArgumentException($"index: too many indices for shape {Shape}: {Describe()} indexes {consumed} dimensions, the tensor has {rank}");

        var start = new int[rank];
        var limit = Shape.ToArray();
        var strides = new int[rank];
        Array.Fill(strides, 1);
        var rev = new List<int>();
        var final = new List<int>();
        int dim = 0;
        foreach (var i in indices)
        {
            switch (i.Kind)
            {
                case Idx.IdxKind.Ellipsis:
                    for (int k = 0; k < rank - consumed; k++, dim++) final.Add(Shape[dim]);
                    break;
                case Idx.IdxKind.NewAxis:
                    final.Add(1);
                    break;
                case Idx.IdxKind.Int:
                {
                    int n = Shape[dim];
                    long v = Idx.Resolve(i.Start, i.StartFromEnd, n);
                    if (v < 0 || v >= n)
                        throw new ArgumentException($"index: index {i} is out of bounds for axis {dim} with size {n} (shape {Shape})");
                    start[dim] = (int)v;
                    limit[dim] = (int)v + 1;
                    dim++;
                    break;
                }
                default:
                {
                    int n = Shape[dim];
                    var (first, step, count) = i.SliceIndices(n);
                    if (count == 0) { start[dim] = 0; limit[dim] = 0; }
                    else if (step > 0)
                    {
                        start[dim] = (int)first;
                        limit[dim] = (int)(first + (long)(count - 1) * step + 1);
                        strides[dim] = step;
                    }
                    else
                    {
                        long lastIndex = first + (long)(count - 1) * step;
                        start[dim] = (int)lastIndex;
                        limit[dim] = (int)first + 1;
                        strides[dim] = -step;
                        if (count > 1) rev.Add(dim);
                    }
                    final.Add(count);
                    dim++;
                    break;
                }
            }
        }
        for (; dim < rank; dim++) final.Add(Shape[dim]);

        var y = Lax.Slice(this, start, limit, strides);
        y = Lax.Rev(y, rev.ToArray());
        return Lax.Reshape(y, new Shape(final.ToArray()));
    }
}
