namespace Stax;

/// <summary>
/// The NumPy-style front end (like jax.numpy): broadcasting, type promotion with weak types,
/// axis arguments. Everything lowers to <see cref="Lax"/> primitives.
/// </summary>
public static partial class Np
{
    /// <summary>The broadcast shape of several shapes (NumPy rules), or a clear error naming <paramref name="op"/>.</summary>
    public static Shape BroadcastShapes(string op, params Shape[] shapes)
    {
        int rank = shapes.Max(s => s.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = 1;
            foreach (var s in shapes)
            {
                int k = i - (rank - s.Rank);
                if (k < 0) continue;
                int v = s[k];
                if (v == d || v == 1) continue;
                if (d != 1)
                    throw new ArgumentException($"{op}: shapes {string.Join(", ", shapes.Select(x => x.ToString()))} cannot be broadcast together");
                d = v;
            }
            dims[i] = d;
        }
        return Shape.Wrap(dims);
    }

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="shape"/> by NumPy rules (trailing alignment).</summary>
    public static Tensor BroadcastTo(Tensor x, Shape shape) => BroadcastTo(x, shape, "broadcast_to", "");

    /// <summary>BroadcastTo whose error names the calling operation and what <paramref name="x"/> is.</summary>
    internal static Tensor BroadcastTo(Tensor x, Shape shape, string op, string what)
    {
        if (x.Shape == shape) return x;
        int offset = shape.Rank - x.Rank;
        bool ok = offset >= 0;
        for (int i = 0; ok && i < x.Rank; i++) ok = x.Shape[i] == 1 || x.Shape[i] == shape[offset + i];
        if (!ok) throw new ArgumentException($"{op}: cannot broadcast {what}{x.Shape} to {shape}");
        return Lax.BroadcastInDim(x, shape, Enumerable.Range(offset, x.Rank).ToArray());
    }

    /// <summary>Converts operands to their common promoted dtype (JAX's lattice with weak types).</summary>
    public static Tensor[] Promote(params Tensor[] xs)
    {
        var types = new (DType, bool)[xs.Length];
        for (int i = 0; i < xs.Length; i++) types[i] = (xs[i].DType, xs[i].IsWeak);
        var (dt, weak) = TypePromotion.Result(types);
        var r = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++)
            r[i] = xs[i].ExactValue is double v && xs[i].DType != dt
                ? Tensor.WeakScalar(v).WithExactType(dt, weak)
                : Lax.ConvertElementType(xs[i], dt, weak);
        return r;
    }

    /// <summary>Promotes and broadcasts operands to a common dtype and shape.</summary>
    public static Tensor[] PromoteAndBroadcast(string op, params Tensor[] xs)
    {
        var p = Promote(xs);
        // Uncommitted operands (C# scalars) move to the committed operands' backend before they are
        // broadcast, so that e.g. host data / 255.0 never materialises a full-size scalar on the device.
        var home = Array.Find(p, t => t.Buffer != null && t.Committed)?.Buffer!.Backend;
        if (home != null)
            for (int i = 0; i < p.Length; i++)
                if (p[i].Buffer is { } b && !p[i].Committed && !ReferenceEquals(b.Backend, home))
                    p[i] = p[i].DevicePutUncommitted(home);
        var shape = BroadcastShapes(op, p.Select(t => t.Shape).ToArray());
        for (int i = 0; i < p.Length; i++) p[i] = BroadcastTo(p[i], shape);
        return p;
    }

    static Tensor Binary(string op, Func<Tensor, Tensor, Tensor> f, Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast(op, x, y);
        return f(p[0], p[1]);
    }

    /// <summary>x + y with broadcasting and promotion.</summary>
    public static Tensor Add(Tensor x, Tensor y) => Binary("add", Lax.Add, x, y);
    /// <summary>x - y.</summary>
    public static Tensor Subtract(Tensor x, Tensor y) => Binary("subtract", Lax.Sub, x, y);
    /// <summary>x * y.</summary>
    public static Tensor Multiply(Tensor x, Tensor y) => Binary("multiply", Lax.Mul, x, y);
    /// <summary>True division: integer operands are promoted to float first (as NumPy's /).</summary>
    public static Tensor Divide(Tensor x, Tensor y)
    {
        var p = Promote(x, y);
        if (!p[0].DType.IsFloat()) p = new[] { Lax.ConvertElementType(p[0], DType.Float32, p[0].IsWeak), Lax.ConvertElementType(p[1], DType.Float32, p[1].IsWeak) };
        return Binary("divide", Lax.Div, p[0], p[1]);
    }
    /// <summary>
    /// Floor division (jnp.floor_divide, Python's <c>//</c>). Floats follow NumPy's divmod as JAX
    /// writes it (<c>_float_divmod</c>): <c>round((x - fmod(x, y)) / y)</c>, one less where the
    /// remainder's sign differs from y's, so <c>inf // 1</c> is NaN, <c>1 // 0</c> is inf and
    /// <c>0 // -1</c> is -0. Signed integers subtract one from the truncated quotient where the signs
    /// differ and the division is inexact; integer division by zero keeps XLA's quotient (-1, or all
    /// ones for unsigned) and applies that correction (so <c>5 // 0</c> is -2), as JAX does.
    /// </summary>
    public static Tensor FloorDivide(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("floor_divide", x, y);
        var (a, b) = (p[0], p[1]);
        if (a.DType.IsFloat()) return FloatDivMod(a, b).Quotient;
        if (a.DType.IsUnsigned()) return Lax.Div(a, b);
        // jnp.floor_divide: select(sign(x) != sign(y) & rem(x, y) != 0, q - 1, q).
        var q = Lax.Div(a, b);
        var fix = Lax.And(Lax.Ne(Lax.Sign(a), Lax.Sign(b)), Lax.Ne(Lax.Rem(a, b), Like(a, 0)));
        return Lax.Select(fix, Lax.Sub(q, Like(q, 1)), q);
    }

    // JAX's _float_divmod (CPython's float_divmod without its signed-zero fix-up):
    // mod = fmod(x, y); div = (y == 0 ? x : x - mod) / y; where mod != 0 and sign(y) != sign(mod),
    // mod += y and div -= 1; the quotient is rounded half away from zero.
    static (Tensor Quotient, Tensor Remainder) FloatDivMod(Tensor x, Tensor y)
    {
        var mod = Lax.Rem(x, y);
        var xc = Lax.Select(Lax.Eq(y, Like(y, 0)), x, Lax.Sub(x, mod));
        var div = Lax.Div(xc, y);
        var ind = Lax.And(Lax.Ne(mod, Like(mod, 0)), Lax.Ne(Lax.Sign(y), Lax.Sign(mod)));
        mod = Lax.Select(ind, Lax.Add(mod, y), mod);
        div = Lax.Select(ind, Lax.Sub(div, Like(div, 1)), div);
        return (Lax.Round(div, RoundingMethod.AwayFromZero), mod);
    }

    /// <summary>
    /// Remainder with the sign of the divisor (jnp.remainder / jnp.mod, NumPy's and Python's
    /// <c>%</c>): <c>fmod(x, y)</c>, plus y where that is nonzero and its sign differs from y's.
    /// Integer <c>x % 0</c> is 0 (JAX divides by 1 instead); float <c>x % 0</c> is NaN and
    /// <c>-1 % inf</c> is inf, as in JAX. C's fmod is <see cref="Fmod"/>.
    /// </summary>
    public static Tensor Remainder(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("remainder", x, y);
        var (a, b) = (p[0], p[1]);
        if (a.DType.IsInteger()) b = Lax.Select(Lax.Eq(b, Like(b, 0)), Like(b, 1), b);
        var zero = Like(a, 0);
        var mod = Lax.Rem(a, b);
        // jnp.remainder: select((mod < 0) != (y < 0) & mod != 0, mod + y, mod).
        var plus = Lax.And(Lax.Ne(Lax.Lt(mod, zero), Lax.Lt(b, zero)), Lax.Ne(mod, zero));
        return Lax.Select(plus, Lax.Add(mod, b), mod);
    }

    /// <summary>
    /// Remainder with the sign of the dividend (jnp.fmod, C's fmod): <c>x - y * trunc(x / y)</c>.
    /// Integer <c>fmod(x, 0)</c> is 0, as JAX defines it (it divides by 1 instead).
    /// </summary>
    public static Tensor Fmod(Tensor x, Tensor y)
    {
        var p = PromoteAndBroadcast("fmod", x, y);
        var (a, b) = (p[0], p[1]);
        if (a.DType.IsInteger()) b = Lax.Select(Lax.Eq(b, Like(b, 0)), Like(b, 1), b);
        return Lax.Rem(a, b);
    }

    /// <summary>A constant of <paramref name="like"/>'s shape, dtype and weak type.</summary>
    static Tensor Like(Tensor like, double value)
        => Lax.BroadcastInDim(Tensor.Scalar(value, like.DType).WithWeak(like.IsWeak), like.Shape);

    /// <summary>
    /// x ^ y as jnp.power (jax/_src/numpy/ufuncs.py). A concrete integer scalar exponent (a C# int,
    /// or any non-traced integer scalar) is lax.integer_pow: repeated squaring and multiplication,
    /// <c>1 / x^-n</c> for negative n on floats, an <see cref="ArgumentException"/> for negative n on
    /// integers (JAX's TypeError), and the derivative <c>n x^(n-1)</c>. Two integer operands stay
    /// integer: binary exponentiation over the exponent's low 6 bits with wrapping multiplication
    /// (JAX's <c>_pow_int_int</c>; a negative exponent uses its two's-complement bits, so 2^-1 is 0).
    /// A float base with an integer exponent array keeps the base's dtype, and its derivative in x
    /// is 0 where the exponent is 0 (lax.pow's integer-exponent rule). Otherwise both promote and
    /// lax.pow applies.
    /// </summary>
    public static Tensor Power(Tensor x, Tensor y)
    {
        const string op = "power";
        // Case 1: a concrete integer scalar exponent.
        if (y.Rank == 0 && (y.DType.IsInteger() || y.DType == DType.Bool) && y.IsConcrete)
        {
            long n = (long)(y.ExactValue ?? y.ToDoubleArray()[0]);
            var b = x.DType == DType.Bool ? Lax.ConvertElementType(x, DType.Int32, x.IsWeak) : x;
            if (n < 0 && !b.DType.IsFloat())
                throw new ArgumentException($"{op}: integers cannot be raised to negative powers, got integer_pow({b.Aval}, {n}) (jax raises a TypeError)");
            return IntegerPow(b, n);
        }
        var p = PromoteAndBroadcast(op, x, y);
        // Case 2: integer (or bool) operands stay integer.
        if (!p[0].DType.IsFloat())
        {
            if (p[0].DType == DType.Bool) p = new[] { Lax.ConvertElementType(p[0], DType.Int32, p[0].IsWeak), Lax.ConvertElementType(p[1], DType.Int32, p[1].IsWeak) };
            return PowIntInt(p[0], p[1]);
        }
        // Case 3: float base, integer exponent: lax.pow(x, y) without promoting x. Where y == 0 the
        // result is pow(x, 0) = 1 with the zero slope of lax.pow's integer-exponent JVP; pow sees
        // exponent 1 there, so its own slope (0 * x^-1 at x = 0) never makes a NaN cotangent.
        if (x.DType.IsFloat() && y.DType.IsInteger())
        {
            var shape = BroadcastShapes(op, x.Shape, y.Shape);
            var xb = BroadcastTo(x, shape);
            var yi = BroadcastTo(y, shape);
            var zero = Lax.Eq(yi, Like(yi, 0));
            var yf = Lax.Select(zero, Like(xb, 1).WithWeak(false), Lax.ConvertElementType(yi, x.DType));
            return Lax.Select(zero, Like(xb, 1), Lax.Pow(xb, yf));
        }
        // Case 4: promote, then lax.pow.
        return Lax.Pow(p[0], p[1]);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<long, Func<Tensor, Tensor>> IntegerPowFns = new();

    /// <summary>lax.integer_pow(x, n): for floats with lax's JVP, <c>t * (n * x^(n-1))</c> (<c>t * (2 * x)</c> for n = 2).</summary>
    internal static Tensor IntegerPow(Tensor x, long n)
    {
        if (!x.DType.IsFloat()) return IntegerPowRaw(x, n);
        var f = IntegerPowFns.GetOrAdd(n, k => Transforms.CustomJvp(v => IntegerPowRaw(v, k), (v, t) =>
        {
            var y = IntegerPow(v, k);
            // jax/_src/lax/lax.py _integer_pow_jvp.
            var tan = k switch
            {
                0 => ZerosLike(t),
                1 => t,
                2 => Lax.Mul(t, Lax.Mul(Like(v, 2), v)),
                _ => Lax.Mul(t, Lax.Mul(Like(v, k), IntegerPow(v, k - 1))),
            };
            return (y, tan);
        }, "integer_pow"));
        return f(x);
    }

    // jax/_src/lax/lax.py _integer_pow: square-and-multiply over the bits of |n|, then 1 / acc for n < 0.
    static Tensor IntegerPowRaw(Tensor x, long n)
    {
        if (n == 0) return Like(x, 1);
        bool reciprocal = n < 0;
        ulong m = reciprocal ? (ulong)(-n) : (ulong)n;
        Tensor? acc = null;
        while (m > 0)
        {
            if ((m & 1) != 0) acc = acc is null ? x : Lax.Mul(acc, x);
            m >>= 1;
            if (m > 0) x = Lax.Mul(x, x);
        }
        return reciprocal ? Lax.Div(Like(acc!, 1), acc!) : acc!;
    }

    // jax/_src/numpy/ufuncs.py _pow_int_int: six rounds of square-and-multiply over the exponent's
    // bits (shifted logically), starting from 0 where x == 0 and y != 0, else 1.
    static Tensor PowIntInt(Tensor x, Tensor y)
    {
        var zero = Like(y, 0);
        var one = Like(y, 1);
        var acc = Lax.Select(Lax.And(Lax.Eq(x, Like(x, 0)), Lax.Ne(y, zero)), Like(x, 0), Like(x, 1));
        for (int i = 0; i < 6; i++)
        {
            acc = Lax.Select(Lax.Ne(Lax.And(y, one), zero), Lax.Mul(acc, x), acc);
            x = Lax.Mul(x, x);
            y = Lax.ShiftRightLogical(y, one);
        }
        return acc;
    }
    /// <summary>Elementwise maximum (NaN propagates).</summary>
    public static Tensor Maximum(Tensor x, Tensor y) => Binary("maximum", Lax.Max, x, y);
    /// <summary>Elementwise minimum (NaN propagates).</summary>
    public static Tensor Minimum(Tensor x, Tensor y) => Binary("minimum", Lax.Min, x, y);
    /// <summary>arctan2(y, x) as NumPy orders it: the angle of the point (x, y).</summary>
    public static Tensor Arctan2(Tensor y, Tensor x) => Binary("arctan2", Lax.Atan2, y, x);
    /// <summary>Logical/bitwise and.</summary>
    public static Tensor BitwiseAnd(Tensor x, Tensor y) => Binary("bitwise_and", Lax.And, x, y);
    /// <summary>Logical/bitwise or.</summary>
    public static Tensor BitwiseOr(Tensor x, Tensor y) => Binary("bitwise_or", Lax.Or, x, y);
    /// <summary>Logical/bitwise xor.</summary>
    public static Tensor BitwiseXor(Tensor x, Tensor y) => Binary("bitwise_xor", Lax.Xor, x, y);
    /// <summary>x == y.</summary>
    public static Tensor Equal(Tensor x, Tensor y) => Binary("equal", Lax.Eq, x, y);
    /// <summary>x != y.</summary>
    public static Tensor NotEqual(Tensor x, Tensor y) => Binary("not_equal", Lax.Ne, x, y);
    /// <summary>x &lt; y.</summary>
    public static Tensor Less(Tensor x, Tensor y) => Binary("less", Lax.Lt, x, y);
    /// <summary>x &lt;= y.</summary>
    public static Tensor LessEqual(Tensor x, Tensor y) => Binary("less_equal", Lax.Le, x, y);
    /// <summary>x &gt; y.</summary>
    public static Tensor Greater(Tensor x, Tensor y) => Binary("greater", Lax.Gt, x, y);
    /// <summary>x &gt;= y.</summary>
    public static Tensor GreaterEqual(Tensor x, Tensor y) => Binary("greater_equal", Lax.Ge, x, y);

    /// <summary>Where <paramref name="condition"/> picks x, else y, with broadcasting and promotion.</summary>
    public static Tensor Where(Tensor condition, Tensor x, Tensor y)
    {
        var c = condition.DType == DType.Bool ? condition : Lax.Ne(condition, Lax.BroadcastInDim(Tensor.Scalar(0, condition.DType), condition.Shape));
        var p = Promote(x, y);
        var shape = BroadcastShapes("where", c.Shape, p[0].Shape, p[1].Shape);
        return Lax.Select(BroadcastTo(c, shape), BroadcastTo(p[0], shape), BroadcastTo(p[1], shape));
    }

    /// <summary>Clips to [min, max] (either bound may be null).</summary>
    public static Tensor Clip(Tensor x, Tensor? min = null, Tensor? max = null)
    {
        if (min is not null) x = Maximum(x, min);
        if (max is not null) x = Minimum(x, max);
        return x;
    }

    /// <summary>Converts to <paramref name="dtype"/> (strongly typed); float to integer as <see cref="Lax.ConvertElementType"/>.</summary>
    public static Tensor AsType(Tensor x, DType dtype) => Lax.ConvertElementType(x, dtype);

    /// <summary>-x.</summary>
    public static Tensor Negative(Tensor x) => Lax.Neg(x);
    /// <summary>e^x (integers promote to float32).</summary>
    public static Tensor Exp(Tensor x) => Lax.Exp(ToFloat(x));
    /// <summary>Natural log.</summary>
    public static Tensor Log(Tensor x) => Lax.Log(ToFloat(x));
    /// <summary>log(1 + x).</summary>
    public static Tensor Log1p(Tensor x) => Lax.Log1p(ToFloat(x));
    /// <summary>e^x - 1.</summary>
    public static Tensor Expm1(Tensor x) => Lax.Expm1(ToFloat(x));
    /// <summary>tanh(x).</summary>
    public static Tensor Tanh(Tensor x) => Lax.Tanh(ToFloat(x));
    /// <summary>sqrt(x).</summary>
    public static Tensor Sqrt(Tensor x) => Lax.Sqrt(ToFloat(x));
    /// <summary>jnp.tan (integers promote to float32).</summary>
    public static Tensor Tan(Tensor x) => Lax.Tan(ToFloat(x));
    /// <summary>jnp.arcsin (integers promote to float32).</summary>
    public static Tensor Arcsin(Tensor x) => Lax.Asin(ToFloat(x));
    /// <summary>jnp.arccos (integers promote to float32).</summary>
    public static Tensor Arccos(Tensor x) => Lax.Acos(ToFloat(x));
    /// <summary>jnp.arctan (integers promote to float32).</summary>
    public static Tensor Arctan(Tensor x) => Lax.Atan(ToFloat(x));
    /// <summary>jnp.sinh (integers promote to float32).</summary>
    public static Tensor Sinh(Tensor x) => Lax.Sinh(ToFloat(x));
    /// <summary>jnp.cosh (integers promote to float32).</summary>
    public static Tensor Cosh(Tensor x) => Lax.Cosh(ToFloat(x));
    /// <summary>jnp.arcsinh (integers promote to float32).</summary>
    public static Tensor Arcsinh(Tensor x) => Lax.Asinh(ToFloat(x));
    /// <summary>jnp.arccosh (integers promote to float32).</summary>
    public static Tensor Arccosh(Tensor x) => Lax.Acosh(ToFloat(x));
    /// <summary>jnp.arctanh (integers promote to float32).</summary>
    public static Tensor Arctanh(Tensor x) => Lax.Atanh(ToFloat(x));
    /// <summary>jnp.cbrt (integers promote to float32).</summary>
    public static Tensor Cbrt(Tensor x) => Lax.Cbrt(ToFloat(x));
    /// <summary>erf(x) (jax.scipy.special.erf; integers promote to float32).</summary>
    public static Tensor Erf(Tensor x) => Lax.Erf(ToFloat(x));
    /// <summary>erfc(x) = 1 - erf(x), accurate in the tail (jax.scipy.special.erfc; integers promote to float32).</summary>
    public static Tensor Erfc(Tensor x) => Lax.Erfc(ToFloat(x));
    /// <summary>sin(x).</summary>
    public static Tensor Sin(Tensor x) => Lax.Sin(ToFloat(x));
    /// <summary>cos(x).</summary>
    public static Tensor Cos(Tensor x) => Lax.Cos(ToFloat(x));
    /// <summary>|x|.</summary>
    public static Tensor Abs(Tensor x) => Lax.Abs(x);
    /// <summary>sign(x).</summary>
    public static Tensor Sign(Tensor x) => Lax.Sign(x);
    /// <summary>floor(x) (integers unchanged).</summary>
    public static Tensor Floor(Tensor x) => x.DType.IsFloat() ? Lax.Floor(x) : x;
    /// <summary>ceil(x) (integers unchanged).</summary>
    public static Tensor Ceil(Tensor x) => x.DType.IsFloat() ? Lax.Ceil(x) : x;
    /// <summary>Rounds half to even, as NumPy does (integers unchanged).</summary>
    public static Tensor Round(Tensor x) => x.DType.IsFloat() ? Lax.Round(x, RoundingMethod.ToNearestEven) : x;
    /// <summary>True where finite.</summary>
    public static Tensor IsFinite(Tensor x) => x.DType.IsFloat() ? Lax.IsFinite(x) : Lax.BroadcastInDim(Tensor.Scalar(1, DType.Bool), x.Shape);
    /// <summary>Logical not (bool) or bitwise not (integers).</summary>
    public static Tensor LogicalNot(Tensor x) => Lax.Not(x.DType == DType.Bool ? x : Lax.Eq(x, Lax.BroadcastInDim(Tensor.Scalar(0, x.DType), x.Shape)));
    /// <summary>
    /// max(x, 0) (jax.nn.relu). Float inputs are differentiated by jax.nn.relu's custom JVP,
    /// <c>select(x &gt; 0, t, 0)</c>, so the derivative at 0 is 0 (max's tie rule would give 0.5).
    /// </summary>
    public static Tensor Relu(Tensor x) => x.DType.IsFloat() ? ReluFn(x) : Maximum(x, 0);

    // jax/_src/nn/functions.py: relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0))).
    static readonly Func<Tensor, Tensor> ReluFn = Transforms.CustomJvp(
        x => Maximum(x, 0), (x, t) => (ReluFn!(x), Where(x > 0, t, ZerosLike(t))), "relu");
    /// <summary>1 / (1 + e^-x).</summary>
    public static Tensor Sigmoid(Tensor x) => Lax.Logistic(ToFloat(x));

    /// <summary>Integers and bool promote to float32 (weak stays weak) for transcendental functions.</summary>
    static Tensor ToFloat(Tensor x) => x.DType.IsFloat() ? x : Lax.ConvertElementType(x, DType.Float32, x.IsWeak);
}
