using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of reduce_window_{sum,max,min}, select_and_scatter_add and select_and_gather_add.</summary>
public class WindowRuleTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    sealed record Win(string Name, int[] Shape, int[] Window, int[] Strides, (int, int)[] Padding, int[]? BaseDilation = null, int[]? WindowDilation = null)
    {
        public bool HasWindowDilation => WindowDilation?.Any(d => d != 1) ?? false;
    }

    static readonly Win[] Windows =
    {
        new("plain", new[] { 4, 5 }, new[] { 2, 3 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("strides and padding", new[] { 5, 6 }, new[] { 2, 2 }, new[] { 2, 3 }, new[] { (1, 0), (1, 1) }),
        new("overlapping, padded", new[] { 5, 4 }, new[] { 3, 2 }, new[] { 1, 1 }, new[] { (1, 1), (1, 0) }),
        new("base dilation", new[] { 3, 4 }, new[] { 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (1, 0) }, BaseDilation: new[] { 2, 1 }),
        new("window dilation", new[] { 5, 5 }, new[] { 2, 2 }, new[] { 1, 2 }, new[] { (0, 0), (0, 1) }, WindowDilation: new[] { 2, 1 }),
        new("rank 3, unit window dim", new[] { 2, 4, 3 }, new[] { 1, 2, 2 }, new[] { 1, 2, 1 }, new[] { (0, 0), (0, 1), (1, 0) }),
    };

    static readonly string[] Kinds = { "sum", "max", "min" };

    public static IEnumerable<object[]> ReduceCases()
        => from k in Kinds from i in Enumerable.Range(0, Windows.Length) select new object[] { k, i, Windows[i].Name };

    static Tensor Reduce(string kind, Tensor x, Win w) => kind switch
    {
        "sum" => Lax.ReduceWindowSum(x, w.Window, w.Strides, w.Padding, w.BaseDilation, w.WindowDilation),
        "max" => Lax.ReduceWindowMax(x, w.Window, w.Strides, w.Padding, w.BaseDilation, w.WindowDilation),
        _ => Lax.ReduceWindowMin(x, w.Window, w.Strides, w.Padding, w.BaseDilation, w.WindowDilation),
    };

    static Tensor Batched(int seed, int[] shape, int axis, int size)
    {
        var s = shape.ToList();
        s.Insert(axis, size);
        return T(seed, s.ToArray());
    }

    /// <summary>Forward mode against central differences (for the cases reverse mode does not support).</summary>
    static void JvpMatchesFiniteDifferences(Func<Tensor[], Tensor[]> f, Tensor[] xs, string name)
    {
        var ts = xs.Select((x, i) => T(100 + i, x.Shape.ToArray())).ToArray();
        var (_, ty) = Jvp(f, xs, ts);
        const double eps = 1e-6;
        var plus = f(xs.Select((x, i) => Lax.Add(x, Lax.Mul(ts[i], Np.FullLike(x, eps)))).ToArray());
        var minus = f(xs.Select((x, i) => Lax.Sub(x, Lax.Mul(ts[i], Np.FullLike(x, eps)))).ToArray());
        var fd = plus[0].ToDoubleArray().Zip(minus[0].ToDoubleArray(), (p, m) => (p - m) / (2 * eps)).ToArray();
        Check.Close(fd, ty[0].ToDoubleArray(), 1e-6, 1e-6, name + ": jvp vs finite differences");
    }

    [Theory]
    [MemberData(nameof(ReduceCases))]
    public void ReduceWindowRules(string kind, int id, string name)
    {
        var w = Windows[id];
        name = $"reduce_window_{kind} {name}";
        Func<Tensor[], Tensor[]> f = xs => new[] { Reduce(kind, xs[0], w) };
        var x = T(1, w.Shape);
        if (kind != "sum" && w.HasWindowDilation)
        {
            // As in JAX, reverse mode of max/min pooling with window dilation is not implemented.
            JvpMatchesFiniteDifferences(f, new[] { x }, name);
            Check.Throws<NotSupportedException>(() => Grad(a => Np.Sum(f(a)[0]), 0)(new[] { x }), "select_and_gather_add", "window_dilation");
        }
        else
            TransformCheck.Grads(f, new[] { x }, order: 2, name: name);
        int r = w.Shape.Length;
        foreach (var axis in new[] { 0, 1, r })
            TransformCheck.Vmap(f, new[] { Batched(10 + axis, w.Shape, axis, 3) }, new int?[] { axis }, name: $"{name} in_axes={axis}");
        TransformCheck.JitMatchesEager(f, new[] { x }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x });
        if (!w.HasWindowDilation)
        {
            // vmap over the reverse-mode derivative (transpose rules under batching).
            Func<Tensor[], Tensor[]> grad = xs => Grad(a => Np.Sum(Lax.Sin(Reduce(kind, a[0], w))), 0)(xs);
            TransformCheck.Vmap(grad, new[] { Batched(20, w.Shape, 1, 2) }, new int?[] { 1 }, tol: 1e-14, name: name + " vmap(grad)");
        }
    }

    [Fact]
    public void IntegerReduceWindowMaxHasVmapAndJit()
    {
        var x = TestData.Tensor(1, new[] { 3, 4, 5 }, DType.Int32, -9, 9);
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.ReduceWindowMax(xs[0], new[] { 2, 2 }, new[] { 1, 2 }, new[] { (1, 0), (0, 1) }) };
        TransformCheck.Vmap(f, new[] { x }, new int?[] { 2 }, name: "int32 max");
        TransformCheck.JitMatchesEager(f, new[] { x[0] }, "int32 max");
        TransformCheck.EvalShapeMatches(f, new[] { x[0] });
        Func<Tensor[], Tensor[]> g = xs => new[] { Lax.ReduceWindowSum(xs[0], new[] { 2, 3 }) };
        TransformCheck.Vmap(g, new[] { x }, new int?[] { 0 }, name: "int32 sum");
    }

    // select_and_scatter_add / select_and_gather_add: (name, operand shape, window, strides, padding, base dilation, window dilation)
    static readonly Win[] Selects =
    {
        new("disjoint windows", new[] { 4, 6 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { (0, 0), (0, 0) }),
        new("overlapping padded windows", new[] { 5, 6 }, new[] { 2, 3 }, new[] { 1, 2 }, new[] { (1, 0), (1, 1) }),
        new("rank 3", new[] { 3, 4, 2 }, new[] { 2, 2, 1 }, new[] { 1, 2, 1 }, new[] { (0, 1), (0, 0), (0, 0) }),
    };

    public static IEnumerable<object[]> SelectCases()
        => from p in new[] { "ge", "le" } from i in Enumerable.Range(0, Selects.Length) select new object[] { p, i, Selects[i].Name };

    static Primitive SelectPrim(string p) => p == "ge" ? Prims.Ge : Prims.Le;

    [Theory]
    [MemberData(nameof(SelectCases))]
    public void SelectAndScatterAddRules(string select, int id, string name)
    {
        var w = Selects[id];
        name = $"select_and_scatter_add {select} {name}";
        var sp = SelectPrim(select);
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.SelectAndScatterAdd(xs[0], xs[1], sp, w.Window, w.Strides, w.Padding) };
        var operand = T(2, w.Shape);
        var outShape = Lax.ReduceWindowMax(operand, w.Window, w.Strides, w.Padding).Shape.ToArray();
        var source = T(3, outShape);
        TransformCheck.Grads(f, new[] { source, operand }, order: 2, name: name);
        TransformCheck.Grads(xs => f(new[] { xs[0], operand }), new[] { source }, order: 2, name: name + " (source only)");
        int r = w.Shape.Length;
        foreach (var (sa, oa) in new (int?, int?)[] { (0, 0), (null, 1), (r, null), (1, r) })
        {
            var s = sa is int a ? Batched(30, outShape, a, 3) : T(30, outShape);
            var o = oa is int b ? Batched(31, w.Shape, b, 3) : T(31, w.Shape);
            TransformCheck.Vmap(f, new[] { s, o }, new[] { sa, oa }, name: $"{name} in_axes=({sa}, {oa})");
        }
        TransformCheck.JitMatchesEager(f, new[] { source, operand }, name);
        TransformCheck.EvalShapeMatches(f, new[] { source, operand });
    }

    static readonly Win[] Gathers =
    {
        new("disjoint windows", new[] { 4, 6 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { (0, 0), (0, 0) }),
        new("overlapping padded windows", new[] { 5, 6 }, new[] { 2, 3 }, new[] { 1, 2 }, new[] { (1, 0), (1, 1) }),
        new("base dilation", new[] { 3, 4 }, new[] { 2, 3 }, new[] { 1, 2 }, new[] { (0, 1), (1, 1) }, BaseDilation: new[] { 2, 3 }),
        new("window dilation", new[] { 5, 4 }, new[] { 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (1, 0) }, WindowDilation: new[] { 2, 2 }),
    };

    public static IEnumerable<object[]> GatherCases()
        => from p in new[] { "ge", "le" } from i in Enumerable.Range(0, Gathers.Length) select new object[] { p, i, Gathers[i].Name };

    [Theory]
    [MemberData(nameof(GatherCases))]
    public void SelectAndGatherAddRules(string select, int id, string name)
    {
        var w = Gathers[id];
        name = $"select_and_gather_add {select} {name}";
        var sp = SelectPrim(select);
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.SelectAndGatherAdd(xs[0], xs[1], sp, w.Window, w.Strides, w.Padding, w.BaseDilation, w.WindowDilation) };
        var tangents = T(4, w.Shape);
        var operand = T(5, w.Shape);
        if (w.HasWindowDilation)
        {
            JvpMatchesFiniteDifferences(f, new[] { tangents, operand }, name);
            Check.Throws<NotSupportedException>(() => Vjp(f, new[] { tangents, operand }).Vjp(f(new[] { tangents, operand })), "select_and_gather_add", "window_dilation");
        }
        else
        {
            TransformCheck.Grads(f, new[] { tangents, operand }, order: 2, name: name);
            TransformCheck.Grads(xs => f(new[] { xs[0], operand }), new[] { tangents }, order: 2, name: name + " (tangents only)");
        }
        int r = w.Shape.Length;
        foreach (var (ta, oa) in new (int?, int?)[] { (0, 0), (null, 1), (r, null), (1, r) })
        {
            var t = ta is int a ? Batched(40, w.Shape, a, 3) : T(40, w.Shape);
            var o = oa is int b ? Batched(41, w.Shape, b, 3) : T(41, w.Shape);
            TransformCheck.Vmap(f, new[] { t, o }, new[] { ta, oa }, name: $"{name} in_axes=({ta}, {oa})");
        }
        TransformCheck.JitMatchesEager(f, new[] { tangents, operand }, name);
        TransformCheck.EvalShapeMatches(f, new[] { tangents, operand });
    }

    static readonly double[] PoolInput =
    {
        1, 5, 2, 0,
        3, 4, 8, 6,
        7, 0, 1, 2,
        9, 3, 4, 5,
    };

    [Fact]
    public void MaxPoolGradientRoutesToArgmax()
    {
        var x = Tensor.FromArray(PoolInput, 4, 4);
        // 2x2 windows, stride 2: maxima 5 at (0,1), 8 at (1,2), 9 at (3,0), 5 at (3,3).
        var g = Grad(a => Np.Sum(Lax.ReduceWindowMax(a, new[] { 2, 2 }, new[] { 2, 2 })))(x);
        Check.Close(new double[] { 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1 }, g.ToDoubleArray(), 0, 0, "stride 2");
        // 2x2 windows, stride 1 (overlapping): the 9 window maxima are 5, 8, 8 / 7, 8, 8 / 9, 4, 5, so
        // (1,2) receives 4, and (0,1), (2,0), (3,0), (3,2), (3,3) receive 1 each.
        g = Grad(a => Np.Sum(Lax.ReduceWindowMax(a, new[] { 2, 2 })))(x);
        Check.Close(new double[] { 0, 1, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0, 1, 0, 1, 1 }, g.ToDoubleArray(), 0, 0, "stride 1");
        // Weighted by the output position: out = [[5, 8, 8], [7, 8, 8], [9, 4, 5]] times c = 1..9.
        var c = Tensor.FromArray(Enumerable.Range(1, 9).Select(i => (double)i).ToArray(), 3, 3);
        g = Grad(a => Np.Sum(Lax.Mul(Lax.ReduceWindowMax(a, new[] { 2, 2 }), c)))(x);
        // (1,2) gets 2 + 3 + 5 + 6 = 16; (0,1) 1; (2,0) 4; (3,0) 7; (3,2) 8; (3,3) 9.
        Check.Close(new double[] { 0, 1, 0, 0, 0, 0, 16, 0, 4, 0, 0, 0, 7, 0, 8, 9 }, g.ToDoubleArray(), 0, 0, "weighted");
    }

    [Fact]
    public void MinPoolAndPaddedMaxPoolGradients()
    {
        var x = Tensor.FromArray(PoolInput, 4, 4);
        // Min pooling 2x2 stride 2: minima 1 at (0,0), 0 at (0,3), 0 at (2,1), 1 at (2,2).
        var g = Grad(a => Np.Sum(Lax.ReduceWindowMin(a, new[] { 2, 2 }, new[] { 2, 2 })))(x);
        Check.Close(new double[] { 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0 }, g.ToDoubleArray(), 0, 0, "min pool");
        // Max pooling 3x3, stride 2, padding 1 ("SAME"): windows rows/cols {-1..1} and {1..3}:
        // top-left {1,5,3,4} -> 5 (0,1); top-right rows 0-1 cols 1-3 -> 8 (1,2);
        // bottom-left rows 1-3 cols 0-1 -> 9 (3,0); bottom-right rows 1-3 cols 1-3 -> 8 (1,2).
        g = Grad(a => Np.Sum(Lax.ReduceWindowMax(a, new[] { 3, 3 }, new[] { 2, 2 }, new[] { (1, 1), (1, 1) })))(x);
        Check.Close(new double[] { 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, g.ToDoubleArray(), 0, 0, "padded max pool");
    }

    [Fact]
    public void MaxPoolTiesRouteToTheFirstMaximum()
    {
        // One window holding 3 twice: the whole gradient goes to the first in row-major order.
        var x = Tensor.FromArray(new double[] { 1, 3, 3, 2 }, 2, 2);
        var g = Grad(a => Np.Sum(Lax.ReduceWindowMax(a, new[] { 2, 2 })))(x);
        Check.Close(new double[] { 0, 1, 0, 0 }, g.ToDoubleArray(), 0, 0, "ties");
    }
}
