using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>reduce_sum is linear: its JVP sums the tangent, its transpose broadcasts back.</summary>
    static void RegisterReduceSum()
    {
        var sum = Prims.ReduceSum;
        sum.Jvp = (xs, ts, ps) => One(sum.Bind1(ps, xs[0]), ts[0] is { } t ? sum.Bind1(ps, t) : null);
        sum.Transpose = (cts, a, ps) =>
        {
            if (cts[0] is not { } c) return new Tensor?[1];
            var axes = ((ReduceParams)ps).Axes;
            var shape = a[0].Aval.Shape;
            var kept = Enumerable.Range(0, shape.Rank).Where(d => !axes.Contains(d)).ToArray();
            return new[] { Lax.BroadcastInDim(c, shape, kept) };
        };
        sum.Batch = (ctx, xs, ds, ps) =>
        {
            var axes = ((ReduceParams)ps).Axes;
            if (ds[0] is not int d) return (new[] { sum.Bind1(ps, xs[0]) }, new int?[] { null });
            // Operand axes shift past the batch dimension; the output batch dimension is d minus
            // the reduced axes before it.
            var shifted = axes.ToArray().Select(a => a >= d ? a + 1 : a).ToArray();
            int outDim = d - shifted.Count(a => a < d);
            return (new[] { sum.Bind1(new ReduceParams(shifted), xs[0]) }, new int?[] { outDim });
        };
    }
}
