using Stax.Nn;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Nn;

/// <summary>
/// jax.nn activations: values against their formulas in double, and derivatives at the kinks with JAX's
/// conventions (jax/_src/nn/functions.py: relu and relu6 have custom JVPs, elu evaluates expm1 at where(x &gt; 0, 0, x),
/// softplus is logaddexp(x, 0) with its custom JVP, and max/min split ties evenly).
/// </summary>
public class ActivationTests
{
    static Tensor F(params double[] xs) => Tensor.FromArray(xs.Select(x => (float)x).ToArray(), xs.Length);

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    static void Values(Func<Tensor, Tensor> f, Func<double, double> expected, double[] xs, double rtol = 1e-6, double atol = 1e-7)
        => Check.Close(xs.Select(expected).ToArray(), f(F(xs)).ToDoubleArray(), rtol, atol);

    /// <summary>Elementwise derivatives of an elementwise function, eagerly and under Jit and Vmap.</summary>
    static void Derivatives(Func<Tensor, Tensor> f, double[] xs, double[] expected, double rtol = 1e-6, double atol = 1e-7)
    {
        var grad = Transforms.Grad(x => Np.Sum(f(x)));
        Check.Close(expected, grad(F(xs)).ToDoubleArray(), rtol, atol, "grad");
        Check.Close(expected, Transforms.Jit(grad)(F(xs)).ToDoubleArray(), rtol, atol, "jit(grad)");
        var perElement = Transforms.Vmap(Transforms.Grad(f));
        Check.Close(expected, perElement(F(xs)).ToDoubleArray(), rtol, atol, "vmap(grad)");
    }

    static readonly double[] Xs = { -50, -6.5, -3, -1, -0.25, 0, 0.3, 1, 2.5, 6, 7, 60 };

    [Fact]
    public void ReluDerivativeIsZeroAtZero()
    {
        Derivatives(Np.Relu, new[] { -1, 0, 1e-3, 2.0 }, new[] { 0, 0, 1, 1.0 });
        Derivatives(x => Layers.Relu.Apply(Array.Empty<object?>(), x, training: false), new[] { 0.0, 1.0 }, new[] { 0.0, 1.0 });
        // Second derivative: the custom rule is linear in the tangent with a step coefficient, so 0 everywhere.
        var g2 = Transforms.Grad((Tensor x) => Transforms.Grad((Tensor y) => Np.Sum(Np.Relu(y)))(x).Sum())(F(-1, 0, 1));
        Check.Close(new[] { 0.0, 0, 0 }, g2.ToDoubleArray());
        Assert.Equal(DType.Int32, Np.Relu(Tensor.FromArray(new[] { -2, 3 }, 2)).DType);
    }

    [Fact]
    public void Relu6ClipsAndHasZeroDerivativeAtBothKinks()
    {
        Values(Activations.Relu6, x => Math.Min(Math.Max(x, 0), 6), Xs);
        Derivatives(Activations.Relu6, new[] { -1, 0, 3, 6, 7.0 }, new[] { 0, 0, 1, 0, 0.0 });
    }

    [Fact]
    public void EluDerivativeAtZeroIsAlpha()
    {
        Values(x => Activations.Elu(x, 2), x => x > 0 ? x : 2 * (Math.Exp(x) - 1), Xs);
        Derivatives(x => Activations.Elu(x), new[] { -1, 0, 1.0 }, new[] { Math.Exp(-1), 1, 1 });
        Derivatives(x => Activations.Elu(x, 2), new[] { -1, 0, 1.0 }, new[] { 2 * Math.Exp(-1), 2, 1 });
        const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
        Derivatives(Activations.Selu, new[] { 0.0, 1 }, new[] { scale * alpha, scale });
    }

    [Fact]
    public void SoftplusAndLogSigmoidAreStableAndDifferentiateAsLogaddexp()
    {
        Values(Activations.Softplus, Softplus, Xs);
        Values(Activations.LogSigmoid, x => -Softplus(-x), Xs, atol: 1e-7);
        // softplus' = sigmoid, 0.5 at 0; at ±inf the rule's replace_inf gives 1 and 0, not NaN.
        double[] xs = { double.NegativeInfinity, -3, 0, 2, double.PositiveInfinity };
        Derivatives(Activations.Softplus, xs, xs.Select(Sigmoid).ToArray());
        Derivatives(Activations.LogSigmoid, xs, xs.Select(x => Sigmoid(-x)).ToArray());
        Values(Activations.Softplus, Softplus, new[] { double.NegativeInfinity, double.PositiveInfinity });
    }

    [Fact]
    public void SiluSwishAndMish()
    {
        Values(Activations.Silu, x => x * Sigmoid(x), Xs);
        Values(Activations.Swish, x => x * Sigmoid(x), Xs);
        Values(Activations.Mish, x => x * Math.Tanh(Softplus(x)), Xs);
        Derivatives(Activations.Silu, new[] { 0.0, 1 }, new[] { 0.5, Sigmoid(1) * (1 + 1 * (1 - Sigmoid(1))) });
        // mish'(0) = tanh(softplus(0)) = tanh(log 2) = 0.6.
        Derivatives(Activations.Mish, new[] { 0.0 }, new[] { 0.6 });
    }

    [Fact]
    public void CeluSplitsTheTiesOfMaxAndMin()
    {
        Values(x => Activations.Celu(x, 2), x => Math.Max(x, 0) + 2 * (Math.Exp(Math.Min(x, 0) / 2) - 1), Xs);
        // At 0 both max and min tie: 0.5 * 1 + alpha * e^0 * 0.5 / alpha = 1.
        Derivatives(x => Activations.Celu(x, 2), new[] { -2, 0, 1.0 }, new[] { Math.Exp(-1), 1, 1 });
    }

    [Fact]
    public void HardTanhSoftSignHardSigmoidHardSwish()
    {
        Values(Activations.HardTanh, x => Math.Clamp(x, -1, 1), Xs);
        Derivatives(Activations.HardTanh, new[] { -2, -1, 0, 1, 2.0 }, new[] { 0, 1, 1, 1, 0.0 });
        Values(Activations.SoftSign, x => x / (Math.Abs(x) + 1), Xs);
        Derivatives(Activations.SoftSign, new[] { -1, 0, 3.0 }, new[] { 0.25, 1, 1 / 16.0 });
        Values(Activations.HardSigmoid, x => Math.Min(Math.Max(x + 3, 0), 6) / 6, Xs);
        Derivatives(Activations.HardSigmoid, new[] { -4, -3, 0, 3, 4.0 }, new[] { 0, 0, 1 / 6.0, 0, 0 });
        Values(Activations.HardSwish, x => x * Math.Min(Math.Max(x + 3, 0), 6) / 6, Xs);
        Values(Activations.HardSilu, x => x * Math.Min(Math.Max(x + 3, 0), 6) / 6, Xs);
        // d/dx x * hard_sigmoid(x) = hard_sigmoid(x) + x * hard_sigmoid'(x): 0.5 at 0; 1 at 3 (the relu6 kink gives 0).
        Derivatives(Activations.HardSwish, new[] { -3, 0, 1, 3.0 }, new[] { 0, 0.5, 4 / 6.0 + 1 / 6.0, 1 });
        Derivatives(x => Activations.LeakyRelu(x), new[] { -1, 0, 1.0 }, new[] { 0.01, 1, 1 });
    }

    [Fact]
    public void GluGatesTheFirstHalfWithTheSecond()
    {
        double[] x = { 1, -2, 0.5, 3, 0, -1, 2, 4 };
        var t = Tensor.FromArray(x.Select(v => (float)v).ToArray(), 2, 4);
        Check.Close(new[] { 1 * Sigmoid(0.5), -2 * Sigmoid(3), 0 * Sigmoid(2), -1 * Sigmoid(4) }, Activations.Glu(t).ToDoubleArray(), 1e-6);
        Check.Close(new[] { 1 * Sigmoid(0), -2 * Sigmoid(-1), 0.5 * Sigmoid(2), 3 * Sigmoid(4) }, Activations.Glu(t, axis: 0).ToDoubleArray(), 1e-6);
        Check.Throws<ArgumentException>(() => Activations.Glu(Tensor.Zeros(new Shape(3))), "glu", "even");
    }

    [Fact]
    public void StandardizeMatchesTheTwoPassFormula()
    {
        double[][] rows = { new[] { 1.0, 2, 4, 9 }, new[] { -3.0, -3, 5, 0.5 } };
        var t = Tensor.FromArray(rows.SelectMany(r => r).Select(v => (float)v).ToArray(), 2, 4);
        double[] Standard(double[] r, double eps)
        {
            double m = r.Average(), v = r.Average(x => (x - m) * (x - m));
            return r.Select(x => (x - m) / Math.Sqrt(v + eps)).ToArray();
        }
        var expected = rows.SelectMany(r => Standard(r, 1e-5)).ToArray();
        Check.Close(expected, Activations.Standardize(t).ToDoubleArray(), 1e-5, 1e-6, "fast");
        Check.Close(expected, Activations.Standardize(t, algorithm: "stable").ToDoubleArray(), 1e-5, 1e-6, "stable");
        var cols = Enumerable.Range(0, 4).Select(j => new[] { rows[0][j], rows[1][j] }).Select(c => Standard(c, 0.1)).ToArray();
        Check.Close(new[] { 0, 1 }.SelectMany(i => cols.Select(c => c[i])).ToArray(), Activations.Standardize(t, 0, epsilon: 0.1).ToDoubleArray(), 1e-5, 1e-6, "axis 0");
        // Given statistics are used as they are.
        Check.Close(rows.SelectMany(r => r.Select(x => (x - 1) / Math.Sqrt(4 + 1e-5))).ToArray(),
            Activations.Standardize(t, mean: Tensor.Scalar(1.0), variance: Tensor.Scalar(4.0)).ToDoubleArray(), 1e-6, 1e-6, "given");
        // A constant row: the fast variance is clipped at 0, so the result is 0, not NaN.
        Check.Close(new[] { 0.0, 0, 0 }, Activations.Standardize(Tensor.Full(new Shape(3), 1e3)).ToDoubleArray(), 0, 1e-6, "constant");
    }

    [Fact]
    public void OneHotTakesAnAxisAndGivesZerosOutOfRange()
    {
        var labels = Tensor.FromArray(new[] { 2, 0, -1, 3 }, 4);
        var last = Activations.OneHot(labels, 3);
        Assert.Equal(new Shape(4, 3), last.Shape);
        Check.Close(new double[] { 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, last.ToDoubleArray());
        var first = Activations.OneHot(labels, 3, axis: 0);
        Assert.Equal(new Shape(3, 4), first.Shape);
        Check.Close(new double[] { 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, first.ToDoubleArray());
        Assert.Equal(DType.Int32, Activations.OneHot(labels, 3, DType.Int32).DType);
        Check.Close(new double[] { 0, 1 }, Activations.OneHot(Tensor.FromArray(new[] { 1f }, 1), 2).ToDoubleArray(), 0, 0, "float labels");
        Check.Throws<ArgumentException>(() => Activations.OneHot(labels, 3, axis: 2), "one_hot", "axis");
    }
}
