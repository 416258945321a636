using Stax.Tracing;

namespace Stax.Rules;

// Rules of sort and top_k: tangents follow the permutation of the primal (a gather, which is
// linear and transposes into a scatter-add).
internal static partial class RuleRegistry
{
    /// <summary>
    /// take_along_axis as one gather: out[..., j, ...] = t[..., perm[..., j, ...], ...] along
    /// <paramref name="axis"/>, the other dimensions being operand/indices batching dimensions.
    /// <paramref name="perm"/> has t's shape except (possibly) along <paramref name="axis"/>.
    /// </summary>
    static Tensor SrtTakeAlong(Tensor t, Tensor perm, int axis)
    {
        int r = t.Rank;
        var idx = Lax.Reshape(perm, new Shape(perm.Shape.ToArray().Append(1).ToArray()));
        var batching = Enumerable.Range(0, r).Where(d => d != axis).ToArray();
        var dn = new GatherDimensionNumbers(Array.Empty<int>(), new[] { axis }, new[] { axis }, batching, batching);
        var sizes = t.Shape.ToArray().Select(s => Math.Min(1, s)).ToArray();
        return Lax.Gather(t, idx, dn, sizes, mode: GatherScatterMode.Clip);
    }

    static partial void RegisterSorting()
    {
        var sort = Prims.Sort;
        sort.Jvp = (xs, ts, ps) =>
        {
            var s = (SortParams)ps;
            if (ts.All(t => t is null)) return (sort.Bind(ps, xs), new Tensor?[xs.Length]);
            // Sort an extra iota along to learn the permutation, then permute the tangents with it.
            var iota = Lax.Iota(DType.Int32, xs[0].Shape, s.Dimension);
            var outs = sort.Bind(ps, xs.Append(iota).ToArray());
            var perm = outs[^1];
            var tangents = ts.Select(t => t is null ? null : SrtTakeAlong(t, perm, s.Dimension)).ToArray();
            return (outs[..^1], tangents);
        };
        sort.Batch = (ctx, xs, ds, ps) =>
        {
            var s = (SortParams)ps;
            var (args, d) = BatchRules.Align(xs, ds, ctx.AxisSize);
            int dim = s.Dimension + (d <= s.Dimension ? 1 : 0);
            return (sort.Bind(s with { Dimension = dim }, args), Enumerable.Repeat<int?>(d, xs.Length).ToArray());
        };

        var topK = Prims.TopK;
        topK.Jvp = (xs, ts, ps) =>
        {
            var outs = topK.Bind(ps, xs[0]);
            if (ts[0] is not { } t) return (outs, new Tensor?[2]);
            return (outs, new[] { SrtTakeAlong(t, outs[1], t.Rank - 1), null });
        };
        topK.Batch = (ctx, xs, ds, ps) =>
        {
            // top_k works on the last axis: any other batch position is already a batch dimension.
            var x = xs[0];
            int d = ds[0] ?? 0;
            if (ds[0] is null || d == x.Rank - 1)
            {
                x = BatchRules.ToFront(x, ds[0], ctx.AxisSize);
                d = 0;
            }
            return (topK.Bind(ps, x), new int?[] { d, d });
        };
    }
}
