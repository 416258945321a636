namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static partial void RegisterReshaping()
    {
        var bcast = Prims.BroadcastInDim;
        bcast.Jvp = (xs, ts, ps) => One(bcast.Bind1(ps, xs[0]), ts[0] is { } t ? bcast.Bind1(ps, t) : null);
        bcast.Transpose = (cts, a, ps) =>
        {
            if (cts[0] is not { } c) return new Tensor?[1];
            var p = (BroadcastInDimParams)ps;
            var inShape = a[0].Aval.Shape;
            // Sum over the new dimensions and over the operand's size-1 dimensions that were expanded.
            var kept = p.BroadcastDimensions;
            var sumDims = new List<int>();
            for (int d = 0; d < p.Shape.Rank; d++)
            {
                int k = kept.Span.IndexOf(d);
                if (k < 0 || (inShape[k] == 1 && p.Shape[d] != 1)) sumDims.Add(d);
            }
            var summed = sumDims.Count == 0 ? c : Lax.ReduceSum(c, sumDims.ToArray());
            return new[] { Lax.Reshape(summed, inShape) };
        };
        bcast.Batch = (ctx, xs, ds, ps) =>
        {
            var p = (BroadcastInDimParams)ps;
            var x = Tracing.BatchRules.ToFront(xs[0], ds[0], ctx.AxisSize);
            var shape = new[] { ctx.AxisSize }.Concat(p.Shape.ToArray()).ToArray();
            var dims = new[] { 0 }.Concat(p.BroadcastDimensions.ToArray().Select(d => d + 1)).ToArray();
            return (new[] { Lax.BroadcastInDim(x, new Shape(shape), dims) }, new int?[] { 0 });
        };

        var reshape = Prims.Reshape;
        reshape.Jvp = (xs, ts, ps) => One(reshape.Bind1(ps, xs[0]), ts[0] is { } t ? reshape.Bind1(ps, t) : null);
        reshape.Transpose = (cts, a, ps) => new[] { cts[0] is { } c ? Lax.Reshape(c, a[0].Aval.Shape) : null };
        reshape.Batch = (ctx, xs, ds, ps) =>
        {
            var p = (ReshapeParams)ps;
            var x = Tracing.BatchRules.ToFront(xs[0], ds[0], ctx.AxisSize);
            var shape = new[] { ctx.AxisSize }.Concat(p.NewSizes.ToArray()).ToArray();
            return (new[] { Lax.Reshape(x, new Shape(shape)) }, new int?[] { 0 });
        };
    }
}
