using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.ControlFlow;

/// <summary>scan (and fori_loop / map built on it) against the equivalent unrolled C# loop.</summary>
public class ScanTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    // carry' = tanh(carry * w + x), y = carry * x  (w: a scanned-over constant captured by the body)
    static (Tensor Carry, Tensor Ys) Unrolled(Tensor init, Tensor xs, Tensor w, bool reverse)
    {
        int n = xs.Shape[0];
        var c = init;
        var ys = new Tensor[n];
        for (int s = 0; s < n; s++)
        {
            int t = reverse ? n - 1 - s : s;
            var x = xs[t];
            ys[t] = c * x;
            c = Np.Tanh(c * w + x);
        }
        return (c, Np.Stack(ys, 0));
    }

    static Tensor[] Scanned(Tensor[] a, bool reverse)
    {
        var (init, xs, w) = (a[0], a[1], a[2]);
        var (c, ys) = Stax.ControlFlow.Scan((cc, x) => (Np.Tanh(cc * w + x), cc * x), init, xs, reverse: reverse);
        return new[] { c, ys };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ValuesMatchTheUnrolledLoop(bool reverse)
    {
        var a = new[] { T(1, 3), T(2, 5, 3), T(3, 3) };
        var got = Scanned(a, reverse);
        var (c, ys) = Unrolled(a[0], a[1], a[2], reverse);
        Check.Close(c.ToDoubleArray(), got[0].ToDoubleArray(), 1e-12, 1e-12);
        Check.Close(ys.ToDoubleArray(), got[1].ToDoubleArray(), 1e-12, 1e-12);
        Assert.Equal(new Shape(5, 3), got[1].Shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferencesAndTheUnrolledLoop(bool reverse)
    {
        var a = new[] { T(1, 3), T(2, 4, 3), T(3, 3) };
        TransformCheck.Grads(xs => Scanned(xs, reverse), a, order: 2, name: "scan");
        // Same gradients as differentiating the unrolled loop.
        Func<Tensor[], Tensor> loss1 = xs => { var r = Scanned(xs, reverse); return Np.Sum(r[0]) + Np.Sum(r[1] * r[1]); };
        Func<Tensor[], Tensor> loss2 = xs => { var (c, ys) = Unrolled(xs[0], xs[1], xs[2], reverse); return Np.Sum(c) + Np.Sum(ys * ys); };
        var g1 = Grad(loss1, 0, 1, 2)(a);
        var g2 = Grad(loss2, 0, 1, 2)(a);
        for (int i = 0; i < 3; i++) Check.Close(g2[i].ToDoubleArray(), g1[i].ToDoubleArray(), 1e-12, 1e-12, $"grad {i}");
    }

    [Fact]
    public void VmapMatchesALoop()
    {
        var init = T(4, 2, 3);
        var xs = T(5, 4, 2, 3);          // batch in the middle of the xs
        var w = T(6, 3);
        Func<Tensor[], Tensor[]> f = a => Scanned(a, false);
        TransformCheck.Vmap(f, new[] { init, xs, w }, new int?[] { 0, 1, null }, 1e-12, "scan vmap");
        TransformCheck.Vmap(f, new[] { init[0], xs, w }, new int?[] { null, 1, null }, 1e-12, "scan vmap (unmapped carry)");
        TransformCheck.Vmap(f, new[] { init[0], xs[.., 0], T(7, 2, 3) }, new int?[] { null, null, 0 }, 1e-12, "scan vmap (mapped constant)");
        TransformCheck.Vmap(f, new[] { init, T(8, 4, 3, 2), w }, new int?[] { 0, 2, null }, 1e-12, "scan vmap (last axis)");
        // Per-example gradients: vmap of the reverse-mode (transposed) scan.
        Func<Tensor[], Tensor[]> perExample = a => Grad(b => { var r = Scanned(b, false); return Np.Sum(r[0]) + Np.Sum(r[1] * r[1]); }, 0, 1, 2)(a);
        TransformCheck.Vmap(perExample, new[] { init, xs, w }, new int?[] { 0, 1, null }, 1e-12, "vmap(grad(scan))");
    }

    [Fact]
    public void JitMatchesEagerAndStagesOneEquation()
    {
        var a = new[] { T(1, 3), T(2, 5, 3), T(3, 3) };
        TransformCheck.JitMatchesEager(xs => Scanned(xs, false), a, "scan");
        TransformCheck.EvalShapeMatches(xs => Scanned(xs, true), a);
        var jaxpr = MakeJaxpr(xs => Scanned(xs, false), a);
        Assert.Single(jaxpr.Jaxpr.Eqns);
        Assert.Equal("scan", jaxpr.Jaxpr.Eqns[0].Primitive.Name);
        Assert.Contains("length=5", jaxpr.ToString());
    }

    [Fact]
    public void GradOfJitAndJitOfGradAgree()
    {
        var a = new[] { T(1, 3), T(2, 5, 3), T(3, 3) };
        Func<Tensor[], Tensor> loss = xs => { var r = Scanned(xs, false); return Np.Sum(r[0] * r[0]) + Np.Sum(r[1]); };
        var eager = Grad(loss, 0, 1, 2)(a);
        var jitted = Jit(xs => new[] { loss(xs) });
        var gradOfJit = Grad(xs => jitted.Call(xs)[0], 0, 1, 2)(a);
        var jitOfGrad = Jit(Grad(loss, 0, 1, 2)).Call(a);
        for (int i = 0; i < 3; i++)
        {
            Check.Close(eager[i].ToDoubleArray(), gradOfJit[i].ToDoubleArray(), 1e-12, 1e-12, $"grad(jit) {i}");
            Check.Close(eager[i].ToDoubleArray(), jitOfGrad[i].ToDoubleArray(), 1e-12, 1e-12, $"jit(grad) {i}");
        }
    }

    [Fact]
    public void TreesOfCarriesXsAndYs()
    {
        var xs = new Dictionary<string, Tensor> { ["a"] = T(1, 4, 2), ["b"] = T(2, 4) };
        var init = (T(3, 2), Tensor.Scalar(0, DType.Float64));
        var ((s, total), ys) = Stax.ControlFlow.Scan<(Tensor, Tensor), Dictionary<string, Tensor>, Tensor[]>(
            (c, x) => ((c.Item1 + x["a"], c.Item2 + x["b"]), new[] { x["a"] * x["b"], c.Item2 }), init, xs);
        Check.Close((init.Item1 + Np.Sum(xs["a"], 0)).ToDoubleArray(), s.ToDoubleArray(), 1e-12, 1e-12);
        Check.Close(new[] { Np.Sum(xs["b"]).Item<double>() }, total.ToDoubleArray(), 1e-12, 1e-12);
        Assert.Equal(new Shape(4, 2), ys[0].Shape);
        Assert.Equal(new Shape(4), ys[1].Shape);
        Check.Close(Np.CumSum(xs["b"]).ToDoubleArray()[..3], ys[1].ToDoubleArray()[1..], 1e-12, 1e-12);
    }

    [Fact]
    public void ForiLoopWithAStaticTripCountIsReverseDifferentiable()
    {
        var x = T(9, 3);
        Func<Tensor[], Tensor[]> f = a => new[] { Stax.ControlFlow.ForiLoop(0, 4, (i, c) => new[] { Np.Sin(c[0]) * a[0] + i.AsType(DType.Float64) }, new[] { a[0] })[0] };
        Func<Tensor[], Tensor[]> unrolled = a =>
        {
            var c = a[0];
            for (int i = 0; i < 4; i++) c = Np.Sin(c) * a[0] + i;
            return new[] { c };
        };
        Check.Close(unrolled(new[] { x })[0].ToDoubleArray(), f(new[] { x })[0].ToDoubleArray(), 1e-12, 1e-12);
        TransformCheck.Grads(f, new[] { x }, order: 1, name: "fori");
        Assert.Equal("scan", MakeJaxpr(f, x).Jaxpr.Eqns.Single(e => e.Primitive.Family == PrimitiveFamily.Control).Primitive.Name);
    }

    [Fact]
    public void MapAppliesPerSlice()
    {
        var xs = T(10, 5, 3);
        var ys = Stax.ControlFlow.Map(x => Np.Sum(x * x), xs);
        Check.Close(Np.Sum(xs * xs, 1).ToDoubleArray(), ys.ToDoubleArray(), 1e-12, 1e-12);
        TransformCheck.Grads(a => new[] { Stax.ControlFlow.Map(x => Np.Sin(x) * x, a[0]) }, new[] { xs }, order: 1, name: "map");
    }

    [Fact]
    public void LengthZeroAndOne()
    {
        var (c0, y0) = Stax.ControlFlow.Scan((c, x) => (c + x, c * x), T(1, 3), Tensor.Zeros(new Shape(0, 3), DType.Float64));
        Assert.Equal(new Shape(0, 3), y0.Shape);
        Check.Close(T(1, 3).ToDoubleArray(), c0.ToDoubleArray());
        var (c1, y1) = Stax.ControlFlow.Scan((c, x) => (c + x, c * x), T(1, 3), T(2, 1, 3));
        Check.Close((T(1, 3) + T(2, 1, 3)[0]).ToDoubleArray(), c1.ToDoubleArray(), 1e-15, 0);
        Assert.Equal(new Shape(1, 3), y1.Shape);
    }

    [Fact]
    public void BadInputsGiveClearErrors()
    {
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan((c, x) => (c.AsType(DType.Float32), x), T(1, 3), T(2, 4, 3)), "Scan", "carry");
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan<Tensor, Tensor[], Tensor>((c, x) => (c, x[0]), T(1, 3), new[] { T(2, 4, 3), T(3, 5, 3) }), "Scan", "leading axis");
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan<Tensor, object?, Tensor>((c, x) => (c, c), T(1, 3), null), "Scan", "length");
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan((c, x) => (Np.Stack(new[] { c, c }, 0), x), T(1, 3), T(2, 4, 3)), "Scan", "carry");
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan((c, x) => (c, x), T(1, 3), Tensor.Scalar(1.0, DType.Float64)), "Scan", "scalar");
        Check.Throws<ArgumentException>(() => Stax.ControlFlow.Scan((c, x) => (c, x), T(1, 3), T(2, 4, 3), unroll: 0), "Scan", "unroll");
        // The primitive's own checks (operand count, xs leading axis).
        var body = MakeJaxpr(a => new[] { a[0] + a[1], a[1] }, T(1, 3), T(2, 3)).Jaxpr;
        var p = new ScanParams(body, 4, false, 1, 0, 1);
        Check.Throws<ArgumentException>(() => Prims.Scan.Bind(p, T(1, 3)), "scan", "expected 2 operands");
        Check.Throws<ArgumentException>(() => Prims.Scan.Bind(p, T(1, 3), T(2, 5, 3)), "scan", "leading axis 4");
    }

    [Fact]
    public void WeakCarryIsPromoted()
    {
        var (c, _) = Stax.ControlFlow.Scan<Tensor, Tensor, Tensor>((cc, x) => (cc + x, x), 0.0, T(1, 4));
        Assert.Equal(DType.Float64, c.DType);
        Check.Close(new[] { Np.Sum(T(1, 4)).Item<double>() }, c.ToDoubleArray(), 1e-12, 1e-12);
    }
}
