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
    /// reduce_prod JVP as JAX's <c>_reduce_prod_jvp_rule</c> (<c>_reduce_jvp</c>): the reduced axes
    /// are moved to the front and flattened, then the JVP of a tree reduction that multiplies the
    /// first half by the second (the odd one out padded with 1) until one row is left. Exact at
    /// zeros; the primal output is the tree's, as in JAX.
    /// </summary>
    static (Tensor[], Tensor?[]) ReductionProdJvp(Tensor x, Tensor? t, ReduceParams ps)
    {
        if (t is null || !x.DType.IsFloat()) return One(Prims.ReduceProd.Bind1(ps, x), null);
        var axes = ps.Axes.ToArray();
        var kept = Enumerable.Range(0, x.Rank).Where(d => !axes.Contains(d)).ToArray();
        long n = 1;
        foreach (var a in axes) n *= x.Shape[a];
        var keptShape = kept.Select(d => x.Shape[d]).ToArray();
        var flat = new Shape(keptShape.Prepend(checked((int)n)).ToArray());
        var perm = axes.Concat(kept).ToArray();
        Tensor Flatten(Tensor v) => Lax.Reshape(Lax.Transpose(v, perm), flat);
        Tensor y = Flatten(x), ty = Flatten(t);
        while (y.Shape[0] > 1)
        {
            int m = y.Shape[0], m1 = (m + 1) / 2;
            Tensor ya = Lax.SliceInDim(y, 0, m1), ta = Lax.SliceInDim(ty, 0, m1);
            Tensor yb = Lax.SliceInDim(y, m1, m), tb = Lax.SliceInDim(ty, m1, m);
            if (m - m1 != m1)
            {
                var cfg = new (int, int, int)[y.Rank];
                cfg[0] = (0, 1, 0);
                yb = Lax.Pad(yb, Tensor.Scalar(1, y.DType), cfg);
                tb = Lax.Pad(tb, Tensor.Scalar(0, y.DType), cfg);
            }
            var (ys, tz) = Prims.Mul.Jvp!(new[] { ya, yb }, new Tensor?[] { ta, tb }, Params.None);
            (y, ty) = (ys[0], tz[0]!);
        }
        var outShape = new Shape(keptShape);
        if (y.Shape[0] == 0) return One(Lax.BroadcastInDim(Tensor.Scalar(1, x.DType), outShape), Lax.BroadcastInDim(Tensor.Scalar(0, x.DType), outShape));
        return One(Lax.Reshape(y, outShape), Lax.Reshape(ty, outShape));
    }

    /// <summary>
    /// JVP of cumprod/cummax/cummin as JAX defines it (jax/_src/lax/control_flow/loops.py,
    /// <c>_cumulative_jvp_rule</c>): the JVP of <c>associative_scan(op)</c>, the same odd/even
    /// recursion, with mul's and max/min's own JVP rules at every combine. So max/min ties split the
    /// tangent equally at each combine exactly as in JAX, and the primal output is the scan's (for
    /// cumprod its rounding can differ from the primitive's sequential product, as in JAX).
    /// </summary>
    static (Tensor[], Tensor?[]) ReductionCumulativeJvp(Primitive p, Tensor x, Tensor? t, CumulativeParams ps)
    {
        if (t is null || !x.DType.IsFloat()) return One(p.Bind1(ps, x), null);
        var op = p == Prims.Cumprod ? Prims.Mul : p == Prims.Cummax ? Prims.Max : Prims.Min;
        int axis = ps.Axis;
        (Tensor Y, Tensor T) Combine((Tensor Y, Tensor T) a, (Tensor Y, Tensor T) b)
        {
            var (ys, tz) = op.Jvp!(new[] { a.Y, b.Y }, new Tensor?[] { a.T, b.T }, Params.None);
            return (ys[0], tz[0] ?? Zeros(ys[0]));
        }
        Tensor In(Tensor v, int start, int limit, int stride = 1) => Lax.SliceInDim(v, start, limit, stride, axis);
        (Tensor, Tensor) Pair(Func<Tensor, Tensor> f, (Tensor Y, Tensor T) e) => (f(e.Y), f(e.T));

        // Interleaves a (even positions) and b (odd positions) by padding both with zeros and adding.
        Tensor Interleave(Tensor a, Tensor b)
        {
            bool same = a.Shape[axis] == b.Shape[axis];
            var pa = new (int, int, int)[a.Rank];
            var pb = new (int, int, int)[b.Rank];
            pa[axis] = (0, same ? 1 : 0, 1);
            pb[axis] = (1, same ? 0 : 1, 1);
            var zero = Tensor.Scalar(0, a.DType);
            return Lax.Add(Lax.Pad(a, zero, pa), Lax.Pad(b, zero, pb));
        }

        (Tensor Y, Tensor T) Scan((Tensor Y, Tensor T) e)
        {
            int n = e.Y.Shape[axis];
            if (n < 2) return e;
            var reduced = Combine(Pair(v => In(v, 0, n - 1, 2), e), Pair(v => In(v, 1, n, 2), e));
            var odd = Scan(reduced);
            int m = odd.Y.Shape[axis];
            var even = n % 2 == 0
                ? Combine(Pair(v => In(v, 0, m - 1), odd), Pair(v => In(v, 2, n, 2), e))
                : Combine(odd, Pair(v => In(v, 2, n, 2), e));
            even = (Lax.Concatenate(new[] { In(e.Y, 0, 1), even.Y }, axis), Lax.Concatenate(new[] { In(e.T, 0, 1), even.T }, axis));
            return (Interleave(even.Y, odd.Y), Interleave(even.T, odd.T));
        }

        var elems = ps.Reverse ? (Lax.Rev(x, axis), Lax.Rev(t, axis)) : (x, t);
        var (y, ty) = Scan(elems);
        return ps.Reverse ? One(Lax.Rev(y, axis), Lax.Rev(ty, axis)) : One(y, ty);
    }

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
