namespace Stax;

// Gamma-family special functions composed from existing lax operations (no primitives of their own),
// following XLA's float32 algorithms: the Lanczos approximation (g = 7, n = 9, the published
// coefficients) and Euler's reflection formula below 0.5. Derivatives come from custom JVPs:
// lgamma' = digamma, digamma' = trigamma (an asymptotic series after a recurrence shift).
public static partial class Lax
{
    const double LanczosG = 7;
    const double LanczosBase = 0.99999999999980993227684700473478;

    // Published Lanczos coefficients for g = 7, n = 9 (the first, LanczosBase, is separate).
    static readonly double[] LanczosCoefficients =
    [
        676.520368121885098567009190444019, -1259.13921672240287047156078755283,
        771.3234287776530788486528258894, -176.61502916214059906584551354,
        12.507343278686904814458936853, -0.13857109526572011689554707,
        9.984369578019570859563e-6, 1.50563273514931155834e-7,
    ];

    /// <summary>
    /// log|Γ(x)| (jax.lax.lgamma): the Lanczos approximation (g = 7, n = 9) for x ≥ 0.5 and the reflection
    /// log π − log|sin(πx)| − lgamma(1 − x) below, with sin taken of the reduced argument so large negative
    /// x stays accurate, as XLA. +inf at 0, at negative integers and at ±inf; NaN stays NaN. float operands
    /// only (the Np spellings promote integers). Differentiable: the derivative is <see cref="Digamma"/>.
    /// </summary>
    public static Tensor Lgamma(Tensor x)
    {
        RequireFloat("lgamma", x);
        return InFloat32IfHalf(x, LgammaFn);
    }

    /// <summary>
    /// ψ(x) = d/dx log Γ(x) (jax.lax.digamma): the derivative of the Lanczos sum for x ≥ 0.5 and
    /// ψ(x) = ψ(1 − x) − π / tan(πx) below, as XLA; NaN at 0 and negative integers, +inf at +inf, NaN at
    /// −inf and NaN. float operands only. Differentiable: the derivative is the trigamma function ψ₁(x),
    /// computed by a recurrence shift to x ≥ 10, the asymptotic series and reflection.
    /// </summary>
    public static Tensor Digamma(Tensor x)
    {
        RequireFloat("digamma", x);
        return InFloat32IfHalf(x, DigammaFn);
    }

    static void RequireFloat(string op, Tensor x)
    {
        if (!x.DType.IsFloat())
            throw new ArgumentException(
                $"{op}: operand must be a floating dtype, got {x.Aval}; use Np (jnp) to promote integers");
    }

    // As XLA: float16/bfloat16 lack the precision for the Lanczos sum, so they are computed in float32.
    static Tensor InFloat32IfHalf(Tensor x, Func<Tensor, Tensor> f)
        => x.DType is DType.Float16 or DType.BFloat16
            ? ConvertElementType(f(ConvertElementType(x, DType.Float32, x.IsWeak)), x.DType, x.IsWeak)
            : f(x);

    static readonly Func<Tensor, Tensor> LgammaFn = Transforms.CustomJvp(
        LgammaRaw, (x, t) => (LgammaRaw(x), Mul(t, Digamma(x))), "lgamma");

    static readonly Func<Tensor, Tensor> DigammaFn = Transforms.CustomJvp(
        DigammaRaw, (x, t) => (DigammaRaw(x), Mul(t, Trigamma(x))), "digamma");

    /// <summary>A constant of <paramref name="like"/>'s shape, dtype and weak type.</summary>
    static Tensor Const(Tensor like, double value)
        => BroadcastInDim(Tensor.Scalar(value, like.DType).WithWeak(like.IsWeak), like.Shape);

    static Tensor LgammaRaw(Tensor x)
    {
        var reflect = Lt(x, Const(x, 0.5));
        // Lanczos evaluates Γ(z + 1): z = x − 1 directly, z = −x for the reflected lgamma(1 − x).
        var z = Select(reflect, Neg(x), Sub(x, Const(x, 1)));
        var sum = Const(x, LanczosBase);
        for (int i = 0; i < LanczosCoefficients.Length; i++)
            sum = Add(sum, Div(Const(x, LanczosCoefficients[i]), Add(z, Const(x, i + 1))));
        // t = z + g + 1/2; log t as log(g + 1/2) + log1p(z / (g + 1/2)) keeps precision for small z.
        var t = Add(z, Const(x, LanczosG + 0.5));
        var logT = Add(Const(x, Math.Log(LanczosG + 0.5)), Log1p(Div(z, Const(x, LanczosG + 0.5))));
        // (z + 1/2) log t − t, written as (z + 1/2 − t / log t) log t so it does not overflow first.
        var logY = Add(Add(Const(x, 0.5 * Math.Log(2 * Math.PI)),
                           Mul(Sub(Add(z, Const(x, 0.5)), Div(t, logT)), logT)), Log(sum));

        // log|sin(πx)| from the fractional part folded into [0, 1/2]: exact argument reduction.
        var a = Abs(x);
        var frac = Sub(a, Floor(a));
        var reduced = Select(Gt(frac, Const(x, 0.5)), Sub(Const(x, 1), frac), frac);
        var logSin = Log(Sin(Mul(Const(x, Math.PI), reduced)));
        // At non-positive integers sin is 0 and log sin is −inf: the pole, +inf.
        var reflection = Select(IsFinite(logSin), Sub(Sub(Const(x, Math.Log(Math.PI)), logSin), logY), Neg(logSin));
        var r = Select(reflect, reflection, logY);
        var isInf = Eq(Abs(x), Const(x, double.PositiveInfinity));
        return Select(isInf, Const(x, double.PositiveInfinity), r);
    }

    static Tensor DigammaRaw(Tensor x)
    {
        var reflect = Lt(x, Const(x, 0.5));
        var z = Select(reflect, Neg(x), Sub(x, Const(x, 1)));
        // ψ(z + 1) = log t + S'/S − g / t with S the Lanczos sum and S' its derivative in z.
        var num = Const(x, 0);
        var denom = Const(x, LanczosBase);
        for (int i = 0; i < LanczosCoefficients.Length; i++)
        {
            var zi = Add(z, Const(x, i + 1));
            var c = Const(x, LanczosCoefficients[i]);
            num = Sub(num, Div(c, Mul(zi, zi)));
            denom = Add(denom, Div(c, zi));
        }
        var t = Add(z, Const(x, LanczosG + 0.5));
        var logT = Add(Const(x, Math.Log(LanczosG + 0.5)), Log1p(Div(z, Const(x, LanczosG + 0.5))));
        var y = Sub(Add(logT, Div(num, denom)), Div(Const(x, LanczosG), t));

        // π / tan(πx) from x shifted by a whole number into [−1/2, 1/2] (cot has period 1).
        var reduced = Add(x, Abs(Floor(Add(x, Const(x, 0.5)))));
        var pr = Mul(Const(x, Math.PI), reduced);
        var reflection = Sub(y, Div(Mul(Const(x, Math.PI), Cos(pr)), Sin(pr)));
        var r = Select(reflect, reflection, y);
        var pole = And(Le(x, Const(x, 0)), Eq(x, Floor(x)));
        return Select(pole, Const(x, double.NaN), r);
    }

    /// <summary>
    /// ψ₁(x), the trigamma function (digamma's derivative): ψ₁(w) = ψ₁(w + 1) + 1/w² shifts w = x (or 1 − x)
    /// to at least 10, then 1/w + 1/(2w²) + Σ B₂ₖ / w^(2k+1) through B₁₄; below 0.5 the reflection
    /// ψ₁(x) = π² / sin²(πx) − ψ₁(1 − x). +inf at non-positive integers.
    /// </summary>
    static Tensor Trigamma(Tensor x)
    {
        var reflect = Lt(x, Const(x, 0.5));
        var w = Select(reflect, Sub(Const(x, 1), x), x);
        var acc = Const(x, 0);
        for (int i = 0; i < 10; i++)
        {
            var small = Lt(w, Const(x, 10));
            acc = Add(acc, Select(small, Div(Const(x, 1), Mul(w, w)), Const(x, 0)));
            w = Select(small, Add(w, Const(x, 1)), w);
        }
        // Bernoulli numbers B2..B14 of the series Σ B₂ₖ / w^(2k+1).
        double[] bernoulli = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6];
        var inv = Div(Const(x, 1), w);
        var inv2 = Mul(inv, inv);
        var series = Const(x, bernoulli[^1]);
        for (int k = bernoulli.Length - 2; k >= 0; k--) series = Add(Const(x, bernoulli[k]), Mul(series, inv2));
        // 1/w + 1/(2w²) + (1/w³)·(B2 + B4/w² + ...)
        var asym = Add(Add(inv, Mul(Const(x, 0.5), inv2)), Mul(Mul(inv2, inv), series));
        var positive = Add(acc, asym);
        var reduced = Add(x, Abs(Floor(Add(x, Const(x, 0.5)))));
        var s = Sin(Mul(Const(x, Math.PI), reduced));
        var reflection = Sub(Div(Const(x, Math.PI * Math.PI), Mul(s, s)), positive);
        return Select(reflect, reflection, positive);
    }
}
