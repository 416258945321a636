namespace Stax.Nn;

// More of jax.nn (jax/_src/nn/functions.py), composed of existing operations in jax.nn's order, so values
// and derivatives follow JAX's conventions (custom JVPs where jax.nn has them).
public static partial class Activations
{
    /// <summary>jax.nn.relu6: <c>min(max(x, 0), 6)</c>; as jax.nn's custom JVP the derivative is 1 strictly inside (0, 6) and 0 at both kinks.</summary>
    public static Tensor Relu6(Tensor x) => Relu6Fn(x);

    static readonly Func<Tensor, Tensor> Relu6Fn = Transforms.CustomJvp(
        x => Np.Minimum(Np.Maximum(x, 0), 6.0),
        (x, t) => (Relu6Fn!(x), Np.Where(Np.BitwiseAnd(x > 0, x < 6), t, Np.ZerosLike(t))), "relu6");

    /// <summary>jax.nn.silu (= swish): <c>x * sigmoid(x)</c>.</summary>
    public static Tensor Silu(Tensor x) => x * Np.Sigmoid(x);

    /// <summary>jax.nn.swish: the same as <see cref="Silu"/>.</summary>
    public static Tensor Swish(Tensor x) => Silu(x);

    /// <summary>jax.nn.log_sigmoid: <c>-softplus(-x)</c>, finite for huge |x|.</summary>
    public static Tensor LogSigmoid(Tensor x) => -Softplus(-x);

    /// <summary>jax.nn.celu: <c>max(x, 0) + alpha * expm1(min(x, 0) / alpha)</c>.</summary>
    public static Tensor Celu(Tensor x, double alpha = 1.0) => Np.Maximum(x, 0.0) + alpha * Np.Expm1(Np.Minimum(x, 0.0) / alpha);

    /// <summary>jax.nn.hard_tanh: x clipped to [-1, 1] (written as jax.nn's nested where, so the derivative is 1 at ±1).</summary>
    public static Tensor HardTanh(Tensor x) => Np.Where(x > 1, 1, Np.Where(x < -1, -1, x));

    /// <summary>jax.nn.soft_sign: <c>x / (|x| + 1)</c>.</summary>
    public static Tensor SoftSign(Tensor x) => x / (Np.Abs(x) + 1);

    /// <summary>jax.nn.mish: <c>x * tanh(softplus(x))</c>.</summary>
    public static Tensor Mish(Tensor x) => x * Np.Tanh(Softplus(x));

    /// <summary>jax.nn.hard_sigmoid: <c>relu6(x + 3) / 6</c>.</summary>
    public static Tensor HardSigmoid(Tensor x) => Relu6(x + 3.0) / 6.0;

    /// <summary>jax.nn.hard_silu (= hard_swish): <c>x * hard_sigmoid(x)</c>.</summary>
    public static Tensor HardSilu(Tensor x) => x * HardSigmoid(x);

    /// <summary>jax.nn.hard_swish: the same as <see cref="HardSilu"/>.</summary>
    public static Tensor HardSwish(Tensor x) => HardSilu(x);

    /// <summary>jax.nn.glu: splits <paramref name="axis"/> into halves a, b and returns <c>a * sigmoid(b)</c>; the axis length must be even.</summary>
    public static Tensor Glu(Tensor x, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = x.Shape.Axis(axis, "glu");
        if (x.Shape[a] % 2 != 0)
            throw new ArgumentException($"glu: the length of axis {axis} must be even, got shape {x.Shape}");
        var halves = Np.Split(x, 2, a);
        return halves[0] * Np.Sigmoid(halves[1]);
    }

    /// <summary>jax.nn.standardize over the last axis; see <see cref="Standardize(Tensor, int[], Tensor?, Tensor?, double, string)"/>.</summary>
    public static Tensor Standardize(Tensor x, int axis = -1, Tensor? mean = null, Tensor? variance = null, double epsilon = 1e-5, string algorithm = "fast")
        => Standardize(x, new[] { axis }, mean, variance, epsilon, algorithm);

    /// <summary>
    /// jax.nn.standardize: <c>(x - mean) * rsqrt(variance + epsilon)</c> over <paramref name="axes"/>. Missing
    /// statistics are computed with keepdims; the variance as jax's default <c>"fast"</c> algorithm does,
    /// <c>max(mean(x²) - mean², 0)</c>, or as <c>mean((x - mean)²)</c> with <c>"stable"</c>.
    /// </summary>
    public static Tensor Standardize(Tensor x, int[] axes, Tensor? mean = null, Tensor? variance = null, double epsilon = 1e-5, string algorithm = "fast")
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(axes);
        if (algorithm is not ("fast" or "stable"))
            throw new ArgumentException($"standardize: unknown algorithm '{algorithm}', expected 'fast' or 'stable'");
        mean ??= Np.Mean(x, axes, keepdims: true);
        if (variance is null)
        {
            if (algorithm == "stable")
            {
                var d = x - mean;
                variance = Np.Mean(d * d, axes, keepdims: true);
            }
            else
                // jax: the one-pass formula can go slightly negative; clip to 0 before the rsqrt.
                variance = Np.Maximum(Np.Mean(x * x, axes, keepdims: true) - mean * mean, 0);
        }
        return (x - mean) * Lax.Rsqrt(variance + epsilon);
    }

    /// <summary>
    /// jax.nn.one_hot: a new axis of length <paramref name="numClasses"/> at <paramref name="axis"/> (default: last)
    /// holding 1 where the class equals <c>x</c> and 0 elsewhere; values outside [0, numClasses) give all zeros.
    /// </summary>
    public static Tensor OneHot(Tensor x, int numClasses, DType dtype = DType.Float32, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        int outRank = x.Rank + 1;
        int a = axis < 0 ? axis + outRank : axis;
        if (a < 0 || a >= outRank)
            throw new ArgumentException($"one_hot: axis {axis} is out of range for a result of rank {outRank}");
        var r = Np.OneHot(x, numClasses, dtype);
        return a == x.Rank ? r : Np.MoveAxis(r, x.Rank, a);
    }
}
