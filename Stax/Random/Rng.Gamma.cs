namespace Stax;

public static partial class Rng
{
    /// <summary>
    /// Standard gamma samples with shape parameter <paramref name="a"/> (jax.random.gamma, method
    /// "exact"): the key is split into one key per element, and each element runs JAX's
    /// Marsaglia–Tsang rejection loop (a while loop, vmapped over the elements) with JAX's key
    /// splitting, boosting a &lt; 1 to a + 1 and multiplying by u^(1/a). a broadcasts to
    /// <paramref name="shape"/> (default: a's shape). The loop's comparisons are not fused as
    /// XLA:CPU may fuse them, so a rare element near a rejection threshold can differ from JAX.
    /// </summary>
    public static Tensor Gamma(Key key, Tensor a, Shape? shape = null, DType dtype = DType.Float32)
        => GammaCore("Rng.Gamma", key, a, shape, dtype, logSpace: false);

    /// <summary>
    /// Logarithms of standard gamma samples, accurate for small <paramref name="a"/>
    /// (jax.random.loggamma, method "exact"): the same draws as <see cref="Gamma"/>, with the
    /// boost for a &lt; 1 applied in log space.
    /// </summary>
    public static Tensor LogGamma(Key key, Tensor a, Shape? shape = null, DType dtype = DType.Float32)
        => GammaCore("Rng.LogGamma", key, a, shape, dtype, logSpace: true);

    static Tensor GammaCore(string op, Key key, Tensor a, Shape? shape, DType dtype, bool logSpace)
    {
        RequireSingle(op, key);
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: dtype must be float32 or float64, got {dtype.Name()}");
        var s = shape ?? a.Shape;
        var alpha = BroadcastBound(op, "a", a, s, dtype);
        int n = checked((int)s.Size);
        if (n == 0) return Np.Zeros(s, dtype);
        var keys = Split(key, new Shape(n));
        var flat = Lax.Reshape(alpha, new Shape(n));
        var samples = Transforms.Vmap(xs => new[] { GammaOne(new Key(xs[0]), xs[1], logSpace) }, new int?[] { 0, 0 })(new[] { keys.Data, flat })[0];
        return Lax.Reshape(samples, s);
    }

    /// <summary>One gamma sample (jax.random's _gamma_one) for a scalar key and scalar alpha.</summary>
    static Tensor GammaOne(Key key, Tensor alpha, bool logSpace)
    {
        var dtype = alpha.DType;
        Tensor C(double v) => Tensor.Scalar(v, dtype);
        var boost = Lax.Ge(alpha, C(1));
        var alphaOrig = alpha;
        alpha = Lax.Select(boost, alpha, Lax.Add(alpha, C(1)));
        var d = Lax.Sub(alpha, C(1.0 / 3.0));
        var c = Lax.Div(C(1.0 / 3.0), Lax.Sqrt(d));

        Tensor Cond(Tensor[] kxvu)
        {
            var (x, v, u) = (kxvu[1], kxvu[2], kxvu[3]);
            var first = Lax.Ge(u, Lax.Sub(C(1), Lax.Mul(C(0.0331), Lax.Mul(x, x))));
            var second = Lax.Ge(Lax.Log(u), Lax.Add(Lax.Mul(x, C(0.5)), Lax.Mul(d, Lax.Add(Lax.Sub(C(1), v), Lax.Log(v)))));
            return Lax.And(first, second);
        }

        Tensor[] Body(Tensor[] kxvu)
        {
            var ks = Split(new Key(kxvu[0]), 3);
            var inner = ControlFlow.WhileLoop(
                kxv => Lax.Le(kxv[2], C(0)),
                kxv =>
                {
                    var kk = Split(new Key(kxv[0]), 2);
                    var x = Normal(kk[1], Shape.Scalar, dtype);
                    return new[] { kk[0].Data, x, Lax.Add(C(1), Lax.Mul(x, c)) };
                },
                new[] { ks[1].Data, C(0), C(-1) });
            var xx = inner[1];
            var vv = inner[2];
            var u = Uniform(ks[2], Shape.Scalar, dtype);
            return new[] { ks[0].Data, Lax.Mul(xx, xx), Lax.Mul(Lax.Mul(vv, vv), vv), u };
        }

        var k2 = Split(key, 2);
        // The initial state makes the condition true: U = 2 passes both tests.
        var final = ControlFlow.WhileLoop(Cond, Body, new[] { k2[0].Data, C(0), C(1), C(2) });
        var V = final[2];
        if (logSpace)
        {
            var logSamples = Lax.Neg(Exponential(k2[1], Shape.Scalar, dtype));
            var logBoost = Lax.Select(Lax.Or(boost, Lax.Eq(logSamples, C(0))), C(0), Lax.Mul(logSamples, Lax.Div(C(1), alphaOrig)));
            return Lax.Add(Lax.Add(Lax.Log(d), Lax.Log(V)), logBoost);
        }
        var samples = Lax.Sub(C(1), Uniform(k2[1], Shape.Scalar, dtype));
        var b = Lax.Select(boost, C(1), Lax.Pow(samples, Lax.Div(C(1), alphaOrig)));
        return Lax.Mul(Lax.Mul(d, V), b);
    }

    /// <summary>
    /// Beta samples (jax.random.beta, method "exact"): the key split in two, log-gamma samples of
    /// <paramref name="a"/> and <paramref name="b"/>, combined as ga / (ga + gb) after subtracting
    /// the larger logarithm. a and b broadcast to <paramref name="shape"/> (default: their
    /// broadcast shape).
    /// </summary>
    public static Tensor Beta(Key key, Tensor a, Tensor b, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.Beta";
        var s = shape ?? Np.BroadcastShapes(op, a.Shape, b.Shape);
        var ks = Split(key, 2);
        var la = LogGamma(ks[0], BroadcastBound(op, "a", a, s, dtype), s, dtype);
        var lb = LogGamma(ks[1], BroadcastBound(op, "b", b, s, dtype), s, dtype);
        var max = Lax.Max(la, lb);
        var ga = Lax.Exp(Lax.Sub(la, max));
        var gb = Lax.Exp(Lax.Sub(lb, max));
        return Lax.Div(ga, Lax.Add(ga, gb));
    }

    /// <summary>
    /// Dirichlet samples (jax.random.dirichlet): log-gamma samples of shape
    /// <c>shape + alpha.shape[-1:]</c>, normalized with a softmax over the last axis. alpha has
    /// shape (..., k); <paramref name="shape"/> defaults to alpha's batch shape.
    /// </summary>
    public static Tensor Dirichlet(Key key, Tensor alpha, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.Dirichlet";
        if (alpha.Rank < 1)
            throw new ArgumentException($"{op}: alpha must have at least one dimension, got shape {alpha.Shape}");
        var batch = new Shape(alpha.Shape.ToArray()[..^1]);
        var s = shape ?? batch;
        RequireBroadcastsTo(op, "alpha's batch shape", batch, s);
        var full = new Shape(s.ToArray().Append(alpha.Shape[^1]).ToArray());
        var lg = LogGamma(key, Lax.ConvertElementType(alpha, dtype), full, dtype);
        return Np.Softmax(lg, -1);
    }

    /// <summary>
    /// Chi-square samples with <paramref name="df"/> degrees of freedom (jax.random.chisquare):
    /// <c>2 * exp(loggamma(key, df / 2))</c>.
    /// </summary>
    public static Tensor ChiSquare(Key key, Tensor df, Shape? shape = null, DType dtype = DType.Float32)
    {
        var half = Lax.Div(Lax.ConvertElementType(df, dtype), Tensor.Scalar(2, dtype));
        var lg = LogGamma(key, half, shape ?? df.Shape, dtype);
        return Lax.Mul(Lax.Exp(lg), Const(lg, 2));
    }

    /// <summary>
    /// Student's t samples with <paramref name="df"/> degrees of freedom (jax.random.t): the key
    /// split in two, <c>normal * sqrt((df / 2) / gamma(df / 2))</c>.
    /// </summary>
    public static Tensor StudentT(Key key, Tensor df, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.StudentT";
        var s = shape ?? df.Shape;
        var ks = Split(key, 2);
        var n = Normal(ks[0], s, dtype);
        var halfDf = Lax.Div(BroadcastBound(op, "df", df, s, dtype), Const(n, 2));
        var g = Gamma(ks[1], halfDf, s, dtype);
        return Lax.Mul(n, Lax.Sqrt(Lax.Div(halfDf, g)));
    }
}
