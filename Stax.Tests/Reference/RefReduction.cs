namespace Stax.Tests.Reference;

public static partial class Ref
{
    /// <summary>The lowest value of a dtype (identity of max).</summary>
    public static double Lowest(DType t) => t switch
    {
        DType.Int32 => int.MinValue,
        DType.UInt32 or DType.UInt8 or DType.Bool => 0,
        _ => double.NegativeInfinity,
    };

    /// <summary>The highest value of a dtype (identity of min).</summary>
    public static double Highest(DType t) => t switch
    {
        DType.Int32 => int.MaxValue,
        DType.UInt32 => uint.MaxValue,
        DType.UInt8 => 255,
        DType.Bool => 1,
        _ => double.PositiveInfinity,
    };

    /// <summary>max with NaN propagation.</summary>
    public static double NanMax(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);
    /// <summary>min with NaN propagation.</summary>
    public static double NanMin(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);

    /// <summary>Integer product that wraps modulo 2^64 (the low 32 bits are what the dtype keeps).</summary>
    static double IntProduct(IEnumerable<double> values)
    {
        ulong acc = 1;
        foreach (var v in values) acc = unchecked(acc * (ulong)(long)v);
        return unchecked((int)(uint)acc);
    }

    static RefArray[] ReduceRule(Params p, RefArray[] x, AbstractValue[] o, Func<DType, List<double>, double> combine)
    {
        var axes = ((ReduceParams)p).Axes.ToArray();
        var a = x[0];
        var r = New(o[0]);
        var groups = new List<double>[r.Data.Length];
        for (int i = 0; i < groups.Length; i++) groups[i] = new List<double>();
        var outShape = o[0].Shape.ToArray();
        for (long i = 0; i < a.Size; i++)
        {
            var idx = Unravel(i, a.Shape);
            var kept = new List<int>();
            for (int d = 0; d < idx.Length; d++) if (!axes.Contains(d)) kept.Add(idx[d]);
            groups[Ravel(kept.ToArray(), outShape)].Add(a.Data[i]);
        }
        for (int i = 0; i < groups.Length; i++) r.Data[i] = combine(a.DType, groups[i]);
        return new[] { r };
    }

    static partial void RegisterReduction()
    {
        Rules[Prims.ReduceSum] = (p, x, o) => ReduceRule(p, x, o, (t, g) =>
            t.IsFloat() ? g.Sum() : unchecked((int)(uint)(ulong)g.Sum(v => (long)v)));
        Rules[Prims.ReduceProd] = (p, x, o) => ReduceRule(p, x, o, (t, g) =>
            t.IsFloat() ? g.Aggregate(1.0, (acc, v) => acc * v) : IntProduct(g));
        Rules[Prims.ReduceMax] = (p, x, o) => ReduceRule(p, x, o, (t, g) => g.Aggregate(Lowest(t), NanMax));
        Rules[Prims.ReduceMin] = (p, x, o) => ReduceRule(p, x, o, (t, g) => g.Aggregate(Highest(t), NanMin));

        Rules[Prims.Argmax] = (p, x, o) => ArgRule((ArgReduceParams)p, x[0], o[0], true);
        Rules[Prims.Argmin] = (p, x, o) => ArgRule((ArgReduceParams)p, x[0], o[0], false);

        Rules[Prims.Cumsum] = (p, x, o) => ScanRule((CumulativeParams)p, x[0], o[0], (t, acc, v) => acc + v,
            (t, v) => t.IsFloat() ? v : unchecked((int)(uint)(ulong)(long)v));
        Rules[Prims.Cumprod] = (p, x, o) => ScanRule((CumulativeParams)p, x[0], o[0],
            (t, acc, v) => t.IsFloat() ? acc * v : IntProduct(new[] { acc, v }), (t, v) => v);
        Rules[Prims.Cummax] = (p, x, o) => ScanRule((CumulativeParams)p, x[0], o[0], (t, acc, v) => NanMax(acc, v), (t, v) => v);
        Rules[Prims.Cummin] = (p, x, o) => ScanRule((CumulativeParams)p, x[0], o[0], (t, acc, v) => NanMin(acc, v), (t, v) => v);
    }

    static RefArray[] ArgRule(ArgReduceParams p, RefArray a, AbstractValue o, bool isMax)
    {
        int axis = p.Axes[0];
        var r = New(o);
        var outShape = o.Shape.ToArray();
        for (long i = 0; i < r.Size; i++)
        {
            var oi = Unravel(i, outShape);
            var full = new List<int>(oi);
            full.Insert(axis, 0);
            var idx = full.ToArray();
            int best = -1;
            for (int k = 0; k < a.Shape[axis]; k++)
            {
                idx[axis] = k;
                double v = a.Data[Ravel(idx, a.Shape)];
                if (double.IsNaN(v)) { best = k; break; }
                if (best < 0) { best = k; continue; }
                idx[axis] = best;
                double b = a.Data[Ravel(idx, a.Shape)];
                idx[axis] = k;
                if (isMax ? v > b : v < b) best = k;
            }
            r.Data[i] = best;
        }
        return new[] { r };
    }

    /// <summary>Inclusive scan; integer accumulators are wrapped to 32 bits after every step.</summary>
    static RefArray[] ScanRule(CumulativeParams p, RefArray a, AbstractValue o, Func<DType, double, double, double> f, Func<DType, double, double> wrap)
    {
        var r = New(o);
        int n = a.Shape[p.Axis];
        for (long i = 0; i < a.Size; i++)
        {
            var idx = Unravel(i, a.Shape);
            if (idx[p.Axis] != 0) continue;
            double acc = 0;
            for (int s = 0; s < n; s++)
            {
                idx[p.Axis] = p.Reverse ? n - 1 - s : s;
                long flat = Ravel(idx, a.Shape);
                acc = s == 0 ? a.Data[flat] : wrap(a.DType, f(a.DType, acc, a.Data[flat]));
                r.Data[flat] = acc;
            }
        }
        return new[] { r };
    }
}
