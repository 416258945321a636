namespace Stax;

// jax.numpy math functions that JAX itself composes from lax primitives (with a custom JVP where
// JAX defines one): the same formulas, so values and derivatives follow JAX's conventions.
public static partial class Np
{
    /// <summary>
    /// log(e^x + e^y) without overflow (jnp.logaddexp): max(x, y) + log1p(e^-|x - y|), and x + y
    /// where x - y is NaN (NaN operands, or infinities of one sign). Differentiated as JAX's custom
    /// JVP: t_x e^(x - r) + t_y e^(y - r) with +inf replaced by 0, so logaddexp(inf, y) has slope 1 in x.
    /// </summary>
    public static Tensor Logaddexp(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("logaddexp", ToFloat(x), ToFloat(y));
        return LogaddexpFn(p)[0];
    }

    static readonly Func<Tensor[], Tensor[]> LogaddexpFn = Transforms.CustomJvp(
        a => new[] { LogaddexpRaw(a[0], a[1]) },
        (a, t) =>
        {
            var r = LogaddexpRaw(a[0], a[1]);
            Tensor NoPosInf(Tensor v) => Lax.Select(Lax.Eq(v, Like(v, double.PositiveInfinity)), Like(v, 0), v);
            var tangent = Lax.Add(Lax.Mul(t[0], Lax.Exp(Lax.Sub(NoPosInf(a[0]), NoPosInf(r)))),
                                  Lax.Mul(t[1], Lax.Exp(Lax.Sub(NoPosInf(a[1]), NoPosInf(r)))));
            return (new[] { r }, new[] { tangent });
        }, "logaddexp");

    static Tensor LogaddexpRaw(Tensor x, Tensor y)
    {
        var delta = Lax.Sub(x, y);
        var body = Lax.Add(Lax.Max(x, y), Lax.Log1p(Lax.Exp(Lax.Neg(Lax.Abs(delta)))));
        return Lax.Select(Lax.Ne(delta, delta), Lax.Add(x, y), body);
    }

    /// <summary>The next float after x toward y (jnp.nextafter); integers promote to float32; float16/bfloat16 are not supported.</summary>
    public static Tensor Nextafter(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("nextafter", ToFloat(x), ToFloat(y));
        return Lax.NextAfter(p[0], p[1]);
    }

    /// <summary>x·x (jnp.square, lax.square): integers stay integer; derivative 2x.</summary>
    public static Tensor Square(Tensor x) => IntegerPow(x.DType == DType.Bool ? Lax.ConvertElementType(x, DType.Int32, x.IsWeak) : x, 2);

    /// <summary>1 / x (jnp.reciprocal = lax.integer_pow(x, -1)); integers promote to float32.</summary>
    public static Tensor Reciprocal(Tensor x) => IntegerPow(ToFloat(x), -1);

    /// <summary>
    /// sqrt(x² + y²) without overflow (jnp.hypot): with a = max(|x|, |y|), b = min(|x|, |y|),
    /// a·sqrt(1 + (b/a)²), 0 where a = 0 and inf where either is inf (even with a NaN).
    /// </summary>
    public static Tensor Hypot(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("hypot", ToFloat(x), ToFloat(y));
        var (a, b) = (Lax.Abs(p[0]), Lax.Abs(p[1]));
        var inf = Lax.Or(Lax.Eq(a, Like(a, double.PositiveInfinity)), Lax.Eq(b, Like(b, double.PositiveInfinity)));
        var (hi, lo) = (Lax.Max(a, b), Lax.Min(a, b));
        var zero = Lax.Eq(hi, Like(hi, 0));
        var ratio = Lax.Div(lo, Lax.Select(zero, Like(hi, 1), hi));
        var r = Lax.Select(zero, hi, Lax.Mul(hi, Lax.Sqrt(Lax.Add(Like(ratio, 1), Lax.Mul(ratio, ratio)))));
        return Lax.Select(inf, Like(r, double.PositiveInfinity), r);
    }

    /// <summary>True where the sign bit of x is set (jnp.signbit): -0 and negative NaNs included; false for integers ≥ 0.</summary>
    public static Tensor Signbit(Tensor x)
    {
        if (x.DType == DType.Float32)
        {
            var bits = Lax.BitcastConvertType(x, DType.UInt32);
            return Lax.Ne(Lax.ShiftRightLogical(bits, Like(bits, 31)), Like(bits, 0));
        }
        if (x.DType.IsFloat())
        {
            // No 16/64-bit integer dtypes to bitcast to: x < 0, or a zero whose reciprocal is -inf, or
            // (float64, float16, bfloat16 only) the sign of a NaN through float32 where it exists.
            var neg = Lax.Lt(x, Like(x, 0));
            var negZero = Lax.And(Lax.Eq(x, Like(x, 0)), Lax.Lt(Lax.Div(Like(x, 1), x), Like(x, 0)));
            var r = Lax.Or(neg, negZero);
            if (x.DType != DType.Float64) r = Lax.Or(r, Signbit(Lax.ConvertElementType(x, DType.Float32)));
            return r;
        }
        if (x.DType == DType.Int32) return Lax.Lt(x, Like(x, 0));
        return Lax.Ne(x, x);   // unsigned and bool: never negative
    }

    /// <summary>|x| with the sign of y (jnp.copysign); integers promote to float32.</summary>
    public static Tensor Copysign(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("copysign", ToFloat(x), ToFloat(y));
        var a = Lax.Abs(p[0]);
        return Lax.Select(Signbit(p[1]), Lax.Neg(a), a);
    }

    /// <summary>
    /// sin(πx)/(πx), 1 at 0 (jnp.sinc). As in JAX the value at 0 comes from a Maclaurin term with its
    /// own custom JVP, so every derivative at 0 is the series coefficient (sinc'(0) = 0,
    /// sinc''(0) = -π²/3) instead of NaN.
    /// </summary>
    public static Tensor Sinc(Tensor x)
    {
        x = ToFloat(x);
        var zero = Lax.Eq(x, Like(x, 0));
        var pix = Lax.Mul(Like(x, Math.PI), x);
        var safe = Lax.Select(zero, Like(x, 1), pix);
        return Lax.Select(zero, SincMaclaurin(0, pix), Lax.Div(Lax.Sin(safe), safe));
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Func<Tensor, Tensor>> SincTerms = new();

    // The k-th derivative of sin(x)/x at 0 (0 for odd k, (-1)^(k/2) / (k + 1) for even k) as a
    // function of x whose derivative is the (k+1)-th term (jax/_src/numpy/ufuncs.py _sinc_maclaurin).
    static Tensor SincMaclaurin(int k, Tensor x)
        => SincTerms.GetOrAdd(k, kk => Transforms.CustomJvp(
            v => Lax.Add(Lax.Mul(v, Like(v, 0)), Like(v, kk % 2 == 1 ? 0 : (kk / 2 % 2 == 0 ? 1.0 : -1.0) / (kk + 1))),
            (v, t) => (SincMaclaurin(kk, v), Lax.Mul(SincMaclaurin(kk + 1, v), t)), $"sinc_maclaurin_{kk}"))(x);

    /// <summary>log|Γ(x)| (jax.scipy.special.gammaln); integers promote to float32. See <see cref="Lax.Lgamma"/>.</summary>
    public static Tensor Gammaln(Tensor x) => Lax.Lgamma(ToFloat(x));

    /// <summary>log|Γ(x)|, the jax.lax.lgamma spelling of <see cref="Gammaln"/>; integers promote to float32.</summary>
    public static Tensor Lgamma(Tensor x) => Lax.Lgamma(ToFloat(x));

    /// <summary>
    /// ψ(x) = d/dx log Γ(x) (jax.scipy.special.digamma); integers promote to float32. See <see cref="Lax.Digamma"/>.
    /// </summary>
    public static Tensor Digamma(Tensor x) => Lax.Digamma(ToFloat(x));
}
