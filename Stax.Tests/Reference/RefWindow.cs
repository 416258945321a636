namespace Stax.Tests.Reference;

public static partial class Ref
{
    /// <summary>
    /// Visits every window position of output element <paramref name="outIdx"/>: the callback gets the
    /// operand's flat index, or -1 for a padding position or a base-dilation hole.
    /// </summary>
    static void ForWindow(int[] operandShape, int[] outIdx, IntTuple wdims, IntTuple strides, IntTuple padLo,
        IntTuple baseDil, IntTuple winDil, Action<long> visit)
    {
        int rank = operandShape.Length;
        var wshape = wdims.ToArray();
        long count = 1;
        foreach (var w in wshape) count *= w;
        var pos = new int[rank];
        for (long k = 0; k < count; k++)
        {
            var widx = Unravel(k, wshape);
            bool inside = true;
            for (int d = 0; d < rank; d++)
            {
                // Position in the padded, base-dilated operand.
                long p = (long)outIdx[d] * strides[d] + (long)widx[d] * winDil[d] - padLo[d];
                if (p < 0 || p % baseDil[d] != 0 || p / baseDil[d] >= operandShape[d]) { inside = false; break; }
                pos[d] = (int)(p / baseDil[d]);
            }
            visit(inside ? Ravel(pos, operandShape) : -1);
        }
    }

    static RefArray[] ReduceWindowRule(Params p, RefArray[] x, AbstractValue[] o, Func<DType, double> identity, Func<double, double, double> f)
    {
        var w = (ReduceWindowParams)p;
        var a = x[0];
        var r = New(o[0]);
        var outShape = o[0].Shape.ToArray();
        for (long i = 0; i < r.Size; i++)
        {
            double acc = identity(a.DType);
            ForWindow(a.Shape, Unravel(i, outShape), w.WindowDimensions, w.WindowStrides, w.PaddingLow, w.BaseDilation, w.WindowDilation,
                flat => acc = f(acc, flat < 0 ? identity(a.DType) : a.Data[flat]));
            r.Data[i] = acc;
        }
        return new[] { r };
    }

    /// <summary>select(current, candidate) of the window selection: keep current while it holds; NaN is selected and kept.</summary>
    static bool Keeps(Primitive select, double current, double candidate)
        => double.IsNaN(current) || (!double.IsNaN(candidate) && (ReferenceEquals(select, Prims.Ge) ? current >= candidate : current <= candidate));

    /// <summary>The operand flat index a window selects, or -1 when it has no operand position.</summary>
    static long Selected(Primitive select, RefArray operand, int[] outIdx, IntTuple wdims, IntTuple strides, IntTuple padLo, IntTuple baseDil, IntTuple winDil)
    {
        long best = -1;
        ForWindow(operand.Shape, outIdx, wdims, strides, padLo, baseDil, winDil, flat =>
        {
            if (flat < 0) return;
            if (best < 0 || !Keeps(select, operand.Data[best], operand.Data[flat])) best = flat;
        });
        return best;
    }

    static partial void RegisterWindow()
    {
        Rules[Prims.ReduceWindowSum] = (p, x, o) => ReduceWindowRule(p, x, o, t => 0, (a, b) => a + b);
        Rules[Prims.ReduceWindowMax] = (p, x, o) => ReduceWindowRule(p, x, o, Lowest, NanMax);
        Rules[Prims.ReduceWindowMin] = (p, x, o) => ReduceWindowRule(p, x, o, Highest, NanMin);

        Rules[Prims.SelectAndScatterAdd] = (p, x, o) =>
        {
            var s = (SelectAndScatterAddParams)p;
            var source = x[0];
            var operand = x[1];
            var r = New(o[0]);
            var ones = Enumerable.Repeat(1, operand.Rank).ToArray();
            for (long i = 0; i < source.Size; i++)
            {
                long sel = Selected(s.SelectPrim, operand, Unravel(i, source.Shape), s.WindowDimensions, s.WindowStrides, s.PaddingLow, ones, ones);
                if (sel >= 0) r.Data[sel] += source.Data[i];
            }
            return new[] { r };
        };

        Rules[Prims.SelectAndGatherAdd] = (p, x, o) =>
        {
            var s = (SelectAndGatherAddParams)p;
            var tangents = x[0];
            var operand = x[1];
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            for (long i = 0; i < r.Size; i++)
            {
                long sel = Selected(s.SelectPrim, operand, Unravel(i, outShape), s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.BaseDilation, s.WindowDilation);
                r.Data[i] = sel >= 0 ? tangents.Data[sel] : 0;
            }
            return new[] { r };
        };
    }
}
