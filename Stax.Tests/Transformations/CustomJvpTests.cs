using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transforms.CustomJvp (the custom_jvp_call primitive) and the Np functions that use it.</summary>
public class CustomJvpTests
{
    static Tensor F64(params double[] v) => Tensor.FromArray(v, v.Length);
    static double[] D(Tensor t) => t.ToDoubleArray();

    // x² whose derivative is clipped to [-1, 1]: a rule that differs from the true derivative.
    static readonly Func<Tensor, Tensor> ClippedSquare = CustomJvp(
        x => x * x,
        (x, t) => (x * x, t * Lax.Max(Lax.Min(x * 2.0, Np.FullLike(x, 1)), Np.FullLike(x, -1))),
        "clipped_square");

    // log(1 + exp(x)) with the stable derivative from the JAX docs: sigmoid(x) = 1 - 1/(1 + exp(x)).
    static readonly Func<Tensor, Tensor> Log1pExp = CustomJvp(
        x => Lax.Log1p(Lax.Exp(x)),
        (x, t) => (Lax.Log1p(Lax.Exp(x)), t * (1.0 - 1.0 / (1.0 + Lax.Exp(x)))),
        "log1pexp");

    // A two-input, two-output function whose rule is its true derivative (so finite differences agree).
    static readonly Func<Tensor[], Tensor[]> TwoByTwo = CustomJvp(
        xs => new[] { Lax.Sin(xs[0]) * xs[1], xs[0] + Lax.Exp(xs[1]) },
        (p, t) =>
        {
            var (x, y) = (p[0], p[1]);
            return (new[] { Lax.Sin(x) * y, x + Lax.Exp(y) },
                    new[] { t[0] * Lax.Cos(x) * y + t[1] * Lax.Sin(x), t[0] + t[1] * Lax.Exp(y) });
        }, "two_by_two");

    static double Clip(double v) => Math.Max(-1, Math.Min(1, v));

    [Fact]
    public void EvaluatesTheFunction()
    {
        var x = F64(-2, -0.25, 0, 0.3, 4);
        Check.Close(D(x * x), D(ClippedSquare(x)), 0, 0, "eager");
        var outs = TwoByTwo(new[] { x, x * 0.5 });
        Check.Close(D(Lax.Sin(x) * (x * 0.5)), D(outs[0]), 0, 0, "out 0");
        Check.Close(D(x + Lax.Exp(x * 0.5)), D(outs[1]), 0, 0, "out 1");
    }

    [Fact]
    public void CustomRuleIsUsedByJvpGradAndGradOfGrad()
    {
        var xs = new[] { -2, -0.25, 0, 0.3, 4 };
        var x = F64(xs);
        var (y, ty) = Jvp(ClippedSquare, x, Np.OnesLike(x));
        Check.Close(xs.Select(v => v * v).ToArray(), D(y), 0, 0, "jvp primal");
        Check.Close(xs.Select(v => Clip(2 * v)).ToArray(), D(ty), 0, 0, "jvp tangent (clipped)");

        var g = Grad(v => Np.Sum(ClippedSquare(v)))(x);
        Check.Close(xs.Select(v => Clip(2 * v)).ToArray(), D(g), 0, 0, "grad (clipped)");

        // Second derivative: d/dx clip(2x) = 2 inside the clip range, 0 outside.
        foreach (var v in xs)
        {
            var gg = Grad(Grad(s => ClippedSquare(s)))(Tensor.Scalar(v, DType.Float64));
            Assert.Equal(Math.Abs(2 * v) < 1 ? 2.0 : 0.0, gg.ToDoubleArray()[0]);
        }
    }

    [Fact]
    public void StableRuleAvoidsNaN()
    {
        var x = Tensor.FromArray(new float[] { -100, 0, 10, 100 }, 4);
        var g = Grad(v => Np.Sum(Log1pExp(v)))(x);
        var expected = new[] { -100.0, 0, 10, 100 }.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
        Check.Close(expected, D(g), 1e-6, 1e-30, "grad log1pexp");
        // The naive derivative exp(x)/(1+exp(x)) is inf/inf = NaN at 100 in float32.
        var naive = Grad(v => Np.Sum(Lax.Log1p(Lax.Exp(v))))(x);
        Assert.True(double.IsNaN(D(naive)[3]));
        // Second derivative through the custom rule: sigmoid(x)(1 - sigmoid(x)).
        var x64 = F64(-1, 0, 0.5, 2);
        var h = Transforms.Vmap(Grad(Grad(Log1pExp)))(x64);
        Check.Close(new[] { -1.0, 0, 0.5, 2 }.Select(v => { var s = 1 / (1 + Math.Exp(-v)); return s * (1 - s); }).ToArray(), D(h), 1e-12, 1e-14, "hessian");
    }

    [Fact]
    public void TrueRuleMatchesFiniteDifferences()
    {
        var x = TestData.Tensor(1, new[] { 2, 3 }, DType.Float64, -1, 1);
        var y = TestData.Tensor(2, new[] { 2, 3 }, DType.Float64, -1, 1);
        TransformCheck.Grads(TwoByTwo, new[] { x, y }, order: 2, name: "two_by_two");
        TransformCheck.Grads(xs => new[] { Log1pExp(xs[0]) }, new[] { x }, order: 2, name: "log1pexp");
    }

    [Fact]
    public void VmapMatchesLoop()
    {
        var x = TestData.Tensor(3, new[] { 4, 3 }, DType.Float64, -1, 1);
        var y = TestData.Tensor(4, new[] { 3, 4 }, DType.Float64, -1, 1);
        TransformCheck.Vmap(TwoByTwo, new[] { x, y }, new int?[] { 0, 1 }, tol: 1e-15, name: "vmap two_by_two");
        TransformCheck.Vmap(TwoByTwo, new[] { x, TestData.Tensor(12, new[] { 3 }, DType.Float64) }, new int?[] { 0, null }, tol: 1e-15, name: "vmap unmapped operand");
        TransformCheck.Vmap(xs => new[] { ClippedSquare(xs[0]) }, new[] { x }, new int?[] { 1 }, name: "vmap clipped");
    }

    [Fact]
    public void VmapComposesWithTheCustomRule()
    {
        var x = TestData.Tensor(5, new[] { 3, 4 }, DType.Float64, -1.5, 1.5);
        var clipped = D(x).Select(v => Clip(2 * v)).ToArray();
        // Grad of Vmap: the batched call is differentiated with the batched rule.
        var g1 = Grad(v => Np.Sum(Transforms.Vmap(ClippedSquare, 0)(v)))(x);
        Check.Close(clipped, D(g1), 0, 0, "grad of vmap");
        // Vmap of Grad.
        var g2 = Transforms.Vmap(Grad(v => Np.Sum(ClippedSquare(v))))(x);
        Check.Close(clipped, D(g2), 0, 0, "vmap of grad");
        // Jvp of Vmap with a partly unmapped input.
        var (_, t) = Jvp(v => Transforms.Vmap(ClippedSquare, 0)(v), x, Np.OnesLike(x));
        Check.Close(clipped, D(t), 0, 0, "jvp of vmap");
        // Vmap of a two-input rule with one input unmapped, differentiated.
        var y = TestData.Tensor(6, new[] { 4 }, DType.Float64, -1, 1);
        Func<Tensor[], Tensor[]> h = xs => new[] { Np.Sum(Transforms.Vmap(TwoByTwo, new int?[] { 0, null })(xs)[0]) };
        TransformCheck.Grads(h, new[] { x, y }, order: 2, name: "grad of vmap two_by_two");
    }

    [Fact]
    public void JitAndStaging()
    {
        var x = TestData.Tensor(7, new[] { 5 }, DType.Float64, -1.5, 1.5);
        var y = TestData.Tensor(8, new[] { 5 }, DType.Float64, -1, 1);
        TransformCheck.JitMatchesEager(TwoByTwo, new[] { x, y }, "jit");
        TransformCheck.EvalShapeMatches(TwoByTwo, new[] { x, y });
        var clipped = D(x).Select(v => Clip(2 * v)).ToArray();
        var jitted = Jit(ClippedSquare);
        Check.Close(clipped, D(Grad(v => Np.Sum(jitted(v)))(x)), 0, 0, "grad of jit");
        Check.Close(clipped, D(Jit(Grad(v => Np.Sum(ClippedSquare(v))))(x)), 0, 0, "jit of grad");
        Check.Close(clipped, D(Jit(Transforms.Vmap(Grad(ClippedSquare)))(x)), 0, 0, "jit of vmap of grad");
        Check.Close(clipped, D(Grad(v => Np.Sum(Transforms.Vmap(jitted)(v)))(x)), 0, 0, "grad of vmap of jit");

        var text = MakeJaxpr(v => ClippedSquare(v) + 1.0, x).ToString();
        Assert.Contains("custom_jvp_call[name=clipped_square", text);
        Assert.Contains("jvp=<custom>", text);
        Assert.Contains("mul", text);
        Assert.Equal(1, text.Split("custom_jvp_call").Length - 1);
    }

    [Fact]
    public void CapturedValues()
    {
        var c = F64(1, 2, 3);
        var f = CustomJvp(x => x * c, (x, t) => (x * c, t * c * 10.0), "scaled");
        var x = F64(0.5, -1, 2);
        Check.Close(new[] { 0.5, -2, 6 }, D(f(x)), 0, 0, "eager");
        Check.Close(new[] { 10.0, 20, 30 }, D(Grad(v => Np.Sum(f(v)))(x)), 0, 0, "grad with captured constant");
        Assert.Contains("num_consts=1", MakeJaxpr(f, x).ToString());
        // Differentiating with respect to a captured value is an error (as in JAX).
        Check.Throws<InvalidOperationException>(() => Grad(s => Np.Sum(CustomJvp(v => v * s, (v, t) => (v * s, t * s))(x)))(Tensor.Scalar(2, DType.Float64)),
            "custom_jvp", "closes over");
        // A captured value that is batched by an enclosing Vmap.
        var cs = TestData.Tensor(9, new[] { 4, 3 }, DType.Float64);
        var outs = Transforms.Vmap(ci => CustomJvp(v => v * ci, (v, t) => (v * ci, t * ci))(x))(cs);
        Check.Close(D(cs * x), D(outs), 0, 0, "vmap over a captured value");
    }

    [Fact]
    public void BadRulesGiveClearErrors()
    {
        var x = F64(1, 2);
        var wrongShape = CustomJvp(v => v * 2.0, (v, t) => (v * 2.0, Np.Sum(t)), "bad");
        Check.Throws<ArgumentException>(() => Jvp(wrongShape, x, x), "custom_jvp (bad)", "tangent output 0", "f64[]");
        var wrongCount = CustomJvp(xs => new[] { xs[0] }, (p, t) => (new[] { p[0], p[0] }, new[] { t[0] }), "count");
        Check.Throws<ArgumentException>(() => Jvp(wrongCount, new[] { x }, new[] { x }), "custom_jvp (count)", "1 primal outputs");
        var custom = CustomJvp(v => v * 2.0, (v, t) => (v * 2.0, t * 2.0));
        Check.Throws<ArgumentException>(() => Prims.CustomJvpCall.Bind(((Func<CustomJvpParams>)(() =>
        {
            var j = MakeJaxpr(custom, x).Jaxpr;
            return (CustomJvpParams)j.Eqns[0].Params;
        }))(), F64(1, 2, 3)), "custom_jvp_call", "takes 2 inputs (including 1 captured values), got 1");
    }

    // ---------------------------------------------------------------- Np functions

    [Fact]
    public void LogSumExpGradientIsStable()
    {
        var g = Grad(x => Np.LogSumExp(x))(Tensor.FromArray(new float[] { 1000, 1000 }, 2));
        Check.Close(new[] { 0.5, 0.5 }, D(g), 0, 0, "grad at [1000, 1000]");
        var g2 = Grad(x => Np.LogSumExp(x))(F64(0, double.NegativeInfinity, 1));
        var e = 1 + Math.E;
        Check.Close(new[] { 1 / e, 0, Math.E / e }, D(g2), 1e-15, 0, "grad with -inf entry");
        Assert.Contains("custom_jvp_call[name=logsumexp", MakeJaxpr(x => Np.LogSumExp(x), F64(1, 2)).ToString());
        // keepdims and several axes.
        var m = TestData.Tensor(10, new[] { 2, 3, 4 }, DType.Float64);
        TransformCheck.Grads(xs => new[] { Np.LogSumExp(xs[0], new[] { 0, 2 }, keepdims: true) }, new[] { m }, order: 2, name: "logsumexp");
        TransformCheck.JitMatchesEager(xs => new[] { Np.LogSumExp(xs[0], 1) }, new[] { m }, "logsumexp");
        TransformCheck.EvalShapeMatches(xs => new[] { Np.LogSumExp(xs[0], 1) }, new[] { m });
    }

    [Fact]
    public void SoftmaxAndLogSoftmaxGradients()
    {
        var m = TestData.Tensor(11, new[] { 3, 4 }, DType.Float64);
        TransformCheck.Grads(xs => new[] { Np.Softmax(xs[0]) }, new[] { m }, order: 2, name: "softmax");
        TransformCheck.Grads(xs => new[] { Np.LogSoftmax(xs[0], 0) }, new[] { m }, order: 2, name: "log_softmax");
        TransformCheck.JitMatchesEager(xs => new[] { Np.Softmax(xs[0]), Np.LogSoftmax(xs[0]) }, new[] { m }, "softmax");

        // Huge and -inf logits: finite gradients, as in JAX.
        var x = Tensor.FromArray(new float[] { 1000, float.NegativeInfinity, 1000 }, 3);
        var w = Tensor.FromArray(new float[] { 1, 5, 3 }, 3);
        var gs = D(Grad(v => Np.Sum(Np.Softmax(v) * w))(x));
        // softmax = [0.5, 0, 0.5]; d/dx_j sum(w y) = y_j (w_j - sum(w y)) = [0.5*(1-2), 0, 0.5*(3-2)].
        Check.Close(new[] { -0.5, 0, 0.5 }, gs, 1e-6, 1e-7, "softmax grad");
        var wl = Tensor.FromArray(new float[] { 1, 0, 3 }, 3);
        var gl = D(Grad(v => Np.Sum(Np.LogSoftmax(v) * wl))(x));
        // d/dx_j sum(w * log_softmax) = w_j - y_j * sum(w) = [1 - 2, 0, 3 - 2].
        Check.Close(new[] { -1.0, 0, 1 }, gl, 1e-6, 1e-7, "log_softmax grad");
        Assert.All(gs.Concat(gl), v => Assert.True(double.IsFinite(v)));
    }
}
