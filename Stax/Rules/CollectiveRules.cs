using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>The operand type one batch member sees (the mapped dimension removed).</summary>
    static AbstractValue MemberAval(Tensor x, int? dim)
    {
        if (dim is not int d) return x.Aval;
        var dims = x.Shape.ToArray().ToList();
        dims.RemoveAt(d);
        return x.Aval with { Shape = new Shape(dims.ToArray()) };
    }

    static string AxisOf(Params ps) => ps switch
    {
        CollectiveParams c => c.AxisName,
        AxisGatherParams g => g.AxisName,
        _ => throw new InvalidOperationException("Internal error: not a collective's parameters"),
    };

    /// <summary>
    /// Batching rule of a collective. Every Vmap trace sees the collective (it is marked with
    /// <see cref="BatchRules.RequireAxis"/>); only the one whose axis name matches combines the
    /// members, the others pass it on to the Vmap that owns the name (binding the same primitive one
    /// level down, with their own mapped dimension kept out of the way).
    /// </summary>
    static void CollectiveBatch(Primitive prim, Func<BatchContext, Tensor, int?, Params, (Tensor, int?)> reduce, bool shapeParam)
    {
        BatchRules.RequireAxis(prim);
        prim.Batch = (ctx, xs, ds, ps) =>
        {
            string name = AxisOf(ps);
            prim.AbstractEval(new[] { MemberAval(xs[0], ds[0]) }, ps); // clear dtype/shape errors first
            if (ctx.AxisName != name)
            {
                if (!shapeParam || ds[0] is null)
                    return (new[] { Transforms.BindCollective(prim, ps, name, xs[0]) }, new[] { ds[0] });
                // The operand dimension in the parameters is a member's; our mapped dim goes first.
                var g = (AxisGatherParams)ps;
                var front = BatchRules.MoveTo(xs[0], ds[0], 0, ctx.AxisSize);
                var r = Transforms.BindCollective(prim, g with { Dimension = g.Dimension + 1 }, name, front);
                return (new[] { r }, new int?[] { 0 });
            }
            var (o, od) = reduce(ctx, xs[0], ds[0], ps);
            return (new[] { o }, new[] { od });
        };
    }

    static Tensor BindNamed(Primitive prim, Params ps, Tensor x) => Transforms.BindCollective(prim, ps, AxisOf(ps), x);

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(bool, int), Func<Tensor, Tensor>> ExtremumFns = new();

    /// <summary>
    /// reduce_max / reduce_min over one dimension with the same derivative as pmax / pmin (members
    /// attaining the extremum share the tangent), given as a custom JVP so that differentiating a
    /// batched pmax and batching a differentiated pmax agree, ties included.
    /// </summary>
    static Func<Tensor, Tensor> ExtremumOver(bool isMax, int dim) => ExtremumFns.GetOrAdd((isMax, dim), _ =>
    {
        Func<Tensor, Tensor>? self = null;
        self = Transforms.CustomJvp(x => isMax ? Lax.ReduceMax(x, dim) : Lax.ReduceMin(x, dim), (x, t) =>
        {
            var y = self!(x);
            var kept = Enumerable.Range(0, x.Rank).Where(d => d != dim).ToArray();
            var mask = Lax.ConvertElementType(Lax.Eq(x, Lax.BroadcastInDim(y, x.Shape, kept)), x.DType);
            return (y, Lax.Div(Lax.ReduceSum(Lax.Mul(t, mask), dim), Lax.ReduceSum(mask, dim)));
        }, isMax ? "pmax" : "pmin");
        return self;
    });

    static void RegisterCollectives()
    {
        var psum = Prims.Psum;
        CollectiveBatch(psum, (ctx, x, d, ps) => d is int k
            ? (Lax.ReduceSum(x, k), null)
            : (Lax.Mul(x, Np.FullLike(x, ctx.AxisSize)), null), false);
        psum.Jvp = (xs, ts, ps) => One(BindNamed(psum, ps, xs[0]), ts[0] is { } t ? BindNamed(psum, ps, t) : null);
        // Each member's output is the sum of all members' inputs: the Jacobian is all ones, so the
        // transpose sums the members' cotangents (psum again), as in JAX.
        psum.Transpose = (cts, a, ps) => new[] { cts[0] is { } c ? BindNamed(psum, ps, c) : null };

        foreach (var (prim, isMax) in new[] { (Prims.Pmax, true), (Prims.Pmin, false) })
        {
            var pr = prim;
            CollectiveBatch(pr, (ctx, x, d, ps) => d is int k
                ? (ExtremumOver(isMax, k)(x), null)
                : (x, null), false);
            pr.Jvp = (xs, ts, ps) =>
            {
                var y = BindNamed(pr, ps, xs[0]);
                if (ts[0] is not { } t || !xs[0].DType.IsFloat()) return One(y, null);
                // The members attaining the extremum share the tangent equally (a mask built from
                // primals, then linear operations on the tangent).
                var mask = Lax.ConvertElementType(Lax.Eq(xs[0], y), xs[0].DType);
                var num = BindNamed(psum, new CollectiveParams(((CollectiveParams)ps).AxisName), Lax.Mul(t, mask));
                var den = BindNamed(psum, new CollectiveParams(((CollectiveParams)ps).AxisName), mask);
                return One(y, Lax.Div(num, den));
            };
        }

        var gather = Prims.AllGather;
        var scatter = Prims.PsumScatter;
        CollectiveBatch(gather, (ctx, x, d, ps) =>
        {
            var g = (AxisGatherParams)ps;
            if (g.AxisSize != ctx.AxisSize)
                throw new ArgumentException($"all_gather: axis '{g.AxisName}' has size {ctx.AxisSize}, the operation was built for {g.AxisSize}");
            return (BatchRules.MoveTo(x, d, g.Dimension, ctx.AxisSize), null);
        }, true);
        gather.Jvp = (xs, ts, ps) => One(BindNamed(gather, ps, xs[0]), ts[0] is { } t ? BindNamed(gather, ps, t) : null);
        gather.Transpose = (cts, a, ps) => new[] { cts[0] is { } c ? BindNamed(scatter, ps, c) : null };

        CollectiveBatch(scatter, (ctx, x, d, ps) =>
        {
            var g = (AxisGatherParams)ps;
            if (g.AxisSize != ctx.AxisSize)
                throw new ArgumentException($"psum_scatter: axis '{g.AxisName}' has size {ctx.AxisSize}, the operation was built for {g.AxisSize}");
            var s = d is int k ? Lax.ReduceSum(x, k) : Lax.Mul(x, Np.FullLike(x, ctx.AxisSize));
            return (s, g.Dimension); // member i keeps slice i: the scattered dimension becomes the mapped one
        }, true);
        scatter.Jvp = (xs, ts, ps) => One(BindNamed(scatter, ps, xs[0]), ts[0] is { } t ? BindNamed(scatter, ps, t) : null);
        scatter.Transpose = (cts, a, ps) => new[] { cts[0] is { } c ? BindNamed(gather, ps, c) : null };

        var index = Prims.AxisIndex;
        BatchRules.RequireAxis(index);
        index.Batch = (ctx, xs, ds, ps) =>
        {
            var name = ((CollectiveParams)ps).AxisName;
            if (ctx.AxisName != name) return (new[] { Transforms.AxisIndex(name) }, new int?[] { null });
            Tensor iota;
            using (TraceState.Eager()) iota = Lax.Iota(DType.Int32, new Shape(ctx.AxisSize));
            return (new[] { iota }, new int?[] { 0 });
        };
    }
}
