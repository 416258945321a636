using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

public class TreeTransformTests
{
    static Tensor F64(params double[] v) => v.Length == 1 ? Tensor.Scalar(v[0], DType.Float64) : Tensor.FromArray(v);
    static Tensor Rand(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);
    static Tensor Leaf(object? tree, string key) => ((Dictionary<string, Tensor>)tree!)[key];

    /// <summary>x (b,i) @ w (i,o) with broadcasting and a sum (only primitives with rules in the core).</summary>
    static Tensor MatMul(Tensor x, Tensor w)
    {
        int b = x.Shape[0], i = x.Shape[1], o = w.Shape[1];
        return Np.Sum(Lax.Reshape(x, new Shape(b, i, 1)) * Lax.Reshape(w, new Shape(1, i, o)), 1);
    }

    static Dictionary<string, Tensor> Params() => new()
    {
        ["w1"] = Rand(1, 3, 4), ["b1"] = Rand(2, 4), ["w2"] = Rand(3, 4, 2), ["b2"] = Rand(4, 2),
    };

    static Dictionary<string, Tensor> Batch(int n = 5) => new() { ["x"] = Rand(5, n, 3), ["y"] = Rand(6, n, 2) };

    static Tensor Loss(Dictionary<string, Tensor> p, Dictionary<string, Tensor> batch)
    {
        var h = Np.Tanh(MatMul(batch["x"], p["w1"]) + p["b1"]);
        var pred = MatMul(h, p["w2"]) + p["b2"];
        var err = pred - batch["y"];
        return Np.Mean(err * err);
    }

    static double D(Tensor t) => t.ToDoubleArray()[0];

    [Fact]
    public void GradOfMlpLossOverDictionaryMatchesFiniteDifferences()
    {
        var p = Params();
        var batch = Batch();
        var g = Grad((Dictionary<string, Tensor> q) => Loss(q, batch))(p);
        Assert.Equal(new[] { "b1", "b2", "w1", "w2" }, g.Keys.OrderBy(k => k, StringComparer.Ordinal));
        const double eps = 1e-6;
        foreach (var key in p.Keys)
        {
            Assert.Equal(p[key].Shape, g[key].Shape);
            var host = p[key].ToDoubleArray();
            var grad = g[key].ToDoubleArray();
            for (int k = 0; k < host.Length; k++)
            {
                double Eval(double delta)
                {
                    var h = (double[])host.Clone();
                    h[k] += delta;
                    var q = new Dictionary<string, Tensor>(p) { [key] = Tensor.FromArray(h, p[key].Shape.ToArray()) };
                    return D(Loss(q, batch));
                }
                double fd = (Eval(eps) - Eval(-eps)) / (2 * eps);
                Assert.True(Math.Abs(fd - grad[k]) < 1e-7, $"d loss / d {key}[{k}]: finite differences {fd} vs grad {grad[k]}");
            }
        }
        // The two-argument form differentiates the first argument and gives the same.
        var g2 = Grad<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(Loss)(p, batch);
        foreach (var key in p.Keys) Assert.Equal(g[key].ToDoubleArray(), g2[key].ToDoubleArray());
        var (v, g3) = ValueAndGrad<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(Loss)(p, batch);
        Assert.Equal(D(Loss(p, batch)), D(v));
        Assert.Equal(g["w2"].ToDoubleArray(), g3["w2"].ToDoubleArray());
    }

    [Fact]
    public void GradOfRegisteredRecordAndNestedTree()
    {
        Tree.RegisterTuple<Tensor, List<Tensor>>();
        Func<(Tensor, List<Tensor>), Tensor> f = t => Np.Sum(t.Item1 * t.Item1) + Np.Sum(Lax.Sin(t.Item2[0]) * t.Item2[1]);
        var x = (F64(1, 2), new List<Tensor> { F64(0.5), F64(3) });
        var (a, list) = Grad(f)(x);
        Assert.Equal(new[] { 2.0, 4 }, a.ToDoubleArray());
        Check.Close(new[] { Math.Cos(0.5) * 3 }, list[0].ToDoubleArray(), 1e-15);
        Check.Close(new[] { Math.Sin(0.5) }, list[1].ToDoubleArray(), 1e-15);
    }

    [Fact]
    public void ValueAndGradWithAux()
    {
        var p = Params();
        var batch = Batch();
        var ((value, aux), g) = ValueAndGrad((Dictionary<string, Tensor> q) =>
        {
            var l = Loss(q, batch);
            return (l, new Dictionary<string, object?> { ["l2"] = l * 2.0, ["count"] = Tensor.Scalar(5, DType.Int32), ["tag"] = "mse" });
        }, hasAux: true)(p);
        Assert.Equal(D(Loss(p, batch)), D(value));
        Assert.Equal(2 * D(value), D((Tensor)aux["l2"]!));
        Assert.Equal(5, ((Tensor)aux["count"]!).Item<int>());
        Assert.Equal("mse", aux["tag"]);
        var plain = Grad((Dictionary<string, Tensor> q) => Loss(q, batch))(p);
        Assert.Equal(plain["w1"].ToDoubleArray(), g["w1"].ToDoubleArray());
        var (g2, aux2) = Grad((Dictionary<string, Tensor> q) => (Loss(q, batch), q["b2"] * 1.0), hasAux: true)(p);
        Assert.Equal(p["b2"].ToDoubleArray(), aux2.ToDoubleArray());
        Assert.Equal(plain["b2"].ToDoubleArray(), g2["b2"].ToDoubleArray());
        Check.Throws<ArgumentException>(() => ValueAndGrad((Tensor x) => (x, x), hasAux: false), "ValueAndGrad", "hasAux: true");
    }

    [Fact]
    public void FlatOverloadsStillBindForTensorArguments()
    {
        // Grad of a Tensor[] function keeps the flat meaning (argnums default: the first argument);
        // the tree overload is reached with an explicit type argument.
        var xs = new[] { F64(1, 2), F64(3, 4) };
        Func<Tensor[], Tensor> f = v => Np.Sum(v[0] * v[1]);
        Assert.Single(Grad(f)(xs));
        var both = Grad<Tensor[]>(f)(xs);
        Assert.Equal(2, both.Length);
        Assert.Equal(new[] { 3.0, 4 }, both[0].ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2 }, both[1].ToDoubleArray());
    }

    [Fact]
    public void GradErrorsNameTheLeaf()
    {
        var tree = new Dictionary<string, Tensor> { ["a"] = F64(1), ["n"] = Tensor.FromArray(new[] { 1, 2 }) };
        Check.Throws<ArgumentException>(() => Grad((Dictionary<string, Tensor> d) => Np.Sum(d["a"]))(tree), "Grad", "[\"n\"]", "int32", "floating-point");
        Check.Throws<ArgumentException>(() => Grad((Tensor[] xs) => xs[0])(new[] { F64(1, 2) }), "Grad", "scalar", "f64[2]");
    }

    [Fact]
    public void PerExampleGradsWithVmapOverATree()
    {
        var p = Params();
        var batch = Batch(4);
        Tensor ExampleLoss(Dictionary<string, Tensor> q, Dictionary<string, Tensor> ex)
            => Loss(q, new() { ["x"] = Lax.Reshape(ex["x"], new Shape(1, 3)), ["y"] = Lax.Reshape(ex["y"], new Shape(1, 2)) });
        var perExample = Vmap(Grad<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(ExampleLoss), null, 0)(p, batch);
        foreach (var key in p.Keys)
            Assert.Equal(new Shape(new[] { 4 }.Concat(p[key].Shape.ToArray()).ToArray()), perExample[key].Shape);
        for (int i = 0; i < 4; i++)
        {
            var ex = new Dictionary<string, Tensor> { ["x"] = batch["x"][i], ["y"] = batch["y"][i] };
            var gi = Grad<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(ExampleLoss)(p, ex);
            foreach (var key in p.Keys)
                Check.Close(gi[key].ToDoubleArray(), perExample[key][i].ToDoubleArray(), 1e-13, 1e-13, $"example {i}, {key}");
        }
        // The mean of per-example gradients is the batch gradient.
        var full = Grad<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(Loss)(p, batch);
        Check.Close(full["w1"].ToDoubleArray(), Np.Mean(perExample["w1"], 0).ToDoubleArray(), 1e-13, 1e-13);
    }

    [Fact]
    public void VmapWithPrefixAxes()
    {
        var w = F64(1, 2, 3);
        var xs = Rand(7, 3, 4);    // mapped over axis 1
        var inAxes = new Dictionary<string, object?> { ["w"] = null, ["x"] = 1 };
        var f = Vmap((Dictionary<string, Tensor> d) => (Np.Sum(d["w"] * d["x"]), d["x"] * 2.0), inAxes, (0, 1));
        var (dots, doubled) = f(new Dictionary<string, Tensor> { ["w"] = w, ["x"] = xs });
        Assert.Equal(new Shape(4), dots.Shape);
        Assert.Equal(new Shape(3, 4), doubled.Shape);
        var xh = xs.ToDoubleArray();
        for (int j = 0; j < 4; j++)
            Assert.Equal(1 * xh[j] + 2 * xh[4 + j] + 3 * xh[8 + j], dots.ToDoubleArray()[j], 12);
        Assert.Equal(xh.Select(v => v * 2), doubled.ToDoubleArray());
        // Unmapped outputs with out_axes null
        var g = Vmap((Dictionary<string, Tensor> d) => new Dictionary<string, Tensor> { ["w"] = d["w"] * 1.0, ["s"] = Np.Sum(d["x"]) },
            inAxes, new Dictionary<string, object?> { ["w"] = null, ["s"] = 0 });
        var r = g(new Dictionary<string, Tensor> { ["w"] = w, ["x"] = xs });
        Assert.Equal(new Shape(3), r["w"].Shape);
        Assert.Equal(new Shape(4), r["s"].Shape);
    }

    [Fact]
    public void VmapErrorsNameThePath()
    {
        var d = new Dictionary<string, Tensor> { ["w"] = F64(1, 2, 3), ["x"] = Rand(7, 4, 3) };
        Func<Dictionary<string, Tensor>, Tensor> f = q => q["w"] * q["x"];
        Check.Throws<ArgumentException>(() => Vmap(f, new Dictionary<string, object?> { ["w"] = 0, ["z"] = 0 }, 0)(d),
            "Vmap: in_axes", "[\"w\"], [\"z\"]", "[\"w\"], [\"x\"]");
        Check.Throws<ArgumentException>(() => Vmap(f)(d), "Vmap: inconsistent sizes", "[\"x\"]", "[\"w\"]");
        Check.Throws<ArgumentException>(() => Vmap(f, new Dictionary<string, object?> { ["w"] = null, ["x"] = 0 }, null)(d),
            "Vmap: output", "out_axes null", "depends on the mapped axis");
        Check.Throws<ArgumentException>(() => Vmap(f, new Dictionary<string, object?> { ["w"] = "x", ["x"] = 0 }, 0)(d),
            "Vmap: in_axes", "at [\"w\"]", "expected an int or null");
        Check.Throws<ArgumentException>(() => Vmap(f, (object?)new Dictionary<string, object?> { ["w"] = new[] { 0 }, ["x"] = 0 }, 0)(d),
            "Vmap: in_axes", "at [\"w\"]", "a tensor");
    }

    [Fact]
    public void JitWithTreeArgumentsHitsTheCache()
    {
        int traces = 0;
        var (jf, compiled) = JitWithInfo((Dictionary<string, object?> p) =>
        {
            traces++;
            var w = (Tensor)p["w"]!;
            int k = ((Static<int>)p["k"]!).Value;              // opted in as static (a plain int is traced)
            return (w * (double)k, Np.Sum(w));
        });
        Dictionary<string, object?> Args(Tensor w, int k) => new() { ["w"] = w, ["k"] = new Static<int>(k) };
        var (a, s) = jf(Args(F64(1, 2, 3), 2));
        Assert.Equal(new[] { 2.0, 4, 6 }, a.ToDoubleArray());
        Assert.Equal(6.0, D(s));
        var (a2, s2) = jf(Args(F64(4, 5, 6), 2));                 // same structure and types: cached
        Assert.Equal(new[] { 8.0, 10, 12 }, a2.ToDoubleArray());
        Assert.Equal(15.0, D(s2));
        Assert.Equal(1, traces);
        jf(Args(F64(4, 5, 6), 3));                                  // a static leaf changed: retrace
        Assert.Equal(2, traces);
        jf(Args(F64(4, 5), 3));                                     // a shape changed: retrace
        Assert.Equal(3, traces);
        var (a5, _) = jf(Args(F64(7, 8, 9), 3));
        Assert.Equal(new[] { 21.0, 24, 27 }, a5.ToDoubleArray());
        Assert.Equal(3, traces);
        Assert.Equal(3, compiled.TraceCount);
        Assert.Equal(3, compiled.CacheSize);

        // Two arguments, and Grad through a jitted tree function.
        int traces2 = 0;
        var jl = Jit((Dictionary<string, Tensor> p, Dictionary<string, Tensor> b) => { traces2++; return Loss(p, b); });
        var p0 = Params();
        var b0 = Batch();
        Assert.Equal(D(Loss(p0, b0)), D(jl(p0, b0)), 14);
        Assert.Equal(D(Loss(p0, b0)), D(jl(p0, b0)), 14);
        Assert.Equal(1, traces2);
        var gj = Grad((Dictionary<string, Tensor> q) => jl(q, b0))(p0);
        var ge = Grad((Dictionary<string, Tensor> q) => Loss(q, b0))(p0);
        Check.Close(ge["w1"].ToDoubleArray(), gj["w1"].ToDoubleArray(), 1e-14, 1e-14);
    }

    [Fact]
    public void JvpAndVjpOfTrees()
    {
        var a = F64(0.5, 1.5);
        var b = F64(2, -1);
        var x = new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b };
        Func<Dictionary<string, Tensor>, (Tensor, Tensor)> f = d => (d["a"] * d["b"], Lax.Sin(d["a"]));
        var t = new Dictionary<string, Tensor> { ["a"] = F64(1, 2), ["b"] = F64(3, 4) };
        var ((p1, p2), (t1, t2)) = Jvp(f, x, t);
        Assert.Equal(new[] { 1.0, -1.5 }, p1.ToDoubleArray());
        Assert.Equal(new[] { 1 * 2 + 0.5 * 3, 2 * -1 + 1.5 * 4 }, t1.ToDoubleArray());
        Check.Close(new[] { Math.Cos(0.5), 2 * Math.Cos(1.5) }, t2.ToDoubleArray(), 1e-15);
        Check.Close(new[] { Math.Sin(0.5), Math.Sin(1.5) }, p2.ToDoubleArray(), 1e-15);

        var (outs, pullback) = Vjp(f, x);
        Assert.Equal(p1.ToDoubleArray(), outs.Item1.ToDoubleArray());
        var g = pullback((F64(1, 1), F64(1, 0)));
        Check.Close(new[] { 2 + Math.Cos(0.5), -1 }, g["a"].ToDoubleArray(), 1e-15);
        Assert.Equal(new[] { 0.5, 1.5 }, g["b"].ToDoubleArray());

        Check.Throws<ArgumentException>(() => Jvp(f, x, new Dictionary<string, Tensor> { ["a"] = a }), "Jvp", "tangents", "[\"a\"], [\"b\"]", "[\"a\"]");
        Check.Throws<ArgumentException>(() => Jvp(f, x, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = F64(1) }), "Jvp", "tangent at [\"b\"]", "f64[]", "f64[2]");
        Check.Throws<ArgumentException>(() => pullback((F64(1, 1), F64(1))), "Vjp", "cotangent at [1]", "f64[]");
    }

    [Fact]
    public void EvalShapeAndMakeJaxprOfTrees()
    {
        var p = Params();
        var batch = Batch();
        var shapes = EvalShape((Dictionary<string, Tensor> q) => new Dictionary<string, object?>
        {
            ["loss"] = Loss(q, batch), ["h"] = MatMul(batch["x"], q["w1"]), ["layers"] = 2,
        }, p);
        Assert.Equal("{\"h\": f64[5,4], \"layers\": 2, \"loss\": f64[]}", shapes.ToString());
        // From abstract values only.
        var abs = new ShapeTree(Tree.Structure((p["w1"], p["b1"])), new[] { new AbstractValue(new Shape(2, 6), DType.Float32), new AbstractValue(new Shape(6), DType.Float32) });
        var outShape = EvalShape(((Tensor, Tensor) t) => MatMul(Tensor.Zeros(new Shape(3, 2)), t.Item1) + t.Item2, abs);
        Assert.Equal("f32[3,6]", outShape.ToString());
        var j = MakeJaxpr((Dictionary<string, Tensor> q) => (q["b1"] * 2.0, Np.Sum(q["w2"])), p);
        Assert.Equal(4, j.Jaxpr.InVars.Length);
        Assert.Equal(2, j.Jaxpr.OutAvals.Length);
        Assert.Equal(new Shape(4), j.Jaxpr.OutAvals[0].Shape);
    }
}
