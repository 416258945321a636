using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

public class JacobianTests
{
    static Tensor F64(params double[] v) => Tensor.FromArray(v);
    static Tensor Unit(int n, int i) { var h = new double[n]; h[i] = 1; return Tensor.FromArray(h, n); }

    // x[i] as a scalar, and [a, b] as a vector, with primitives that have all rules in the core.
    static Tensor At(Tensor x, int i) => Np.Sum(x * Unit(x.Shape[0], i));
    static Tensor Stack2(Tensor a, Tensor b) => a * Unit(2, 0) + b * Unit(2, 1);

    // f: R^3 -> R^2, f(x) = [x0 x1 + sin x2, x0^2 x2]
    static Tensor F(Tensor x) => Stack2(At(x, 0) * At(x, 1) + Lax.Sin(At(x, 2)), At(x, 0) * At(x, 0) * At(x, 2));

    static double[] HandJacobian(double x0, double x1, double x2) => new[]
    {
        x1, x0, Math.Cos(x2),
        2 * x0 * x2, 0, x0 * x0,
    };

    [Fact]
    public void JacfwdEqualsJacrevEqualsHandDerived()
    {
        var x = F64(0.7, -1.3, 2.1);
        var jf = Jacfwd(F)(x);
        var jr = Jacrev(F)(x);
        Assert.Equal(new Shape(2, 3), jf.Shape);
        Assert.Equal(new Shape(2, 3), jr.Shape);
        var hand = HandJacobian(0.7, -1.3, 2.1);
        Check.Close(hand, jf.ToDoubleArray(), 1e-15, 1e-15, "jacfwd");
        Check.Close(hand, jr.ToDoubleArray(), 1e-15, 1e-15, "jacrev");
    }

    [Fact]
    public void JacobianShapeIsOutShapePlusInShape()
    {
        // f: (2,3) -> (4,), f(X)_k = sin(sum_ij W_kij X_ij); J_kij = cos(s_k) W_kij
        var w = TestData.Tensor(3, new[] { 4, 2, 3 }, DType.Float64, -1, 1);
        var x = TestData.Tensor(4, new[] { 2, 3 }, DType.Float64, -1, 1);
        Func<Tensor, Tensor> f = X => Lax.Sin(Np.Sum(w * Lax.Reshape(X, new Shape(1, 2, 3)), new[] { 1, 2 }));
        var s = Np.Sum(w * Lax.Reshape(x, new Shape(1, 2, 3)), new[] { 1, 2 }).ToDoubleArray();
        var wh = w.ToDoubleArray();
        var expected = new double[24];
        for (int k = 0; k < 4; k++)
            for (int ij = 0; ij < 6; ij++) expected[k * 6 + ij] = Math.Cos(s[k]) * wh[k * 6 + ij];
        foreach (var jac in new[] { Jacfwd(f)(x), Jacrev(f)(x) })
        {
            Assert.Equal(new Shape(4, 2, 3), jac.Shape);
            Check.Close(expected, jac.ToDoubleArray(), 1e-14, 1e-14);
        }
        // scalar in, scalar out
        var cube = Jacfwd(t => t * t * t)(Tensor.Scalar(2.0, DType.Float64));
        Assert.Equal(Shape.Scalar, cube.Shape);
        Assert.Equal(12.0, cube.ToDoubleArray()[0]);
        Assert.Equal(12.0, Jacrev(t => t * t * t)(Tensor.Scalar(2.0, DType.Float64)).ToDoubleArray()[0]);
        // vector in, scalar out: the gradient
        var g = Jacrev(v => Np.Sum(v * v))(F64(1, 2, 3));
        Assert.Equal(new Shape(3), g.Shape);
        Assert.Equal(new[] { 2.0, 4, 6 }, g.ToDoubleArray());
    }

    [Fact]
    public void HessianOfQuadraticFormIsAPlusATransposed()
    {
        const int n = 4;
        var a = TestData.Tensor(11, new[] { n, n }, DType.Float64, -2, 2);
        Func<Tensor, Tensor> quad = x => Np.Sum(a * Lax.Reshape(x, new Shape(n, 1)) * Lax.Reshape(x, new Shape(1, n)));
        var x0 = TestData.Tensor(12, new[] { n }, DType.Float64, -1, 1);
        var ah = a.ToDoubleArray();
        var expected = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] = ah[i * n + j] + ah[j * n + i];
        var h = Hessian(quad)(x0);
        Assert.Equal(new Shape(n, n), h.Shape);
        Check.Close(expected, h.ToDoubleArray(), 1e-14, 1e-14, "hessian");
        Check.Close(expected, Jacfwd(Jacrev(quad))(x0).ToDoubleArray(), 1e-14, 1e-14, "jacfwd(jacrev)");
        Check.Close(expected, Jacrev(Jacrev(quad))(x0).ToDoubleArray(), 1e-14, 1e-14, "jacrev(jacrev)");
        Check.Close(expected, Jacfwd(Jacfwd(quad))(x0).ToDoubleArray(), 1e-14, 1e-14, "jacfwd(jacfwd)");
        Check.Close(expected, Jacrev(Jacfwd(quad))(x0).ToDoubleArray(), 1e-14, 1e-14, "jacrev(jacfwd)");
    }

    [Fact]
    public void HessianOfNonlinearFunctionMatchesHand()
    {
        // f(x) = x0^2 x1 + sin(x1 x2): H = [[2x1, 2x0, 0], [2x0, -x2^2 s, c - x1 x2 s], [0, c - x1 x2 s, -x1^2 s]]
        Func<Tensor, Tensor> f = x => At(x, 0) * At(x, 0) * At(x, 1) + Lax.Sin(At(x, 1) * At(x, 2));
        double x0 = 0.3, x1 = -0.8, x2 = 1.7;
        double s = Math.Sin(x1 * x2), c = Math.Cos(x1 * x2);
        var expected = new[]
        {
            2 * x1, 2 * x0, 0,
            2 * x0, -x2 * x2 * s, c - x1 * x2 * s,
            0, c - x1 * x2 * s, -x1 * x1 * s,
        };
        Check.Close(expected, Hessian(f)(F64(x0, x1, x2)).ToDoubleArray(), 1e-14, 1e-14);
    }

    [Fact]
    public void JacobiansComposeWithJitAndVmap()
    {
        var x = F64(0.7, -1.3, 2.1);
        var jj = Jit(Jacrev(F))(x);
        Check.Close(Jacrev(F)(x).ToDoubleArray(), jj.ToDoubleArray(), 1e-15, 1e-15);
        var jfj = Jit(Jacfwd(F))(x);
        Check.Close(Jacfwd(F)(x).ToDoubleArray(), jfj.ToDoubleArray(), 1e-15, 1e-15);
        // Per-example Jacobians: vmap of jacrev over a batch of inputs.
        var xs = TestData.Tensor(5, new[] { 4, 3 }, DType.Float64, -1, 1);
        var batched = Vmap(Jacrev(F))(xs);
        Assert.Equal(new Shape(4, 2, 3), batched.Shape);
        var xh = xs.ToDoubleArray();
        for (int b = 0; b < 4; b++)
            Check.Close(HandJacobian(xh[3 * b], xh[3 * b + 1], xh[3 * b + 2]), batched[b].ToDoubleArray(), 1e-15, 1e-15, $"example {b}");
    }

    [Fact]
    public void JacobiansRejectIntegerInputs()
    {
        var xi = Tensor.FromArray(new[] { 1, 2 });
        Check.Throws<ArgumentException>(() => Jacfwd(x => x * x)(xi), "Jacfwd", "int32", "floating-point");
        Check.Throws<ArgumentException>(() => Jacrev(x => x * x)(xi), "Jacrev", "int32", "floating-point");
        Check.Throws<ArgumentException>(() => Jacrev(x => Lax.ConvertElementType(x, DType.Int32))(F64(1, 2)), "Jacrev", "output", "int32");
    }
}
