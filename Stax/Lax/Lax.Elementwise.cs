namespace Stax;

/// <summary>
/// The strict low-level layer, like jax.lax: one function per primitive, no implicit broadcasting
/// or type promotion (operands must already agree). The NumPy-style layer is <see cref="Np"/>.
/// </summary>
public static partial class Lax
{
    /// <summary>-x.</summary>
    public static Tensor Neg(Tensor x) => Prims.Neg.Bind1(Params.None, x);
    /// <summary>e^x.</summary>
    public static Tensor Exp(Tensor x) => Prims.Exp.Bind1(Params.None, x);
    /// <summary>Natural log.</summary>
    public static Tensor Log(Tensor x) => Prims.Log.Bind1(Params.None, x);
    /// <summary>log(1 + x).</summary>
    public static Tensor Log1p(Tensor x) => Prims.Log1p.Bind1(Params.None, x);
    /// <summary>e^x - 1.</summary>
    public static Tensor Expm1(Tensor x) => Prims.Expm1.Bind1(Params.None, x);
    /// <summary>tanh(x).</summary>
    public static Tensor Tanh(Tensor x) => Prims.Tanh.Bind1(Params.None, x);
    /// <summary>1 / (1 + e^-x).</summary>
    public static Tensor Logistic(Tensor x) => Prims.Logistic.Bind1(Params.None, x);
    /// <summary>sqrt(x).</summary>
    public static Tensor Sqrt(Tensor x) => Prims.Sqrt.Bind1(Params.None, x);
    /// <summary>1 / sqrt(x).</summary>
    public static Tensor Rsqrt(Tensor x) => Prims.Rsqrt.Bind1(Params.None, x);
    /// <summary>|x|.</summary>
    public static Tensor Abs(Tensor x) => Prims.Abs.Bind1(Params.None, x);
    /// <summary>sign(x).</summary>
    public static Tensor Sign(Tensor x) => Prims.Sign.Bind1(Params.None, x);
    /// <summary>sin(x).</summary>
    public static Tensor Sin(Tensor x) => Prims.Sin.Bind1(Params.None, x);
    /// <summary>cos(x).</summary>
    public static Tensor Cos(Tensor x) => Prims.Cos.Bind1(Params.None, x);
    /// <summary>tan(x) (jax.lax.tan).</summary>
    public static Tensor Tan(Tensor x) => Prims.Tan.Bind1(Params.None, x);
    /// <summary>asin(x) (jax.lax.asin).</summary>
    public static Tensor Asin(Tensor x) => Prims.Asin.Bind1(Params.None, x);
    /// <summary>acos(x) (jax.lax.acos).</summary>
    public static Tensor Acos(Tensor x) => Prims.Acos.Bind1(Params.None, x);
    /// <summary>atan(x) (jax.lax.atan).</summary>
    public static Tensor Atan(Tensor x) => Prims.Atan.Bind1(Params.None, x);
    /// <summary>sinh(x) (jax.lax.sinh).</summary>
    public static Tensor Sinh(Tensor x) => Prims.Sinh.Bind1(Params.None, x);
    /// <summary>cosh(x) (jax.lax.cosh).</summary>
    public static Tensor Cosh(Tensor x) => Prims.Cosh.Bind1(Params.None, x);
    /// <summary>asinh(x) (jax.lax.asinh).</summary>
    public static Tensor Asinh(Tensor x) => Prims.Asinh.Bind1(Params.None, x);
    /// <summary>acosh(x) (jax.lax.acosh).</summary>
    public static Tensor Acosh(Tensor x) => Prims.Acosh.Bind1(Params.None, x);
    /// <summary>atanh(x) (jax.lax.atanh).</summary>
    public static Tensor Atanh(Tensor x) => Prims.Atanh.Bind1(Params.None, x);
    /// <summary>
    /// x^n for a static integer n (jax.lax.integer_pow): square-and-multiply, 1 / x^-n for negative n
    /// on floats, derivative n·x^(n-1). Composed from mul/div with a custom JVP rather than a
    /// primitive (see docs/stax-differences.md).
    /// </summary>
    public static Tensor IntegerPow(Tensor x, int n)
    {
        if (n < 0 && !x.DType.IsFloat())
            throw new ArgumentException($"integer_pow: integers cannot be raised to negative powers, got {x.Aval} to the power {n}");
        if (x.DType == DType.Bool) throw new ArgumentException($"integer_pow: operand of dtype bool (shape {x.Shape}) is not supported; expected a numeric dtype");
        return Np.IntegerPow(x, n);
    }
    /// <summary>x·x (jax.lax.square).</summary>
    public static Tensor Square(Tensor x) => IntegerPow(x, 2);
    /// <summary>Real cube root (jax.lax.cbrt).</summary>
    public static Tensor Cbrt(Tensor x) => Prims.Cbrt.Bind1(Params.None, x);
    /// <summary>erf(x).</summary>
    public static Tensor Erf(Tensor x) => Prims.Erf.Bind1(Params.None, x);
    /// <summary>erfc(x) = 1 - erf(x), accurate where erf(x) is near 1 (jax.lax.erfc).</summary>
    public static Tensor Erfc(Tensor x) => Prims.Erfc.Bind1(Params.None, x);
    /// <summary>erf⁻¹(x).</summary>
    public static Tensor ErfInv(Tensor x) => Prims.ErfInv.Bind1(Params.None, x);
    /// <summary>floor(x).</summary>
    public static Tensor Floor(Tensor x) => Prims.Floor.Bind1(Params.None, x);
    /// <summary>ceil(x).</summary>
    public static Tensor Ceil(Tensor x) => Prims.Ceil.Bind1(Params.None, x);
    /// <summary>round(x); lax's default breaks ties away from zero.</summary>
    public static Tensor Round(Tensor x, RoundingMethod method = RoundingMethod.AwayFromZero) => Prims.Round.Bind1(new RoundParams(method), x);
    /// <summary>True where x is finite.</summary>
    public static Tensor IsFinite(Tensor x) => Prims.IsFinite.Bind1(Params.None, x);
    /// <summary>Logical/bitwise not.</summary>
    public static Tensor Not(Tensor x) => Prims.Not.Bind1(Params.None, x);

    /// <summary>x + y.</summary>
    public static Tensor Add(Tensor x, Tensor y) => Prims.Add.Bind1(Params.None, x, y);
    /// <summary>x - y.</summary>
    public static Tensor Sub(Tensor x, Tensor y) => Prims.Sub.Bind1(Params.None, x, y);
    /// <summary>x * y.</summary>
    public static Tensor Mul(Tensor x, Tensor y) => Prims.Mul.Bind1(Params.None, x, y);
    /// <summary>x / y.</summary>
    public static Tensor Div(Tensor x, Tensor y) => Prims.Div.Bind1(Params.None, x, y);
    /// <summary>Remainder with the sign of x (C fmod, jax.lax.rem); integer x % 0 gives x. <see cref="Np.Remainder"/> is jnp.remainder.</summary>
    public static Tensor Rem(Tensor x, Tensor y) => Prims.Rem.Bind1(Params.None, x, y);
    /// <summary>x ^ y.</summary>
    public static Tensor Pow(Tensor x, Tensor y) => Prims.Pow.Bind1(Params.None, x, y);
    /// <summary>The next representable float after x toward y (jax.lax.nextafter); float32 and float64.</summary>
    public static Tensor NextAfter(Tensor x, Tensor y) => Prims.NextAfter.Bind1(Params.None, x, y);
    /// <summary>max(x, y).</summary>
    public static Tensor Max(Tensor x, Tensor y) => Prims.Max.Bind1(Params.None, x, y);
    /// <summary>min(x, y).</summary>
    public static Tensor Min(Tensor x, Tensor y) => Prims.Min.Bind1(Params.None, x, y);
    /// <summary>atan2(x, y).</summary>
    public static Tensor Atan2(Tensor x, Tensor y) => Prims.Atan2.Bind1(Params.None, x, y);
    /// <summary>x and y.</summary>
    public static Tensor And(Tensor x, Tensor y) => Prims.And.Bind1(Params.None, x, y);
    /// <summary>x or y.</summary>
    public static Tensor Or(Tensor x, Tensor y) => Prims.Or.Bind1(Params.None, x, y);
    /// <summary>x xor y.</summary>
    public static Tensor Xor(Tensor x, Tensor y) => Prims.Xor.Bind1(Params.None, x, y);
    /// <summary>x &lt;&lt; y.</summary>
    public static Tensor ShiftLeft(Tensor x, Tensor y) => Prims.ShiftLeft.Bind1(Params.None, x, y);
    /// <summary>Logical x &gt;&gt; y.</summary>
    public static Tensor ShiftRightLogical(Tensor x, Tensor y) => Prims.ShiftRightLogical.Bind1(Params.None, x, y);
    /// <summary>Arithmetic x &gt;&gt; y.</summary>
    public static Tensor ShiftRightArithmetic(Tensor x, Tensor y) => Prims.ShiftRightArithmetic.Bind1(Params.None, x, y);
    /// <summary>x == y.</summary>
    public static Tensor Eq(Tensor x, Tensor y) => Prims.Eq.Bind1(Params.None, x, y);
    /// <summary>x != y.</summary>
    public static Tensor Ne(Tensor x, Tensor y) => Prims.Ne.Bind1(Params.None, x, y);
    /// <summary>x &lt; y.</summary>
    public static Tensor Lt(Tensor x, Tensor y) => Prims.Lt.Bind1(Params.None, x, y);
    /// <summary>x &lt;= y.</summary>
    public static Tensor Le(Tensor x, Tensor y) => Prims.Le.Bind1(Params.None, x, y);
    /// <summary>x &gt; y.</summary>
    public static Tensor Gt(Tensor x, Tensor y) => Prims.Gt.Bind1(Params.None, x, y);
    /// <summary>x &gt;= y.</summary>
    public static Tensor Ge(Tensor x, Tensor y) => Prims.Ge.Bind1(Params.None, x, y);
    /// <summary>Picks onTrue where pred, else onFalse (same shapes).</summary>
    public static Tensor Select(Tensor pred, Tensor onTrue, Tensor onFalse) => Prims.Select.Bind1(Params.None, pred, onTrue, onFalse);
}
