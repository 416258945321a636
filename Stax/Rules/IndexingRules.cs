using Stax.Tracing;

namespace Stax.Rules;

// Rules of gather and the scatter family, after jax/_src/lax/slicing.py: gather and scatter-add
// are linear and transpose into each other; batching uses XLA's operand/indices batching
// dimensions, so no rule loops over the batch.
internal static partial class RuleRegistry
{
    static int[] IxShift(IntTuple dims) => dims.ToArray().Select(d => d + 1).ToArray();

    static int[] IxFrontThenShift(IntTuple dims) => new[] { 0 }.Concat(IxShift(dims)).ToArray();

    static Tensor IxZeros(DType dtype, Shape shape) => Lax.BroadcastInDim(Tensor.Scalar(0, dtype), shape);

    /// <summary>The scatter-add that transposes a gather: each slice goes back where it came from.</summary>
    static ScatterParams IxScatterOfGather(GatherParams g)
    {
        var dn = g.DimensionNumbers;
        var sdn = new ScatterDimensionNumbers(dn.OffsetDims, dn.CollapsedSliceDims, dn.StartIndexMap,
            dn.OperandBatchingDims, dn.StartIndicesBatchingDims);
        return new ScatterParams(sdn, g.IndicesAreSorted, g.UniqueIndices, g.Mode);
    }

    /// <summary>
    /// The gather that reads back, for every update, the operand window a scatter writes it to
    /// (the transpose of scatter-add with respect to the updates). Dropped windows read <paramref name="fill"/>.
    /// </summary>
    static GatherParams IxGatherOfScatter(ScatterParams s, Shape operandShape, Shape updatesShape, double? fill)
    {
        var dn = s.DimensionNumbers;
        var sizes = new int[operandShape.Rank];
        int pos = 0;
        for (int d = 0; d < operandShape.Rank; d++)
        {
            if (dn.InsertedWindowDims.Contains(d) || dn.OperandBatchingDims.Contains(d)) sizes[d] = Math.Min(1, operandShape[d]);
            else sizes[d] = updatesShape[dn.UpdateWindowDims[pos++]];
        }
        var gdn = new GatherDimensionNumbers(dn.UpdateWindowDims, dn.InsertedWindowDims, dn.ScatterDimsToOperandDims,
            dn.OperandBatchingDims, dn.ScatterIndicesBatchingDims);
        return new GatherParams(gdn, sizes, s.IndicesAreSorted, s.UniqueIndices, s.Mode, fill);
    }

    static partial void RegisterIndexing()
    {
        RegisterGather();
        foreach (var p in new[] { Prims.Scatter, Prims.ScatterAdd, Prims.ScatterMul, Prims.ScatterMin, Prims.ScatterMax })
        {
            var prim = p;
            prim.Batch = (ctx, xs, ds, ps) => IxScatterBatch(prim, ctx, xs, ds, ps);
        }
        RegisterScatterAdd();
        RegisterScatter();
        RegisterScatterMul();
        Prims.ScatterMin.Jvp = (xs, ts, ps) => IxExtremalJvp(Prims.ScatterMin, xs, ts, ps);
        Prims.ScatterMax.Jvp = (xs, ts, ps) => IxExtremalJvp(Prims.ScatterMax, xs, ts, ps);
    }

    static void RegisterGather()
    {
        var gather = Prims.Gather;
        // Linear in the operand: the tangent is gathered the same way (out-of-bounds slices give 0).
        gather.Jvp = (xs, ts, ps) =>
        {
            var y = gather.Bind1(ps, xs[0], xs[1]);
            return One(y, ts[0] is { } t ? gather.Bind1((GatherParams)ps with { FillValue = 0 }, t, xs[1]) : null);
        };
        gather.Transpose = (cts, a, ps) =>
        {
            if (a[1].IsLinear) throw new InvalidOperationException("gather: the indices cannot be a linear input");
            if (cts[0] is not { } c || !a[0].IsLinear) return new Tensor?[2];
            var zeros = IxZeros(c.DType, a[0].Aval.Shape);
            return new[] { Prims.ScatterAdd.Bind1(IxScatterOfGather((GatherParams)ps), zeros, a[1].Known, c), null };
        };
        gather.Batch = (ctx, xs, ds, ps) =>
        {
            var g = (GatherParams)ps;
            var dn = g.DimensionNumbers;
            int n = ctx.AxisSize;
            if (ds[0] is int od && ds[1] is null)
            {
                // The batch dimension becomes a leading offset dimension taken whole.
                var x = BatchRules.ToFront(xs[0], od, n);
                var sizes = new[] { n }.Concat(g.SliceSizes.ToArray()).ToArray();
                var ndn = new GatherDimensionNumbers(IxFrontThenShift(dn.OffsetDims), IxShift(dn.CollapsedSliceDims),
                    IxShift(dn.StartIndexMap), IxShift(dn.OperandBatchingDims), dn.StartIndicesBatchingDims);
                return (new[] { gather.Bind1(g with { DimensionNumbers = ndn, SliceSizes = sizes }, x, xs[1]) }, new int?[] { 0 });
            }
            if (ds[0] is null && ds[1] is int id)
            {
                // One more leading batch dimension of the indices; it comes first in the output.
                var idx = BatchRules.ToFront(xs[1], id, n);
                var ndn = new GatherDimensionNumbers(IxShift(dn.OffsetDims), dn.CollapsedSliceDims, dn.StartIndexMap,
                    dn.OperandBatchingDims, IxShift(dn.StartIndicesBatchingDims));
                // Different batch elements may read the same place: the promises no longer hold.
                var np = g with { DimensionNumbers = ndn, UniqueIndices = false, IndicesAreSorted = false };
                return (new[] { gather.Bind1(np, xs[0], idx) }, new int?[] { 0 });
            }
            {
                // Both batched: pair the two batch dimensions as operand/indices batching dimensions.
                var x = BatchRules.ToFront(xs[0], ds[0], n);
                var idx = BatchRules.ToFront(xs[1], ds[1], n);
                var sizes = new[] { Math.Min(1, n) }.Concat(g.SliceSizes.ToArray()).ToArray();
                var ndn = new GatherDimensionNumbers(IxShift(dn.OffsetDims), IxShift(dn.CollapsedSliceDims), IxShift(dn.StartIndexMap),
                    IxFrontThenShift(dn.OperandBatchingDims), IxFrontThenShift(dn.StartIndicesBatchingDims));
                return (new[] { gather.Bind1(g with { DimensionNumbers = ndn, SliceSizes = sizes }, x, idx) }, new int?[] { 0 });
            }
        };
    }

    /// <summary>Batching shared by every scatter: the operand (broadcast if unmapped) and the updates get the batch dimension in front.</summary>
    static (Tensor[], int?[]) IxScatterBatch(Primitive prim, BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var s = (ScatterParams)ps;
        var dn = s.DimensionNumbers;
        int n = ctx.AxisSize;
        var x = BatchRules.ToFront(xs[0], ds[0], n);
        var upd = BatchRules.ToFront(xs[2], ds[2], n);
        ScatterDimensionNumbers ndn;
        var idx = xs[1];
        if (ds[1] is null)
        {
            // The updates' batch dimension is a window dimension covering the operand's whole batch dimension.
            ndn = new ScatterDimensionNumbers(IxFrontThenShift(dn.UpdateWindowDims), IxShift(dn.InsertedWindowDims),
                IxShift(dn.ScatterDimsToOperandDims), IxShift(dn.OperandBatchingDims), dn.ScatterIndicesBatchingDims);
        }
        else
        {
            idx = BatchRules.ToFront(idx, ds[1], n);
            ndn = new ScatterDimensionNumbers(IxShift(dn.UpdateWindowDims), IxShift(dn.InsertedWindowDims),
                IxShift(dn.ScatterDimsToOperandDims), IxFrontThenShift(dn.OperandBatchingDims), IxFrontThenShift(dn.ScatterIndicesBatchingDims));
        }
        // Each batch element writes only its own slice of the operand, so the promises still hold.
        return (new[] { prim.Bind1(s with { DimensionNumbers = ndn }, x, idx, upd) }, new int?[] { 0 });
    }

    static void RegisterScatterAdd()
    {
        var sa = Prims.ScatterAdd;
        sa.Jvp = (xs, ts, ps) =>
        {
            var y = sa.Bind1(ps, xs[0], xs[1], xs[2]);
            if (ts[0] is null && ts[2] is null) return One(y, null);
            return One(y, sa.Bind1(ps, ts[0] ?? Zeros(xs[0]), xs[1], ts[2] ?? Zeros(xs[2])));
        };
        sa.Transpose = (cts, a, ps) =>
        {
            if (a[1].IsLinear) throw new InvalidOperationException("scatter-add: the indices cannot be a linear input");
            if (cts[0] is not { } c) return new Tensor?[3];
            var s = (ScatterParams)ps;
            Tensor? updCt = null;
            if (a[2].IsLinear)
                updCt = Prims.Gather.Bind1(IxGatherOfScatter(s, a[0].Aval.Shape, a[2].Aval.Shape, 0), c, a[1].Known);
            return new[] { a[0].IsLinear ? c : null, null, updCt };
        };
    }

    /// <summary>
    /// jax's id trick for scatter with possibly repeated indices: scatter a distinct positive id per
    /// update, gather the ids back, and compare. Gives the operand positions that keep their value
    /// and the updates that won (the same choice the primal scatter made).
    /// </summary>
    static (Tensor OperandKept, Tensor UpdateWon) IxScatterMasks(ScatterParams s, Tensor x, Tensor i, Tensor y)
    {
        var dn = s.DimensionNumbers;
        var idsShape = y.Shape.ToArray();
        foreach (var d in dn.UpdateWindowDims.Span) idsShape[d] = 1;
        long count = idsShape.Aggregate(1L, (a, b) => a * b);
        if (count >= int.MaxValue)
            throw new NotSupportedException($"scatter: differentiation needs one int32 id per update, but updates shape {y.Shape} has {count} updates");
        var iota = Lax.Iota(DType.Int32, new Shape((int)count), 0);
        var ids = Lax.Reshape(Lax.Add(iota, Lax.BroadcastInDim(Tensor.Scalar(1, DType.Int32), iota.Shape)), new Shape(idsShape));
        ids = Lax.BroadcastInDim(ids, y.Shape, Enumerable.Range(0, y.Rank).ToArray());
        var zeros = IxZeros(DType.Int32, x.Shape);
        var scattered = Prims.Scatter.Bind1(s, zeros, i, ids);
        var back = Prims.Gather.Bind1(IxGatherOfScatter(s, x.Shape, y.Shape, null), scattered, i);
        return (Lax.Eq(scattered, zeros), Lax.Eq(ids, back));
    }

    static void RegisterScatter()
    {
        var sc = Prims.Scatter;
        sc.Jvp = (xs, ts, ps) =>
        {
            var s = (ScatterParams)ps;
            var (x, i, y) = (xs[0], xs[1], xs[2]);
            var val = sc.Bind1(ps, x, i, y);
            if (ts[0] is null && ts[2] is null) return One(val, null);
            var tx = ts[0] ?? Zeros(x);
            var ty = ts[2] ?? Zeros(y);
            if (s.UniqueIndices) return One(val, sc.Bind1(ps, tx, i, ty));
            // Repeated indices: mask out overwritten operand entries and losing updates, then add.
            var (kept, won) = IxScatterMasks(s, x, i, y);
            var t = Prims.ScatterAdd.Bind1(ps, Lax.Select(kept, tx, Zeros(tx)), i, Lax.Select(won, ty, Zeros(ty)));
            return One(val, t);
        };
        sc.Transpose = (cts, a, ps) =>
        {
            var s = (ScatterParams)ps;
            if (a[1].IsLinear) throw new InvalidOperationException("scatter: the indices cannot be a linear input");
            if (!s.UniqueIndices)
                throw new NotSupportedException("scatter: transposition is only defined with unique_indices=True (with repeated indices " +
                    "the scatter is not linear in the updates); differentiate through scatter's JVP instead, which handles repeated indices");
            if (cts[0] is not { } c) return new Tensor?[3];
            var updShape = a[2].Aval.Shape;
            Tensor? opCt = a[0].IsLinear ? sc.Bind1(ps, c, a[1].Known, IxZeros(c.DType, updShape)) : null;
            Tensor? updCt = a[2].IsLinear ? Prims.Gather.Bind1(IxGatherOfScatter(s, a[0].Aval.Shape, updShape, 0), c, a[1].Known) : null;
            return new[] { opCt, null, updCt };
        };
    }

    static void RegisterScatterMul()
    {
        var sm = Prims.ScatterMul;
        sm.Jvp = (xs, ts, ps) =>
        {
            var s = (ScatterParams)ps;
            var (x, i, y) = (xs[0], xs[1], xs[2]);
            var val = sm.Bind1(ps, x, i, y);
            // d/dx: every operand entry is multiplied by its updates (a diagonal, linear map).
            Tensor? tx = ts[0] is { } t0 ? sm.Bind1(ps, t0, i, y) : null;
            Tensor? ty = null;
            if (ts[2] is { } t2)
            {
                if (!s.UniqueIndices)
                    throw new NotSupportedException("scatter-mul: differentiation with respect to the updates is only implemented " +
                        "with unique_indices=True (as in jax); the operand can be differentiated with any indices");
                ty = Lax.Mul(x, Prims.ScatterAdd.Bind1(ps, Zeros(x), i, t2));
            }
            return One(val, AddTangents(tx, ty));
        };
        sm.Transpose = (cts, a, ps) =>
        {
            var s = (ScatterParams)ps;
            if (a[1].IsLinear) throw new InvalidOperationException("scatter-mul: the indices cannot be a linear input");
            if (a[0].IsLinear && a[2].IsLinear)
                throw new InvalidOperationException("scatter-mul: transpose with both operand and updates linear (the program is not linear)");
            if (cts[0] is not { } c) return new Tensor?[3];
            if (a[0].IsLinear) return new[] { sm.Bind1(ps, c, a[1].Known, a[2].Known), null, null };
            if (!s.UniqueIndices)
                throw new NotSupportedException("scatter-mul: transposition with respect to the updates is only implemented with unique_indices=True");
            var g = IxGatherOfScatter(s, a[0].Aval.Shape, a[2].Aval.Shape, 0);
            return new[] { null, null, Prims.Gather.Bind1(g, Lax.Mul(c, a[0].Known), a[1].Known) };
        };
    }

    /// <summary>
    /// JVP of scatter-min/max: the output tangent at a position is the average of the tangents of
    /// every contender that attains the result there (the operand entry and/or updates), as jax
    /// does for ties. Positions whose result matches no contender (NaN) get a zero tangent.
    /// </summary>
    static (Tensor[], Tensor?[]) IxExtremalJvp(Primitive prim, Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var s = (ScatterParams)ps;
        var (x, i, y) = (xs[0], xs[1], xs[2]);
        var val = prim.Bind1(ps, x, i, y);
        if (ts[0] is null && ts[2] is null) return One(val, null);
        var tx = ts[0] ?? Zeros(x);
        var ty = ts[2] ?? Zeros(y);
        // Dropped windows read NaN back, so they never count as winners.
        var target = Prims.Gather.Bind1(IxGatherOfScatter(s, x.Shape, y.Shape, double.NaN), val, i);
        var won = Lax.Select(Lax.Eq(y, target), Const(y, 1), Zeros(y));
        var kept = Lax.Select(Lax.Eq(x, val), Const(x, 1), Zeros(x));
        var count = Lax.Max(Prims.ScatterAdd.Bind1(ps, kept, i, won), Const(x, 1));
        var sum = Lax.Add(Lax.Mul(tx, kept), Prims.ScatterAdd.Bind1(ps, Zeros(x), i, Lax.Mul(ty, won)));
        return One(val, Lax.Div(sum, count));
    }
}
