using Stax.Tests.Infrastructure;
using Xunit;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>JVP and batching rules of the special-function primitives, against their published derivatives.</summary>
public class SpecialFunctionRuleTests
{
    static readonly double[] Xs = { -3.5, -1.2, -0.3, 0, 0.4, 1.1, 2.7, 6 };

    static void GradMatches(Func<Tensor, Tensor> f, Func<double, double> derivative, double[] xs, double rtol = 2e-6)
    {
        var x = Tensor.FromArray(xs.Select(v => (float)v).ToArray());
        var g = Grad(v => Np.Sum(f(v)))(x).ToArray<float>();
        for (int i = 0; i < xs.Length; i++)
        {
            double e = derivative((float)xs[i]);
            Assert.True(Math.Abs(g[i] - e) <= 1e-30 + rtol * Math.Abs(e), $"d/dx at {xs[i]}: got {g[i]:R}, expected {e:R}");
        }
        // Batching: vmap over rows equals the whole-array application.
        var m = Np.Reshape(Tensor.FromArray(xs.Concat(xs).Select(v => (float)v).ToArray()), 2, xs.Length);
        Assert.Equal(f(m).ToArray<float>(), Vmap(f)(m).ToArray<float>());
    }

    [Fact]
    public void ErfcDerivativeIsMinusTwoOverSqrtPiTimesGaussian()
        => GradMatches(Lax.Erfc, x => -2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x), Xs);

    static readonly double[] Unit = { -0.9, -0.5, -0.1, 0, 0.3, 0.7, 0.95 };
    static readonly double[] AboveOne = { 1.05, 1.5, 3, 10, 100 };

    [Fact]
    public void TrigonometricAndHyperbolicDerivativesAreTheTextbookOnes()
    {
        GradMatches(Lax.Tan, x => 1 / (Math.Cos(x) * Math.Cos(x)), Xs.Where(x => Math.Abs(x) < 1.5).ToArray());
        GradMatches(Lax.Asin, x => 1 / Math.Sqrt(1 - x * x), Unit);
        GradMatches(Lax.Acos, x => -1 / Math.Sqrt(1 - x * x), Unit);
        GradMatches(Lax.Atan, x => 1 / (1 + x * x), Xs);
        GradMatches(Lax.Sinh, Math.Cosh, Xs);
        GradMatches(Lax.Cosh, Math.Sinh, Xs);
        GradMatches(Lax.Asinh, x => 1 / Math.Sqrt(x * x + 1), Xs);
        GradMatches(Lax.Acosh, x => 1 / Math.Sqrt(x * x - 1), AboveOne, 1e-5);
        GradMatches(Lax.Atanh, x => 1 / (1 - x * x), Unit);
        GradMatches(Lax.Cbrt, x => 1 / (3 * Math.Cbrt(x * x)), Xs.Where(x => x != 0).ToArray());
    }

    [Fact]
    public void ExactGeluDerivativeIsPhiPlusXTimesDensity()
        => GradMatches(v => Stax.Nn.Activations.Gelu(v, approximate: false),
            x => 0.5 * Stax.Tests.Reference.Ref.RefErfc(-x / Math.Sqrt(2)) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), Xs, 1e-5);
}
