using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of reduce_max/min/prod, argmax/argmin and the cumulative reductions,
/// and the gradients of logsumexp/softmax/log_softmax.</summary>
public class ReductionRuleTests
{
    static Tensor F(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64);

    static Tensor Batched(Tensor x, int axis, int seed)
    {
        var shape = x.Shape.ToArray().ToList();
        shape.Insert(axis, 3);
        return TestData.Tensor(seed, shape.ToArray(), x.DType);
    }

    /// <summary>Grads (order 2, when differentiable), Vmap at every batch position, Jit and EvalShape.</summary>
    static void All(string name, Func<Tensor[], Tensor[]> f, Tensor x, bool grads = true, double vtol = 1e-13)
    {
        if (grads) TransformCheck.Grads(f, new[] { x }, order: 2, name: name);
        for (int ax = 0; ax <= x.Rank; ax++)
            TransformCheck.Vmap(f, new[] { Batched(x, ax, 50 + ax) }, new int?[] { ax }, tol: vtol, name: $"{name} in_axes={ax}");
        TransformCheck.JitMatchesEager(f, new[] { x }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x });
    }

    [Fact]
    public void ReduceMaxMin()
    {
        var x = F(1, 3, 4, 2);
        All("reduce_max", xs => new[] { Lax.ReduceMax(xs[0] * xs[0], 1), Lax.ReduceMax(xs[0], 0, 2) }, x);
        All("reduce_min", xs => new[] { Lax.ReduceMin(xs[0] * xs[0], 2, 0), Lax.ReduceMin(xs[0], 1) }, x);
        All("reduce_max all", xs => new[] { Lax.ReduceMax(xs[0], 0, 1, 2) }, x);
        // Integer and bool operands: no tangent, but vmap/jit/eval_shape work.
        var xi = TestData.Tensor(2, new[] { 3, 4 }, DType.Int32, -5, 5);
        All("reduce_max int", xs => new[] { Lax.ReduceMax(xs[0], 1), Lax.ReduceMin(xs[0], 0) }, xi, grads: false, vtol: 0);
        TransformCheck.Grads(xs => new[] { Lax.ReduceMax(xi, 1), Lax.ReduceMax(xs[0], 1) }, new[] { x.Reshape(3, 8) }, order: 1, name: "mixed");
    }

    [Fact]
    public void ReduceMaxTiesAverageTheTangent()
    {
        var x = Tensor.FromArray(new double[] { 1, 3, 3, 2, 5, 5, 5, -1 }, 2, 4);
        var t = Tensor.FromArray(new double[] { 10, 1, 2, 100, 3, 6, 9, 100 }, 2, 4);
        var (y, ty) = Jvp(v => Lax.ReduceMax(v, 1), x, t);
        Check.Close(new double[] { 3, 5 }, y.ToDoubleArray(), 0, 0, "max");
        Check.Close(new double[] { 1.5, 6 }, ty.ToDoubleArray(), 1e-15, 1e-15, "tie tangent");
        var g = Grad(v => Lax.ReduceSum(Lax.ReduceMin(v, 1), 0))(x);
        Check.Close(new double[] { 1, 0, 0, 0, 0, 0, 0, 1 }, g.ToDoubleArray(), 0, 0, "reduce_min grad");
        var g2 = Grad(v => Lax.ReduceSum(Lax.ReduceMax(v, 1), 0))(x);
        Check.Close(new double[] { 0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0 }, g2.ToDoubleArray(), 1e-15, 1e-15, "reduce_max grad ties");
    }

    [Fact]
    public void ReduceProd()
    {
        var x = F(3, 3, 4, 2);
        All("reduce_prod", xs => new[] { Lax.ReduceProd(xs[0], 1), Lax.ReduceProd(xs[0], 2, 0), Lax.ReduceProd(xs[0], 0, 1, 2) }, x);
        // Exact zeros: one zero gives the product of the others there, two zeros give zero gradient.
        var z = Tensor.FromArray(new double[] { 2, 0, 3, 4, 0, 0, 5, 1, 7, 0.5, 2, 3 }, 3, 4);
        All("reduce_prod zeros", xs => new[] { Lax.ReduceProd(xs[0], 1), Lax.ReduceProd(xs[0], 0) }, z);
        var g = Grad(v => Lax.ReduceSum(Lax.ReduceProd(v, 1), 0))(z);
        Check.Close(new double[] { 0, 24, 0, 0, 0, 0, 0, 0, 3, 42, 10.5, 7 }, g.ToDoubleArray(), 1e-14, 1e-14, "reduce_prod grad at zeros");
        var empty = F(4, 2, 0);
        All("reduce_prod empty", xs => new[] { Lax.ReduceProd(xs[0], 1) }, empty);
    }

    [Fact]
    public void ArgmaxArgmin()
    {
        var x = F(5, 3, 4, 5);
        All("argmax", xs => new[] { Lax.Argmax(xs[0], 1), Lax.Argmin(xs[0], 2, DType.UInt32), Lax.ReduceSum(xs[0] * xs[0], 0) }, x, vtol: 0);
        All("argmin axis 0", xs => new[] { Lax.Argmin(xs[0], 0) }, x, grads: false, vtol: 0);
        // A differentiable function that uses argmax as data: the index gets no tangent.
        TransformCheck.Grads(xs => new[] { Lax.ConvertElementType(Lax.Argmax(xs[0], 1), DType.Float64) * Lax.ReduceMax(xs[0], 1) },
            new[] { F(6, 3, 4) }, order: 2, name: "argmax as data");
    }

    [Fact]
    public void Cumulative()
    {
        var x = F(7, 3, 5, 2);
        foreach (var rev in new[] { false, true })
        {
            All($"cumsum reverse={rev}", xs => new[] { Lax.Cumsum(xs[0] * xs[0], 1, rev), Lax.Cumsum(xs[0], 0, rev) }, x);
            All($"cumprod reverse={rev}", xs => new[] { Lax.Cumprod(xs[0], 1, rev), Lax.Cumprod(xs[0], 2, rev) }, x);
            All($"cummax reverse={rev}", xs => new[] { Lax.Cummax(xs[0] * xs[0], 1, rev), Lax.Cummax(xs[0], 0, rev) }, x);
            All($"cummin reverse={rev}", xs => new[] { Lax.Cummin(xs[0], 1, rev), Lax.Cummin(xs[0], 2, rev) }, x);
        }
        // Longer scans (several doubling steps, non-power-of-two length).
        var xl = TestData.Tensor(8, new[] { 2, 13 }, DType.Float64, 0.5, 1.5);
        All("cumprod long", xs => new[] { Lax.Cumprod(xs[0], 1) }, xl);
        All("cummax long", xs => new[] { Lax.Cummax(xs[0], 1, true) }, F(9, 2, 13));
        All("cumsum empty", xs => new[] { Lax.Cumsum(xs[0], 1), Lax.Cumprod(xs[0], 1), Lax.Cummin(xs[0], 1) }, F(10, 2, 0));
        var xi = TestData.Tensor(11, new[] { 3, 4 }, DType.Int32, -5, 5);
        All("cumulative int", xs => new[] { Lax.Cumsum(xs[0], 1), Lax.Cumprod(xs[0], 0), Lax.Cummax(xs[0], 1), Lax.Cummin(xs[0], 0, true) }, xi, grads: false, vtol: 0);
    }

    [Fact]
    public void CumprodIsExactAtZeros()
    {
        var x = Tensor.FromArray(new double[] { 2, 0, 3, 0, 5 }, 5);
        var t = Tensor.FromArray(new double[] { 1, 1, 1, 1, 1 }, 5);
        var (_, ty) = Jvp(v => Lax.Cumprod(v), x, t);
        // y = [2, 0, 0, 0, 0]; dy_i = sum_j prod_{k<=i, k!=j} x_k.
        Check.Close(new double[] { 1, 2, 6, 0, 0 }, ty.ToDoubleArray(), 0, 0, "cumprod jvp at zeros");
        var (_, tyr) = Jvp(v => Lax.Cumprod(v, 0, true), x, t);
        Check.Close(new double[] { 0, 0, 15, 5, 1 }, tyr.ToDoubleArray(), 0, 0, "reverse cumprod jvp at zeros");
        TransformCheck.Grads(xs => new[] { Lax.Cumprod(xs[0], 1) }, new[] { Tensor.FromArray(new double[] { 2, 0, 3, 0.5, 1, 0, 0, 4 }, 2, 4) },
            order: 2, name: "cumprod zeros");
    }

    [Fact]
    public void CummaxTangentFollowsTheRunningMax()
    {
        var x = Tensor.FromArray(new double[] { 1, 3, 2, 5, 4 }, 5);
        var t = Tensor.FromArray(new double[] { 10, 20, 30, 40, 50 }, 5);
        Check.Close(new double[] { 10, 20, 20, 40, 40 }, Jvp(v => Lax.Cummax(v), x, t).Tangent.ToDoubleArray(), 0, 0, "cummax");
        Check.Close(new double[] { 10, 10, 10, 10, 10 }, Jvp(v => Lax.Cummin(v), x, t).Tangent.ToDoubleArray(), 0, 0, "cummin");
        Check.Close(new double[] { 40, 40, 40, 40, 50 }, Jvp(v => Lax.Cummax(v, 0, true), x, t).Tangent.ToDoubleArray(), 0, 0, "reverse cummax");
        var g = Grad(v => Lax.ReduceSum(Lax.Cummax(v), 0))(x);
        Check.Close(new double[] { 1, 2, 0, 2, 0 }, g.ToDoubleArray(), 0, 0, "cummax grad");
    }

    [Fact]
    public void VmapOfGradients()
    {
        // The JVP formulations (masks, prefix products, doubling scans) batch too.
        Func<Tensor[], Tensor[]> grad = xs => Grad((Tensor[] ys) => Lax.ReduceSum(Lax.Add(Lax.Add(Lax.ReduceProd(ys[0], 1), Lax.ReduceMax(ys[0], 1)),
            Lax.Add(Lax.ReduceSum(Lax.Cummax(ys[0], 1), 1), Lax.ReduceSum(Lax.Cumprod(ys[0], 1, true), 1))), 0))(xs);
        var x = TestData.Tensor(15, new[] { 2, 3, 6 }, DType.Float64, 0.5, 1.5);
        TransformCheck.Vmap(grad, new[] { x }, new int?[] { 1 }, tol: 1e-12, name: "vmap(grad(reductions))");
        TransformCheck.Vmap(grad, new[] { x }, new int?[] { 2 }, tol: 1e-12, name: "vmap(grad(reductions)) last");
    }

    [Fact]
    public void LogSumExpSoftmaxGradients()
    {
        foreach (var x in new[] { F(12, 2, 5), Lax.Add(F(13, 2, 5), Np.FullLike(F(13, 2, 5), 1000)) })
        {
            // d logsumexp / dx = softmax
            var g = Grad(v => Lax.ReduceSum(Np.LogSumExp(v, 1), 0))(x);
            var sm = Np.Softmax(x, 1);
            Assert.DoesNotContain(g.ToDoubleArray(), double.IsNaN);
            Check.Close(sm.ToDoubleArray(), g.ToDoubleArray(), 1e-14, 1e-14, "grad logsumexp == softmax");
            // d sum(w * log_softmax) / dx = w - softmax * sum(w) per row; with w = 1 the rows sum to 0.
            var w = F(14, 2, 5);
            var gl = Grad(v => Lax.ReduceSum(Lax.Mul(w, Np.LogSoftmax(v)), 0, 1))(x);
            var sw = Lax.ReduceSum(w, 1);
            var expected = Lax.Sub(w, Lax.Mul(sm, Lax.BroadcastInDim(sw, new Shape(2, 5), 0)));
            Assert.DoesNotContain(gl.ToDoubleArray(), double.IsNaN);
            Check.Close(expected.ToDoubleArray(), gl.ToDoubleArray(), 1e-13, 1e-13, "grad log_softmax");
            var g1 = Grad(v => Lax.ReduceSum(Np.LogSoftmax(v), 0, 1))(x);
            foreach (var rowSum in Lax.ReduceSum(g1, 1).ToDoubleArray()) Assert.True(Math.Abs(rowSum) < 1e-13, $"log_softmax gradient row sum {rowSum}");
            // The softmax Jacobian is singular along ones: grad of sum(softmax) is zero.
            var gs = Grad(v => Lax.ReduceSum(Np.Softmax(v), 0, 1))(x);
            Check.Close(new double[10], gs.ToDoubleArray(), 1e-14, 1e-14, "grad sum softmax");
            TransformCheck.Grads(xs => new[] { Np.LogSumExp(xs[0], 1), Np.Softmax(xs[0]), Np.LogSoftmax(xs[0], 0) }, new[] { x }, order: 2, name: "logsumexp/softmax");
        }
    }
}
