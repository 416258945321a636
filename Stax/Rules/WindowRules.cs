using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static IntTuple WindowPrepend(int v, IntTuple t) => new[] { v }.Concat(t.ToArray()).ToArray();

    /// <summary>Inserts <paramref name="v"/> at position <paramref name="at"/>.</summary>
    static IntTuple WindowInsertAt(IntTuple t, int at, int v)
    {
        var l = t.ToArray().ToList();
        l.Insert(at, v);
        return l.ToArray();
    }

    /// <summary>A window with an extra trivial (size 1, stride 1, no padding) dimension at <paramref name="at"/>.</summary>
    static ReduceWindowParams WindowWithUnitDim(ReduceWindowParams w, int at)
        => new(WindowInsertAt(w.WindowDimensions, at, 1), WindowInsertAt(w.WindowStrides, at, 1), WindowInsertAt(w.PaddingLow, at, 0),
               WindowInsertAt(w.PaddingHigh, at, 0), WindowInsertAt(w.BaseDilation, at, 1), WindowInsertAt(w.WindowDilation, at, 1));

    static void ReduceWindowBatch(Primitive p)
    {
        p.Batch = (ctx, xs, ds, ps) =>
        {
            var w = (ReduceWindowParams)ps;
            if (ds[0] is not int d) return (new[] { p.Bind1(ps, xs[0]) }, new int?[] { null });
            return (new[] { p.Bind1(WindowWithUnitDim(w, d), xs[0]) }, new int?[] { d });
        };
    }

    /// <summary>Transpose of reduce_window_sum (JAX's <c>_reduce_window_sum_transpose_rule</c>): pad the
    /// cotangent (interior padding undoes the strides) and sum it over the same window shape with the
    /// base dilation as stride.</summary>
    static Tensor ReduceWindowSumTranspose(Tensor ct, AbstractValue operand, ReduceWindowParams w)
    {
        int r = operand.Rank;
        var inShape = operand.Shape.ToArray();
        var pads = ConvVjpLhsPadding(inShape, w.WindowDimensions.ToArray(), w.WindowStrides, ct.Shape.ToArray(),
            w.PaddingLow, w.BaseDilation, w.WindowDilation);
        var config = Enumerable.Range(0, r).Select(i => (pads[i].Low, pads[i].High, w.WindowStrides[i] - 1)).ToArray();
        var padded = Lax.Pad(ct, Tensor.Scalar(0, ct.DType), config);
        var ones = Windows.Ones(r);
        var p = new ReduceWindowParams(w.WindowDimensions, w.BaseDilation, new int[r], new int[r], ones, w.WindowDilation);
        return Prims.ReduceWindowSum.Bind1(p, padded);
    }

    static SelectAndGatherAddParams WindowGatherParams(Primitive select, ReduceWindowParams w)
        => new(select, w.WindowDimensions, w.WindowStrides, w.PaddingLow, w.PaddingHigh, w.BaseDilation, w.WindowDilation);

    /// <summary>Transpose of select_and_gather_add in its tangent operand (JAX's
    /// <c>_select_and_gather_add_transpose</c>): select_and_scatter_add of the cotangent, with base
    /// dilation expressed by padding the operand with the selection's identity and slicing back.</summary>
    static Tensor SelectAndGatherAddTranspose(Tensor ct, Tensor operand, SelectAndGatherAddParams s)
    {
        if (s.WindowDilation.Span.ToArray().Any(d => d != 1))
            throw new NotSupportedException($"select_and_gather_add: reverse-mode differentiation with window_dilation {s.WindowDilation} is not implemented (as in JAX)");
        int r = operand.Rank;
        bool dilated = s.BaseDilation.Span.ToArray().Any(d => d != 1);
        var op = operand;
        if (dilated)
        {
            if (!operand.DType.IsFloat())
                throw new NotSupportedException($"select_and_gather_add: transpose with base_dilation needs a floating-point operand, got {operand.DType.Name()}");
            double identity = ReferenceEquals(s.SelectPrim, Prims.Ge) ? double.NegativeInfinity : double.PositiveInfinity;
            op = Lax.Pad(operand, Tensor.Scalar(identity, operand.DType),
                Enumerable.Range(0, r).Select(i => (0, 0, s.BaseDilation[i] - 1)).ToArray());
        }
        var sp = new SelectAndScatterAddParams(s.SelectPrim, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh);
        var result = Prims.SelectAndScatterAdd.Bind1(sp, DotCastTo(ct, operand.DType), op);
        if (dilated)
            result = Lax.Slice(result, new int[r], result.Shape.ToArray(), s.BaseDilation.ToArray());
        return result;
    }

    static partial void RegisterWindow()
    {
        RegisterConv();

        // reduce_window_sum: linear.
        var sum = Prims.ReduceWindowSum;
        sum.Jvp = (xs, ts, ps) => One(sum.Bind1(ps, xs[0]), ts[0] is { } t ? sum.Bind1(ps, t) : null);
        sum.Transpose = (cts, a, ps) =>
            new[] { cts[0] is { } c ? ReduceWindowSumTranspose(c, a[0].Aval, (ReduceWindowParams)ps) : null };
        ReduceWindowBatch(sum);

        // reduce_window_max/min: the tangent of the selected element of each window.
        foreach (var (prim, select) in new[] { (Prims.ReduceWindowMax, Prims.Ge), (Prims.ReduceWindowMin, Prims.Le) })
        {
            var p = prim;
            var sel = select;
            p.Jvp = (xs, ts, ps) =>
            {
                var y = p.Bind1(ps, xs[0]);
                if (ts[0] is not { } t || !y.DType.IsFloat()) return One(y, null);
                return One(y, Prims.SelectAndGatherAdd.Bind1(WindowGatherParams(sel, (ReduceWindowParams)ps), t, xs[0]));
            };
            ReduceWindowBatch(p);
        }

        // select_and_gather_add(tangents, operand): linear in tangents.
        var gather = Prims.SelectAndGatherAdd;
        gather.Jvp = (xs, ts, ps) =>
        {
            var y = gather.Bind1(ps, xs[0], xs[1]);
            return One(y, ts[0] is { } t && y.DType.IsFloat() ? gather.Bind1(ps, t, xs[1]) : null);
        };
        gather.Transpose = (cts, a, ps) =>
        {
            if (a[1].IsLinear)
                throw new InvalidOperationException("select_and_gather_add: the operand (selection) cannot be linear");
            if (cts[0] is not { } c) return new Tensor?[2];
            return new[] { SelectAndGatherAddTranspose(c, a[1].Known, (SelectAndGatherAddParams)ps), null };
        };
        gather.Batch = (ctx, xs, ds, ps) =>
        {
            var s = (SelectAndGatherAddParams)ps;
            var t = BatchRules.ToFront(xs[0], ds[0], ctx.AxisSize);
            var op = BatchRules.ToFront(xs[1], ds[1], ctx.AxisSize);
            var np = new SelectAndGatherAddParams(s.SelectPrim, WindowPrepend(1, s.WindowDimensions), WindowPrepend(1, s.WindowStrides),
                WindowPrepend(0, s.PaddingLow), WindowPrepend(0, s.PaddingHigh), WindowPrepend(1, s.BaseDilation), WindowPrepend(1, s.WindowDilation));
            return (new[] { gather.Bind1(np, t, op) }, new int?[] { 0 });
        };

        // select_and_scatter_add(source, operand): linear in source.
        var scatter = Prims.SelectAndScatterAdd;
        scatter.Jvp = (xs, ts, ps) =>
        {
            var y = scatter.Bind1(ps, xs[0], xs[1]);
            return One(y, ts[0] is { } t && y.DType.IsFloat() ? scatter.Bind1(ps, t, xs[1]) : null);
        };
        scatter.Transpose = (cts, a, ps) =>
        {
            if (a[1].IsLinear)
                throw new InvalidOperationException("select_and_scatter_add: the operand (selection) cannot be linear");
            if (cts[0] is not { } c) return new Tensor?[2];
            var s = (SelectAndScatterAddParams)ps;
            int r = a[1].Aval.Rank;
            var gp = new SelectAndGatherAddParams(s.SelectPrim, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh,
                Windows.Ones(r), Windows.Ones(r));
            return new[] { gather.Bind1(gp, c, a[1].Known), null };
        };
        scatter.Batch = (ctx, xs, ds, ps) =>
        {
            var s = (SelectAndScatterAddParams)ps;
            var src = BatchRules.ToFront(xs[0], ds[0], ctx.AxisSize);
            var op = BatchRules.ToFront(xs[1], ds[1], ctx.AxisSize);
            var np = new SelectAndScatterAddParams(s.SelectPrim, WindowPrepend(1, s.WindowDimensions), WindowPrepend(1, s.WindowStrides),
                WindowPrepend(0, s.PaddingLow), WindowPrepend(0, s.PaddingHigh));
            return (new[] { scatter.Bind1(np, src, op) }, new int?[] { 0 });
        };
    }
}
