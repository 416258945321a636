using Stax.Tests.Infrastructure;
using static Stax.Transforms;
using CF = Stax.ControlFlow;

namespace Stax.Tests.ControlFlow;

/// <summary>Checkpoint (remat), custom VJP, and nesting of the control-flow primitives.</summary>
public class RematCustomVjpTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    static Tensor Block(Tensor x, Tensor w) => Np.Sin(Np.Matmul(Np.Tanh(Np.Matmul(x, w)), w));

    static Tensor Loss(Tensor[] a, Func<Tensor[], Tensor[]>? wrap)
    {
        Func<Tensor[], Tensor[]> block = b => new[] { Block(b[0], b[1]) };
        var f = wrap ?? block;
        var h = a[0];
        for (int i = 0; i < 3; i++) h = f(new[] { h, a[1] })[0];
        return Np.Sum(h * h);
    }

    [Fact]
    public void RematGivesTheSameGradientsWithFewerResiduals()
    {
        var a = new[] { T(1, 4, 5), T(2, 5, 5) };
        var plain = Grad(x => Loss(x, null), 0, 1)(a);
        Func<Tensor[], Tensor[]> block = b => new[] { Block(b[0], b[1]) };
        int Residuals(Func<Tensor[], Tensor[]>? wrap) => LinearizeJaxpr(x => new[] { Loss(x, wrap) }, a).Linear.Consts.Length;
        foreach (var policy in new[] { RematPolicy.SaveNothing, RematPolicy.SaveDots })
        {
            var ck = Remat(block, policy);
            var g = Grad(x => Loss(x, ck), 0, 1)(a);
            for (int i = 0; i < 2; i++) Check.Close(plain[i].ToDoubleArray(), g[i].ToDoubleArray(), 1e-12, 1e-12, $"{policy} grad {i}");
            var jg = Jit(Grad(x => Loss(x, ck), 0, 1)).Call(a);
            for (int i = 0; i < 2; i++) Check.Close(plain[i].ToDoubleArray(), jg[i].ToDoubleArray(), 1e-12, 1e-12, $"{policy} jit(grad) {i}");
        }
        int none = Residuals(null);
        int nothing = Residuals(Remat(block, RematPolicy.SaveNothing));
        int dots = Residuals(Remat(block, RematPolicy.SaveDots));
        Assert.True(nothing < dots && dots < none, $"residuals: no remat {none}, SaveDots {dots}, SaveNothing {nothing}");
        // Without remat each block keeps tanh, 1 - tanh^2, cos and w (and the loss its input): 20 residuals;
        // with remat each block keeps its inputs (x, w and a literal 1 used by tanh's derivative): 11.
        Assert.True(none - nothing >= 9, $"residuals: no remat {none}, SaveNothing {nothing}");
        Console.WriteLine($"linearized residual constants: no remat {none}, SaveDots {dots}, SaveNothing {nothing}");
    }

    [Fact]
    public void RematRulesCompose()
    {
        var a = new[] { T(1, 2, 3), T(2, 3, 3) };
        Func<Tensor[], Tensor[]> f = Remat(b => new[] { Block(b[0], b[1]) });
        TransformCheck.Grads(f, a, order: 2, name: "remat");
        TransformCheck.Vmap(f, new[] { T(3, 4, 2, 3), a[1] }, new int?[] { 0, null }, 1e-12, "remat vmap");
        TransformCheck.JitMatchesEager(f, a, "remat");
        Assert.Single(MakeJaxpr(f, a).Jaxpr.Eqns, e => e.Primitive.Name == "remat");
    }

    // sin with a deliberately different backward function (2 cos x): proves the custom rule is used.
    static readonly Func<Tensor[], Tensor[]> Custom = CustomVjp(
        xs => new[] { Np.Sin(xs[0]) * xs[1] },
        xs => (new[] { Np.Sin(xs[0]) * xs[1] }, new[] { Np.Cos(xs[0]), xs[1], Np.Sin(xs[0]) }),
        (res, cts) => new[] { 2 * cts[0] * res[0] * res[1], cts[0] * res[2] },
        "sin2");

    static Tensor[] Expected(Tensor x, Tensor y, Tensor ct) => new[] { 2 * ct * Np.Cos(x) * y, ct * Np.Sin(x) };

    [Fact]
    public void CustomVjpIsUsedByGradJitAndVmap()
    {
        var x = T(1, 5);
        var y = T(2, 5);
        Check.Close((Np.Sin(x) * y).ToDoubleArray(), Custom(new[] { x, y })[0].ToDoubleArray(), 1e-15, 0);
        var want = Expected(x, y, Np.OnesLike(x));
        Func<Tensor[], Tensor> loss = a => Np.Sum(Custom(a)[0]);
        void Same(Tensor[] got, string what)
        {
            for (int i = 0; i < 2; i++) Check.Close(want[i].ToDoubleArray(), got[i].ToDoubleArray(), 1e-12, 1e-12, $"{what} {i}");
        }
        Same(Grad(loss, 0, 1)(new[] { x, y }), "grad");
        Same(Jit(Grad(loss, 0, 1)).Call(new[] { x, y }), "jit(grad)");
        var jf = Jit(Custom);
        Same(Grad(a => Np.Sum(jf.Call(a)[0]), 0, 1)(new[] { x, y }), "grad(jit)");
        Assert.Single(MakeJaxpr(Custom, x, y).Jaxpr.Eqns, e => e.Primitive.Name == "custom_vjp_call");
        // vmap of grad (per-example gradients) and grad of vmap (unmapped y: cotangents summed).
        var xb = T(3, 4, 5);
        var perEx = Vmap(a => Grad(loss, 0, 1)(a), new int?[] { 0, null })(new[] { xb, y });
        for (int b = 0; b < 4; b++)
        {
            var e = Expected(xb[b], y, Np.OnesLike(y));
            Check.Close(e[0].ToDoubleArray(), perEx[0][b].ToDoubleArray(), 1e-12, 1e-12, "vmap(grad) x");
            Check.Close(e[1].ToDoubleArray(), perEx[1][b].ToDoubleArray(), 1e-12, 1e-12, "vmap(grad) y");
        }
        var gv = Grad(a => Np.Sum(Vmap(Custom, new int?[] { 0, null })(a)[0]), 0, 1)(new[] { xb, y });
        var sumY = Enumerable.Range(0, 4).Select(b => Expected(xb[b], y, Np.OnesLike(y))[1]).Aggregate((p, q) => p + q);
        Check.Close(Np.Stack(Enumerable.Range(0, 4).Select(b => Expected(xb[b], y, Np.OnesLike(y))[0]).ToArray(), 0).ToDoubleArray(), gv[0].ToDoubleArray(), 1e-12, 1e-12, "grad(vmap) x");
        Check.Close(sumY.ToDoubleArray(), gv[1].ToDoubleArray(), 1e-12, 1e-12, "grad(vmap) y");
    }

    [Fact]
    public void CustomVjpGradientClipping()
    {
        // The classic use: identity forward, clipped cotangent backward.
        var clip = CustomVjp(x => x, x => (x, Array.Empty<Tensor>()), (res, ct) => Np.Clip(ct, -1, 1));
        var g = Grad(x => Np.Sum(clip(x * 10)))(T(1, 4));
        Check.Close(Enumerable.Repeat(10.0, 4).ToArray(), g.ToDoubleArray(), 1e-12, 1e-12);
    }

    [Fact]
    public void CustomVjpErrors()
    {
        var x = T(1, 3);
        Check.Throws<NotSupportedException>(() => Jvp(Custom, new[] { x, x }, new[] { x, x }).Tangents[0].ToDoubleArray(), "forward-mode");
        var badBwd = CustomVjp(a => new[] { a[0] * 2 }, a => (new[] { a[0] * 2 }, Array.Empty<Tensor>()), (r, c) => new[] { c[0], c[0] });
        Check.Throws<ArgumentException>(() => Grad(a => Np.Sum(badBwd(a)[0]))(new[] { x }), "custom_vjp", "one cotangent per input");
        var badFwd = CustomVjp(a => new[] { a[0] * 2 }, a => (new[] { Np.Sum(a[0]) }, Array.Empty<Tensor>()), (r, c) => c);
        Check.Throws<ArgumentException>(() => Grad(a => Np.Sum(badFwd(a)[0]))(new[] { x }), "custom_vjp", "forward function");
    }

    // ---------------- nesting: a scan inside a cond inside a vmap inside grad ----------------

    static Tensor Inner(Tensor x, Tensor w)
    {
        // per element: if sum(x) > 0 then scan(c -> tanh(c * w + x_t)) over the rows of x, else sum of sin
        return CF.Cond(Np.Sum(x) > 0,
            v => CF.Scan<Tensor, Tensor, Tensor>((c, row) => (Np.Tanh(c * v[1] + row), c * row), Np.ZerosLike(v[1]), v[0]).Carry,
            v => Np.Sum(Np.Sin(v[0]), 0) * v[1],
            new[] { x, w });
    }

    static Tensor InnerUnrolled(Tensor x, Tensor w, bool positive)
    {
        if (positive)
        {
            var c = Np.ZerosLike(w);
            for (int t = 0; t < x.Shape[0]; t++) c = Np.Tanh(c * w + x[t]);
            return c;
        }
        return Np.Sum(Np.Sin(x), 0) * w;
    }

    [Fact]
    public void ScanInsideCondInsideVmapInsideGrad()
    {
        var xs = T(1, 4, 3, 2);     // batch of 4 sequences of 3 rows
        var w = T(2, 2);
        var sums = Enumerable.Range(0, 4).Select(b => Np.Sum(xs[b]).Item<double>()).ToArray();
        Assert.Contains(sums, s => s > 0);
        Assert.Contains(sums, s => s < 0);
        Func<Tensor[], Tensor> loss = a => { var r = Vmap(v => new[] { Inner(v[0], v[1]) }, new int?[] { 0, null })(a)[0]; return Np.Sum(r * r); };
        Func<Tensor[], Tensor> lossUnrolled = a => { var r = Np.Stack(Enumerable.Range(0, 4).Select(b => InnerUnrolled(a[0][b], a[1], sums[b] > 0)).ToArray(), 0); return Np.Sum(r * r); };
        Check.Close(new[] { lossUnrolled(new[] { xs, w }).Item<double>() }, new[] { loss(new[] { xs, w }).Item<double>() }, 1e-12, 1e-12);
        var g = Grad(loss, 0, 1)(new[] { xs, w });
        var gu = Grad(lossUnrolled, 0, 1)(new[] { xs, w });
        for (int i = 0; i < 2; i++) Check.Close(gu[i].ToDoubleArray(), g[i].ToDoubleArray(), 1e-12, 1e-12, $"nested grad {i}");
        var jg = Jit(Grad(loss, 0, 1)).Call(new[] { xs, w });
        for (int i = 0; i < 2; i++) Check.Close(gu[i].ToDoubleArray(), jg[i].ToDoubleArray(), 1e-12, 1e-12, $"jit nested grad {i}");
        TransformCheck.Grads(a => new[] { loss(a) }, new[] { xs, w }, order: 1, name: "nested");
    }
}
