using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static Tensor Zeros(Tensor like) => Np.ZerosLike(like);
    static Tensor Const(Tensor like, double v) => Np.FullLike(like, v);

    static (Tensor[], Tensor?[]) One(Tensor p, Tensor? t) => (new[] { p }, new[] { t });

    static void Unary(Primitive p, Func<Tensor, Tensor, Tensor, Tensor>? tangent)
    {
        // tangent(x, y, t): the output tangent from input x, output y and input tangent t.
        p.Jvp = (xs, ts, ps) =>
        {
            var y = p.Bind1(ps, xs[0]);
            return One(y, tangent == null || ts[0] is null ? null : tangent(xs[0], y, ts[0]!));
        };
        p.Batch = (ctx, xs, ds, ps) => (new[] { p.Bind1(ps, xs[0]) }, new[] { ds[0] });
    }

    static void Elementwise(Primitive p)
    {
        p.Batch = (ctx, xs, ds, ps) =>
        {
            var (args, d) = BatchRules.Align(xs, ds, ctx.AxisSize);
            var outs = p.Bind(ps, args);
            return (outs, Enumerable.Repeat<int?>(d, outs.Length).ToArray());
        };
    }

    static partial void RegisterElementwise()
    {
        Unary(Prims.Neg, (x, y, t) => Lax.Neg(t));
        Unary(Prims.Exp, (x, y, t) => Lax.Mul(t, y));
        Unary(Prims.Log, (x, y, t) => Lax.Div(t, x));
        Unary(Prims.Log1p, (x, y, t) => Lax.Div(t, Lax.Add(x, Const(x, 1))));
        Unary(Prims.Expm1, (x, y, t) => Lax.Mul(t, Lax.Add(y, Const(y, 1))));
        Unary(Prims.Tanh, (x, y, t) => Lax.Mul(t, Lax.Sub(Const(y, 1), Lax.Mul(y, y))));
        Unary(Prims.Logistic, (x, y, t) => Lax.Mul(t, Lax.Mul(y, Lax.Sub(Const(y, 1), y))));
        Unary(Prims.Sqrt, (x, y, t) => Lax.Div(t, Lax.Mul(Const(y, 2), y)));
        Unary(Prims.Rsqrt, (x, y, t) => Lax.Mul(t, Lax.Mul(Const(y, -0.5), Lax.Div(y, x))));
        // jax/_src/lax/lax.py _abs_jvp_rule: select(x >= 0, t, -t), so abs'(0) = 1 (and abs'(NaN) = -1).
        Unary(Prims.Abs, (x, y, t) => Lax.Select(Lax.Ge(x, Zeros(x)), t, Lax.Neg(t)));
        Unary(Prims.Sign, null);
        Unary(Prims.Sin, (x, y, t) => Lax.Mul(t, Lax.Cos(x)));
        Unary(Prims.Cos, (x, y, t) => Lax.Neg(Lax.Mul(t, Lax.Sin(x))));
        Unary(Prims.Erf, (x, y, t) => Lax.Mul(t, Lax.Mul(Const(x, 2 / Math.Sqrt(Math.PI)), Lax.Exp(Lax.Neg(Lax.Mul(x, x))))));
        Unary(Prims.ErfInv, (x, y, t) => Lax.Mul(t, Lax.Mul(Const(y, Math.Sqrt(Math.PI) / 2), Lax.Exp(Lax.Mul(y, y)))));
        Unary(Prims.Floor, null);
        Unary(Prims.Ceil, null);
        Unary(Prims.Round, null);
        Unary(Prims.IsFinite, null);
        Unary(Prims.Not, null);
        Unary(Prims.StopGradient, null);
        Prims.Neg.Transpose = (cts, args, ps) => new[] { cts[0] is { } c ? Lax.Neg(c) : null };

        foreach (var p in new[] { Prims.Add, Prims.Sub, Prims.Mul, Prims.Div, Prims.Rem, Prims.Pow, Prims.Max, Prims.Min, Prims.Atan2,
                     Prims.And, Prims.Or, Prims.Xor, Prims.ShiftLeft, Prims.ShiftRightLogical, Prims.ShiftRightArithmetic,
                     Prims.Eq, Prims.Ne, Prims.Lt, Prims.Le, Prims.Gt, Prims.Ge, Prims.Select })
            Elementwise(p);
        // Comparisons and bitwise operations have integer or boolean outputs: no tangent.
        foreach (var p in new[] { Prims.And, Prims.Or, Prims.Xor, Prims.ShiftLeft, Prims.ShiftRightLogical, Prims.ShiftRightArithmetic,
                     Prims.Eq, Prims.Ne, Prims.Lt, Prims.Le, Prims.Gt, Prims.Ge })
            p.Jvp = (xs, ts, ps) => One(p.Bind1(ps, xs), null);

        Prims.Add.Jvp = (xs, ts, ps) => One(Lax.Add(xs[0], xs[1]), AddTangents(ts[0], ts[1]));
        Prims.Sub.Jvp = (xs, ts, ps) => One(Lax.Sub(xs[0], xs[1]),
            ts[1] is null ? ts[0] : ts[0] is null ? Lax.Neg(ts[1]!) : Lax.Sub(ts[0]!, ts[1]!));
        Prims.Mul.Jvp = (xs, ts, ps) => One(Lax.Mul(xs[0], xs[1]),
            AddTangents(ts[0] is { } ta ? Lax.Mul(ta, xs[1]) : null, ts[1] is { } tb ? Lax.Mul(xs[0], tb) : null));
        Prims.Div.Jvp = (xs, ts, ps) =>
        {
            var y = Lax.Div(xs[0], xs[1]);
            var t = AddTangents(ts[0] is { } ta ? Lax.Div(ta, xs[1]) : null,
                                ts[1] is { } tb ? Lax.Neg(Lax.Mul(tb, Lax.Div(y, xs[1]))) : null);
            return One(y, t);
        };
        Prims.Rem.Jvp = (xs, ts, ps) =>
        {
            var y = Lax.Rem(xs[0], xs[1]);
            Tensor? tb = null;
            if (ts[1] is { } t1)
            {
                var q = Lax.Div(xs[0], xs[1]);
                tb = Lax.Neg(Lax.Mul(t1, Lax.Mul(Lax.Sign(q), Lax.Floor(Lax.Abs(q)))));
            }
            return One(y, AddTangents(ts[0], tb));
        };
        Prims.Pow.Jvp = (xs, ts, ps) =>
        {
            var (x, e) = (xs[0], xs[1]);
            var y = Lax.Pow(x, e);
            Tensor? tx = null, te = null;
            if (ts[0] is { } t0)
            {
                // jax/_src/lax/lax.py _pow_jvp_lhs for a float exponent: t * (e * x^(e-1)), so
                // d/dx x^0.0 at x = 0 is 0 * inf = NaN as in JAX (the integer-exponent rule's zero
                // slope is Np.Power's, which keeps integer exponents integer).
                tx = Lax.Mul(t0, Lax.Mul(e, Lax.Pow(x, Lax.Sub(e, Const(e, 1)))));
            }
            if (ts[1] is { } t1)
            {
                // _pow_jvp_rhs: t * (log(x) * x^e) with log(1) where x == 0.
                var d = Lax.Mul(Lax.Log(Lax.Select(Lax.Eq(x, Zeros(x)), Const(x, 1), x)), y);
                te = Lax.Mul(t1, d);
            }
            return One(y, AddTangents(tx, te));
        };
        Prims.Max.Jvp = (xs, ts, ps) => MinMaxJvp(Prims.Max, xs, ts, ps);
        Prims.Min.Jvp = (xs, ts, ps) => MinMaxJvp(Prims.Min, xs, ts, ps);
        Prims.Atan2.Jvp = (xs, ts, ps) =>
        {
            var (x, y) = (xs[0], xs[1]);
            var r2 = Lax.Add(Lax.Mul(x, x), Lax.Mul(y, y));
            return One(Lax.Atan2(x, y), AddTangents(ts[0] is { } t0 ? Lax.Mul(t0, Lax.Div(y, r2)) : null,
                                                   ts[1] is { } t1 ? Lax.Neg(Lax.Mul(t1, Lax.Div(x, r2))) : null));
        };
        Prims.Select.Jvp = (xs, ts, ps) =>
        {
            var y = Lax.Select(xs[0], xs[1], xs[2]);
            if (ts[1] is null && ts[2] is null) return One(y, null);
            return One(y, Lax.Select(xs[0], ts[1] ?? Zeros(xs[1]), ts[2] ?? Zeros(xs[2])));
        };

        // Transposes of the linear ones.
        Prims.Add.Transpose = (cts, a, ps) => new[] { a[0].IsLinear ? cts[0] : null, a[1].IsLinear ? cts[0] : null };
        Prims.Sub.Transpose = (cts, a, ps) => new[] { a[0].IsLinear ? cts[0] : null, a[1].IsLinear && cts[0] is { } c ? Lax.Neg(c) : null };
        Prims.Mul.Transpose = (cts, a, ps) =>
        {
            if (a[0].IsLinear && a[1].IsLinear) throw new InvalidOperationException("mul: transpose of a product of two linear values (the program is not linear)");
            var c = cts[0];
            return new[] { a[0].IsLinear && c is not null ? Lax.Mul(c, a[1].Known) : null,
                           a[1].IsLinear && c is not null ? Lax.Mul(a[0].Known, c) : null };
        };
        Prims.Div.Transpose = (cts, a, ps) =>
        {
            if (a[1].IsLinear) throw new InvalidOperationException("div: transpose with respect to the divisor (the program is not linear)");
            return new[] { cts[0] is { } c ? Lax.Div(c, a[1].Known) : null, null };
        };
        Prims.Select.Transpose = (cts, a, ps) =>
        {
            if (a[0].IsLinear) throw new InvalidOperationException("select: the predicate cannot be linear");
            if (cts[0] is not { } c) return new Tensor?[3];
            var z = Zeros(c);
            return new[] { null, a[1].IsLinear ? Lax.Select(a[0].Known, c, z) : null, a[2].IsLinear ? Lax.Select(a[0].Known, z, c) : null };
        };
    }

    // jax/_src/lax/lax.py: max/min JVP is t_x * balanced_eq(x, ans, y) + t_y * balanced_eq(y, ans, x),
    // balanced_eq(a, z, b) = (a == z ? 1 : 0) / (b == z ? 2 : 1): ties split the tangent evenly and a
    // NaN result (no operand equals it) gets no tangent. Only nonzero tangents contribute.
    static (Tensor[], Tensor?[]) MinMaxJvp(Primitive p, Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var y = p.Bind1(ps, xs[0], xs[1]);
        if (ts[0] is null && ts[1] is null) return One(y, null);
        Tensor BalancedEq(Tensor a, Tensor b)
            => Lax.Div(Lax.Select(Lax.Eq(a, y), Const(y, 1), Zeros(y)), Lax.Select(Lax.Eq(b, y), Const(y, 2), Const(y, 1)));
        return One(y, AddTangents(ts[0] is { } ta ? Lax.Mul(ta, BalancedEq(xs[0], xs[1])) : null,
                                  ts[1] is { } tb ? Lax.Mul(tb, BalancedEq(xs[1], xs[0])) : null));
    }

    /// <summary>Sum of two tangents where null is a symbolic zero.</summary>
    internal static Tensor? AddTangents(Tensor? a, Tensor? b) => a is null ? b : b is null ? a : Lax.Add(a, b);
}
