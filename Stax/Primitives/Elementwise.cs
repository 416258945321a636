using static Stax.Extend.TypeRules;

namespace Stax.Extend;

/// <summary>Parameters of <c>round</c>.</summary>
public sealed record RoundParams(RoundingMethod Method) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"rounding_method={Method}";
}

/// <summary>The primitives (all families). Each family adds its members in its own file.</summary>
public static partial class Prims
{
    static Primitive Unary(string name, Kinds kinds) => new(name, PrimitiveFamily.Unary, (ins, _) =>
    {
        RequireKind(name, kinds, ins[0]);
        return new[] { ins[0] };
    }, inputs: 1);

    static Primitive Binary(string name, Kinds kinds, bool comparison = false) => new(name, PrimitiveFamily.Binary, (ins, _) =>
    {
        RequireSameShapes(name, ins);
        RequireSameDTypes(name, ins);
        RequireKind(name, kinds, ins[0]);
        return comparison
            ? new[] { new AbstractValue(ins[0].Shape, DType.Bool) }
            : new[] { new AbstractValue(ins[0].Shape, ins[0].DType, AllWeak(ins)) };
    }, inputs: 2);

    /// <summary>-x.</summary>
    public static readonly Primitive Neg = Unary("neg", Kinds.Numeric);
    /// <summary>e^x.</summary>
    public static readonly Primitive Exp = Unary("exp", Kinds.Float);
    /// <summary>Natural logarithm.</summary>
    public static readonly Primitive Log = Unary("log", Kinds.Float);
    /// <summary>log(1 + x), accurate near 0.</summary>
    public static readonly Primitive Log1p = Unary("log1p", Kinds.Float);
    /// <summary>e^x - 1, accurate near 0.</summary>
    public static readonly Primitive Expm1 = Unary("expm1", Kinds.Float);
    /// <summary>Hyperbolic tangent.</summary>
    public static readonly Primitive Tanh = Unary("tanh", Kinds.Float);
    /// <summary>1 / (1 + e^-x).</summary>
    public static readonly Primitive Logistic = Unary("logistic", Kinds.Float);
    /// <summary>Square root.</summary>
    public static readonly Primitive Sqrt = Unary("sqrt", Kinds.Float);
    /// <summary>1 / sqrt(x).</summary>
    public static readonly Primitive Rsqrt = Unary("rsqrt", Kinds.Float);
    /// <summary>|x|.</summary>
    public static readonly Primitive Abs = Unary("abs", Kinds.Numeric);
    /// <summary>-1, 0 or 1 (NaN for NaN).</summary>
    public static readonly Primitive Sign = Unary("sign", Kinds.Numeric);
    /// <summary>Sine.</summary>
    public static readonly Primitive Sin = Unary("sin", Kinds.Float);
    /// <summary>Cosine.</summary>
    public static readonly Primitive Cos = Unary("cos", Kinds.Float);
    /// <summary>Tangent.</summary>
    public static readonly Primitive Tan = Unary("tan", Kinds.Float);
    /// <summary>Inverse sine (NaN outside [-1, 1]).</summary>
    public static readonly Primitive Asin = Unary("asin", Kinds.Float);
    /// <summary>Inverse cosine (NaN outside [-1, 1]).</summary>
    public static readonly Primitive Acos = Unary("acos", Kinds.Float);
    /// <summary>Inverse tangent.</summary>
    public static readonly Primitive Atan = Unary("atan", Kinds.Float);
    /// <summary>Hyperbolic sine.</summary>
    public static readonly Primitive Sinh = Unary("sinh", Kinds.Float);
    /// <summary>Hyperbolic cosine.</summary>
    public static readonly Primitive Cosh = Unary("cosh", Kinds.Float);
    /// <summary>Inverse hyperbolic sine.</summary>
    public static readonly Primitive Asinh = Unary("asinh", Kinds.Float);
    /// <summary>Inverse hyperbolic cosine (NaN below 1).</summary>
    public static readonly Primitive Acosh = Unary("acosh", Kinds.Float);
    /// <summary>Inverse hyperbolic tangent (±inf at ±1, NaN beyond).</summary>
    public static readonly Primitive Atanh = Unary("atanh", Kinds.Float);
    /// <summary>Cube root (real, odd: cbrt(-8) = -2).</summary>
    public static readonly Primitive Cbrt = Unary("cbrt", Kinds.Float);
    /// <summary>Error function.</summary>
    public static readonly Primitive Erf = Unary("erf", Kinds.Float);
    /// <summary>Complementary error function 1 - erf(x), accurate in the tail (lax.erfc).</summary>
    public static readonly Primitive Erfc = Unary("erfc", Kinds.Float);
    /// <summary>Inverse error function.</summary>
    public static readonly Primitive ErfInv = Unary("erf_inv", Kinds.Float);
    /// <summary>Round toward -inf.</summary>
    public static readonly Primitive Floor = Unary("floor", Kinds.Float);
    /// <summary>Round toward +inf.</summary>
    public static readonly Primitive Ceil = Unary("ceil", Kinds.Float);
    /// <summary>Round to an integer value (see <see cref="RoundParams"/>).</summary>
    public static readonly Primitive Round = Unary("round", Kinds.Float);
    /// <summary>Logical not for bool, bitwise not for integers.</summary>
    public static readonly Primitive Not = Unary("not", Kinds.IntOrBool);
    /// <summary>True where x is neither infinite nor NaN.</summary>
    public static readonly Primitive IsFinite = new("is_finite", PrimitiveFamily.Unary, (ins, _) =>
    {
        RequireKind("is_finite", Kinds.Float, ins[0]);
        return new[] { new AbstractValue(ins[0].Shape, DType.Bool) };
    }, inputs: 1);

    /// <summary>x + y.</summary>
    public static readonly Primitive Add = Binary("add", Kinds.Numeric);
    /// <summary>x - y.</summary>
    public static readonly Primitive Sub = Binary("sub", Kinds.Numeric);
    /// <summary>x * y.</summary>
    public static readonly Primitive Mul = Binary("mul", Kinds.Numeric);
    /// <summary>x / y; integers truncate toward zero, and x / 0 gives -1 for signed (all ones for unsigned), as XLA defines.</summary>
    public static readonly Primitive Div = Binary("div", Kinds.Numeric);
    /// <summary>Remainder with the sign of x (C fmod); integer x % 0 gives x, as XLA defines.</summary>
    public static readonly Primitive Rem = Binary("rem", Kinds.Numeric);
    /// <summary>x ^ y (floating point).</summary>
    public static readonly Primitive Pow = Binary("pow", Kinds.Float);
    /// <summary>Elementwise maximum; NaN propagates.</summary>
    public static readonly Primitive Max = Binary("max", Kinds.Any);
    /// <summary>Elementwise minimum; NaN propagates.</summary>
    public static readonly Primitive Min = Binary("min", Kinds.Any);
    /// <summary>atan2(x, y) = angle of (y, x) as in lax.atan2(x, y) = arctan(x / y).</summary>
    public static readonly Primitive Atan2 = Binary("atan2", Kinds.Float);
    /// <summary>The next float after x in the direction of y (C nextafter); float32 and float64 only.</summary>
    public static readonly Primitive NextAfter = new("nextafter", PrimitiveFamily.Binary, (ins, _) =>
    {
        RequireSameShapes("nextafter", ins);
        RequireSameDTypes("nextafter", ins);
        if (ins[0].DType != DType.Float32 && ins[0].DType != DType.Float64)
            throw new ArgumentException($"nextafter: operand of dtype {ins[0].DType.Name()} (shape {ins[0].Shape}) is not supported; expected float32 or float64");
        return new[] { new AbstractValue(ins[0].Shape, ins[0].DType, AllWeak(ins)) };
    }, inputs: 2);
    /// <summary>Logical/bitwise and.</summary>
    public static readonly Primitive And = Binary("and", Kinds.IntOrBool);
    /// <summary>Logical/bitwise or.</summary>
    public static readonly Primitive Or = Binary("or", Kinds.IntOrBool);
    /// <summary>Logical/bitwise exclusive or.</summary>
    public static readonly Primitive Xor = Binary("xor", Kinds.IntOrBool);
    /// <summary>x &lt;&lt; y; shift counts outside [0, bits) give 0 (XLA semantics).</summary>
    public static readonly Primitive ShiftLeft = Binary("shift_left", Kinds.Int);
    /// <summary>Logical right shift; counts outside [0, bits) give 0.</summary>
    public static readonly Primitive ShiftRightLogical = Binary("shift_right_logical", Kinds.Int);
    /// <summary>Arithmetic right shift; counts outside [0, bits) fill with the sign bit.</summary>
    public static readonly Primitive ShiftRightArithmetic = Binary("shift_right_arithmetic", Kinds.Int);
    /// <summary>x == y.</summary>
    public static readonly Primitive Eq = Binary("eq", Kinds.Any, comparison: true);
    /// <summary>x != y.</summary>
    public static readonly Primitive Ne = Binary("ne", Kinds.Any, comparison: true);
    /// <summary>x &lt; y.</summary>
    public static readonly Primitive Lt = Binary("lt", Kinds.Any, comparison: true);
    /// <summary>x &lt;= y.</summary>
    public static readonly Primitive Le = Binary("le", Kinds.Any, comparison: true);
    /// <summary>x &gt; y.</summary>
    public static readonly Primitive Gt = Binary("gt", Kinds.Any, comparison: true);
    /// <summary>x &gt;= y.</summary>
    public static readonly Primitive Ge = Binary("ge", Kinds.Any, comparison: true);

    /// <summary>select(pred, onTrue, onFalse): pred is bool of the same shape.</summary>
    public static readonly Primitive Select = new("select", PrimitiveFamily.Binary, (ins, _) =>
    {
        if (ins[0].DType != DType.Bool)
            throw new ArgumentException($"select: predicate must be bool, got {ins[0].DType.Name()}");
        RequireSameShapes("select", ins);
        RequireSameDTypes("select", ins[1..]);
        return new[] { new AbstractValue(ins[1].Shape, ins[1].DType, ins[1].Weak && ins[2].Weak) };
    }, inputs: 3);
}
