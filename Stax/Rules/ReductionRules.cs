using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static partial void RegisterReduction()
    {
        foreach (var p in new[] { Prims.ReduceMax, Prims.ReduceMin, Prims.ReduceProd })
        {
            var prim = p;
            prim.Batch = (ctx, xs, ds, ps) =>
            {
                int d = ds[0]!.Value;
                var axes = ((ReduceParams)ps).Axes;
                var shifted = MovementShiftAxes(axes, d);
                return (new[] { prim.Bind1(new ReduceParams(shifted), xs[0]) }, new int?[] { d - shifted.Count(a => a < d) });
            };
        }
        Prims.ReduceMax.Jvp = (xs, ts, ps) => ReductionChooserJvp(Prims.ReduceMax, xs[0], ts[0], (ReduceParams)ps);
        Prims.ReduceMin.Jvp = (xs, ts, ps) => ReductionChooserJvp(Prims.ReduceMin, xs[0], ts[0], (ReduceParams)ps);
        Prims.ReduceProd.Jvp = (xs, ts, ps) => ReductionProdJvp(xs[0], ts[0], (ReduceParams)ps);

        foreach (var p in new[] { Prims.Argmax, Prims.Argmin })
        {
            var prim = p;
            prim.Jvp = (xs, ts, ps) => One(prim.Bind1(ps, xs[0]), null); // integer output: no tangent
            prim.Batch = (ctx, xs, ds, ps) =>
            {
                int d = ds[0]!.Value;
                var r = (ArgReduceParams)ps;
                var shifted = MovementShiftAxes(r.Axes, d);
                return (new[] { prim.Bind1(r with { Axes = shifted }, xs[0]) }, new int?[] { d - shifted.Count(a => a < d) });
            };
        }

        foreach (var p in new[] { Prims.Cumsum, Prims.Cumprod, Prims.Cummax, Prims.Cummin })
        {
            var prim = p;
            prim.Batch = (ctx, xs, ds, ps) =>
            {
                int d = ds[0]!.Value;
                var c = (CumulativeParams)ps;
                return (new[] { prim.Bind1(c with { Axis = c.Axis >= d ? c.Axis + 1 : c.Axis }, xs[0]) }, new int?[] { d });
            };
        }
        var cumsum = Prims.Cumsum;
        cumsum.Jvp = (xs, ts, ps) => One(cumsum.Bind1(ps, xs[0]), ts[0] is { } t ? cumsum.Bind1(ps, t) : null);
        cumsum.Transpose = (cts, a, ps) =>
        {
            var c = (CumulativeParams)ps;
            return new[] { cts[0] is { } ct ? cumsum.Bind1(c with { Reverse = !c.Reverse }, ct) : null };
        };
        Prims.Cumprod.Jvp = (xs, ts, ps) => ReductionCumulativeJvp(Prims.Cumprod, xs[0], ts[0], (CumulativeParams)ps);
        Prims.Cummax.Jvp = (xs, ts, ps) => ReductionCumulativeJvp(Prims.Cummax, xs[0], ts[0], (CumulativeParams)ps);
        Prims.Cummin.Jvp = (xs, ts, ps) => ReductionCumulativeJvp(Prims.Cummin, xs[0], ts[0], (CumulativeParams)ps);
    }

    /// <summary>
    /// reduce_max/reduce_min JVP (as JAX's <c>_reduce_chooser_jvp_rule</c>): the tangent is the mean
    /// of the input tangents at the positions that equal the result. The mask comes from the primal,
    /// so the tangent computation is linear.
    /// </summary>
    static (Tensor[], Tensor?[]) ReductionChooserJvp(Primitive p, Tensor x, Tensor? t, ReduceParams ps)
    {
        var y = p.Bind1(ps, x);
        if (t is null || !x.DType.IsFloat()) return One(y, null);
        var axes = ps.Axes.ToArray();
        var kept = Enumerable.Range(0, x.Rank).Where(d => !ps.Axes.Contains(d)).ToArray();
        var mask = Lax.ConvertElementType(Lax.Eq(x, Lax.BroadcastInDim(y, x.Shape, kept)), x.DType);
        var tan = Lax.Div(Lax.ReduceSum(Lax.Mul(t, mask), axes), Lax.ReduceSum(mask, axes));
        return One(y, tan);
    }

    /// <summary>
    /// reduce_prod JVP: sum of t_j times the product of the other elements, where the product of
    /// the others is (exclusive prefix product) * (exclusive suffix product), so zeros are handled
    /// exactly (no division).
    /// </summary>
    static (Tensor[], Tensor?[]) ReductionProdJvp(Tensor x, Tensor? t, ReduceParams ps)
    {
        var y = Prims.ReduceProd.Bind1(ps, x);
        if (t is null || !x.DType.IsFloat()) return One(y, null);
        var axes = ps.Axes.ToArray();
        var kept = Enumerable.Range(0, x.Rank).Where(d => !ps.Axes.Contains(d)).ToArray();
        var reduced = axes.OrderBy(a => a).ToArray();
        var perm = kept.Concat(reduced).ToArray();
        long n = 1;
        foreach (var a in reduced) n *= x.Shape[a];
        var flatShape = new Shape(kept.Select(d => x.Shape[d]).Append(checked((int)n)).ToArray());
        Tensor Flatten(Tensor v) => Lax.Reshape(Lax.Transpose(v, perm), flatShape);
        var xf = Flatten(x);
        int last = kept.Length;
        var before = ReductionShift(Lax.Cumprod(xf, last), last, 1, false, 1);
        var after = ReductionShift(Lax.Cumprod(xf, last, reverse: true), last, 1, true, 1);
        var others = Lax.Mul(before, after);
        return One(y, Lax.ReduceSum(Lax.Mul(Flatten(t), others), last));
    }

    /// <summary>
    /// Shifts <paramref name="x"/> by <paramref name="k"/> positions along <paramref name="axis"/>
    /// (towards higher indices, or lower ones when <paramref name="reverse"/>), filling with
    /// <paramref name="fill"/>: out[i] = x[i - k] (or x[i + k]).
    /// </summary>
    static Tensor ReductionShift(Tensor x, int axis, int k, bool reverse, double fill)
    {
        var cfg = new (int, int, int)[x.Rank];
        cfg[axis] = reverse ? (-k, k, 0) : (k, -k, 0);
        return Lax.Pad(x, Tensor.Scalar(fill, x.DType), cfg);
    }

    /// <summary>
    /// JVP of cumprod/cummax/cummin: the JVP of a Hillis-Steele scan (log2(n) doubling steps of
    /// the associative operation), so it is exact at zeros and ties and linear in the tangent.
    /// The primal output is the primitive's own.
    /// </summary>
    static (Tensor[], Tensor?[]) ReductionCumulativeJvp(Primitive p, Tensor x, Tensor? t, CumulativeParams ps)
    {
        var result = p.Bind1(ps, x);
        if (t is null || !x.DType.IsFloat()) return One(result, null);
        int axis = ps.Axis, n = x.Shape[axis];
        bool prod = p == Prims.Cumprod, max = p == Prims.Cummax;
        double fill = prod ? 1 : max ? double.NegativeInfinity : double.PositiveInfinity;
        Tensor y = x, ty = t;
        for (int k = 1; k < n; k *= 2)
        {
            var yl = ReductionShift(y, axis, k, ps.Reverse, fill);
            var tl = ReductionShift(ty, axis, k, ps.Reverse, 0);
            if (prod)
            {
                ty = Lax.Add(Lax.Mul(ty, yl), Lax.Mul(y, tl));
                y = Lax.Mul(y, yl);
            }
            else
            {
                // The earlier part wins only when strictly better, so ties pick the later position.
                var takeEarlier = max ? Lax.Gt(yl, y) : Lax.Lt(yl, y);
                ty = Lax.Select(takeEarlier, tl, ty);
                y = Lax.Select(takeEarlier, yl, y);
            }
        }
        return One(result, ty);
    }
}
