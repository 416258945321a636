namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>tanh.</summary>
    public static readonly Module Tanh = Module.Function("Tanh", Np.Tanh);
    /// <summary>max(x, 0).</summary>
    public static readonly Module Relu = Module.Function("Relu", Np.Relu);
    /// <summary>e^x.</summary>
    public static readonly Module Exp = Module.Function("Exp", Np.Exp);
    /// <summary>log_softmax over the last axis.</summary>
    public static readonly Module LogSoftmax = Module.Function("LogSoftmax", x => Np.LogSoftmax(x, axis: -1));
    /// <summary>softmax over the last axis.</summary>
    public static readonly Module Softmax = Module.Function("Softmax", x => Np.Softmax(x, axis: -1));
    /// <summary>log(1 + e^x), computed stably.</summary>
    public static readonly Module Softplus = Module.Function("Softplus", Activations.Softplus);
    /// <summary>1 / (1 + e^-x).</summary>
    public static readonly Module Sigmoid = Module.Function("Sigmoid", Np.Sigmoid);
    /// <summary>x for x &gt; 0, e^x - 1 otherwise.</summary>
    public static readonly Module Elu = Module.Function("Elu", x => Activations.Elu(x));
    /// <summary>x for x &gt;= 0, 0.01 x otherwise (stax's default slope).</summary>
    public static readonly Module LeakyRelu = Module.Function("LeakyRelu", x => Activations.LeakyRelu(x));
    /// <summary>Scaled ELU with the self-normalising constants.</summary>
    public static readonly Module Selu = Module.Function("Selu", Activations.Selu);
    /// <summary>GELU, tanh approximation (stax's and jax.nn.gelu's default).</summary>
    public static readonly Module Gelu = Module.Function("Gelu", x => Activations.Gelu(x));
}

/// <summary>Activation functions (jax.nn), as tensor functions, with jax.nn's derivatives at the kinks.</summary>
public static partial class Activations
{
    /// <summary>
    /// log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x| (jax.nn.softplus = logaddexp(x, 0)).
    /// Differentiated as jnp.logaddexp's custom JVP, <c>t * exp(x - softplus(x))</c> (= sigmoid(x), 0.5 at 0).
    /// </summary>
    public static Tensor Softplus(Tensor x) => SoftplusFn(x);

    static readonly Func<Tensor, Tensor> SoftplusFn = Transforms.CustomJvp(
        x => Np.Maximum(x, 0.0) + Np.Log1p(Np.Exp(-Np.Abs(x))),
        // jax/_src/lax/other.py _logaddexp_jvp: exp(replace_inf(x) - replace_inf(y)), so x = +inf gives 1, not NaN.
        (x, t) =>
        {
            var y = SoftplusFn!(x);
            Tensor NoInf(Tensor v) => Np.Where(v.Eq(double.PositiveInfinity), 0.0, v);
            return (y, t * Np.Exp(NoInf(x) - NoInf(y)));
        }, "softplus");

    /// <summary>
    /// ELU with slope <paramref name="alpha"/>: x for x &gt; 0, alpha (e^x - 1) otherwise. As jax.nn.elu the
    /// exponential branch sees <c>where(x &gt; 0, 0, x)</c>, so the derivative at 0 is alpha (1 for the default).
    /// </summary>
    public static Tensor Elu(Tensor x, double alpha = 1.0) => Np.Where(x > 0.0, x, alpha * Np.Expm1(Np.Where(x > 0.0, 0.0, x)));
    /// <summary>Leaky ReLU.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => Np.Where(x >= 0.0, x, negativeSlope * x);
    /// <summary>SELU.</summary>
    public static Tensor Selu(Tensor x)
    {
        const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
        return scale * Elu(x, alpha);
    }
    /// <summary>GELU; <paramref name="approximate"/> uses the tanh form (default, as jax.nn.gelu).</summary>
    public static Tensor Gelu(Tensor x, bool approximate = true)
    {
        if (approximate)
        {
            double c = Math.Sqrt(2 / Math.PI);
            return 0.5 * x * (1.0 + Np.Tanh(c * (x + 0.044715 * x * x * x)));
        }
        // jax.nn.gelu: x * erfc(-x / sqrt(2)) / 2, which keeps its precision for x <= -3 where
        // x/2 * (1 + erf(x / sqrt(2))) cancels to nothing.
        return x * (Np.Erfc(-x * Math.Sqrt(0.5)) / 2.0);
    }
}
