using Stax.Rules;
using Stax.Tracing;

namespace Stax;

/// <summary>
/// Structured control flow (jax.lax.cond, switch, while_loop, fori_loop, scan, map). A C# <c>if</c> or
/// loop runs while tracing, so it cannot depend on a traced value; these functions stage their
/// functions as sub-programs of one primitive instead, which every transformation understands
/// (Grad, Vmap, Jit, ...). Operands, carries, xs and ys are trees of tensors (see <see cref="Tree"/>).
/// </summary>
public static class ControlFlow
{
    // ---------------- helpers ----------------

    static ClosedJaxpr Stage(Func<Tensor[], Tensor[]> f, AbstractValue[] avals, string name)
    {
        Rules.RuleRegistry.Ensure();
        return StagingTrace.Stage(f, avals, name);
    }

    static string Types(IEnumerable<AbstractValue> avals) => "(" + string.Join(", ", avals) + ")";

    static Tensor[] Leaves(object? tree) => Tree.Flatten(tree).Leaves;

    /// <summary>
    /// Matches a staged carry output to the carry input: weakly typed initial values (C# numbers) take
    /// the body's dtype (as JAX promotes weak carries); other mismatches are errors.
    /// </summary>
    static bool PromoteCarry(string who, Tensor[] init, AbstractValue[] outs)
    {
        bool changed = false;
        for (int i = 0; i < init.Length; i++)
        {
            var a = init[i].Aval;
            var o = outs[i];
            if (SubPrograms.SameType(a, o)) continue;
            if (a.Weak && a.Shape == o.Shape && a.DType != o.DType)
            {
                init[i] = Lax.ConvertElementType(init[i], o.DType);
                changed = true;
                continue;
            }
            throw new ArgumentException($"{who}: the body returns carry leaf {i} as {o}, but the initial carry has type {a}; the body must keep the carry's shapes and dtypes");
        }
        return changed;
    }

    // ---------------- cond / switch ----------------

    /// <summary>
    /// Runs <paramref name="trueFn"/> or <paramref name="falseFn"/> on <paramref name="operands"/>
    /// depending on the bool scalar <paramref name="pred"/> (jax.lax.cond). Both functions must return
    /// the same tree of types. Under Vmap with a mapped predicate both run and a select picks per element.
    /// </summary>
    public static TOut Cond<TIn, TOut>(Tensor pred, Func<TIn, TOut> trueFn, Func<TIn, TOut> falseFn, TIn operands)
    {
        ArgumentNullException.ThrowIfNull(pred);
        if (pred.Rank != 0)
            throw new ArgumentException($"Cond: the predicate must be a scalar, got {pred.Aval}");
        var index = pred.DType == DType.Bool ? Lax.ConvertElementType(pred, DType.Int32)
            : Lax.ConvertElementType(Lax.Ne(pred, Np.ZerosLike(pred)), DType.Int32);
        return SwitchCore("Cond", index, new[] { falseFn, trueFn }, operands, new[] { "false branch", "true branch" });
    }

    /// <summary>Tensor-array form of <see cref="Cond{TIn, TOut}(Tensor, Func{TIn, TOut}, Func{TIn, TOut}, TIn)"/>.</summary>
    public static Tensor[] Cond(Tensor pred, Func<Tensor[], Tensor[]> trueFn, Func<Tensor[], Tensor[]> falseFn, Tensor[] operands)
        => Cond<Tensor[], Tensor[]>(pred, trueFn, falseFn, operands);

    /// <summary>
    /// Runs <c>branches[clamp(index, 0, n - 1)]</c> on <paramref name="operands"/> (jax.lax.switch).
    /// <paramref name="index"/> is an integer scalar; all branches must return the same tree of types.
    /// </summary>
    public static TOut Switch<TIn, TOut>(Tensor index, IReadOnlyList<Func<TIn, TOut>> branches, TIn operands)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Count == 0) throw new ArgumentException("Switch: at least one branch is needed");
        if (index.Rank != 0 || !(index.DType.IsInteger() || index.DType == DType.Bool))
            throw new ArgumentException($"Switch: the index must be an integer scalar, got {index.Aval}");
        var i32 = index.DType == DType.Int32 && !index.IsWeak ? index : Lax.ConvertElementType(index, DType.Int32);
        return SwitchCore("Switch", i32, branches, operands, branches.Select((_, i) => $"branch {i}").ToArray());
    }

    /// <summary>Tensor-array form of <see cref="Switch{TIn, TOut}(Tensor, IReadOnlyList{Func{TIn, TOut}}, TIn)"/>.</summary>
    public static Tensor[] Switch(Tensor index, Func<Tensor[], Tensor[]>[] branches, Tensor[] operands)
        => Switch<Tensor[], Tensor[]>(index, branches, operands);

    static TOut SwitchCore<TIn, TOut>(string who, Tensor index, IReadOnlyList<Func<TIn, TOut>> branches, TIn operands, string[] names)
    {
        var (leaves, def) = Tree.Flatten(operands);
        var avals = leaves.Select(l => l.Aval).ToArray();
        var staged = new ClosedJaxpr[branches.Count];
        var defs = new TreeDef[branches.Count];
        for (int b = 0; b < branches.Count; b++)
        {
            var f = branches[b] ?? throw new ArgumentNullException(nameof(branches), $"{who}: {names[b]} is null");
            staged[b] = Stage(xs =>
            {
                var (outs, od) = Tree.Flatten(f(Tree.Unflatten<TIn>(def, xs)));
                defs[b] = od;
                return outs;
            }, avals, $"{who} {names[b]}");
        }
        for (int b = 1; b < branches.Count; b++)
        {
            var o0 = staged[0].Jaxpr.OutAvals;
            var ob = staged[b].Jaxpr.OutAvals;
            if (!defs[b].Equals(defs[0]) || ob.Length != o0.Length || !ob.Zip(o0).All(q => SubPrograms.SameType(q.First, q.Second)))
                throw new ArgumentException($"{who}: the branches must return the same types, but the {names[0]} returns {defs[0]} {Types(o0)} " +
                    $"and the {names[b]} returns {defs[b]} {Types(ob)}");
        }
        var res = ControlFlowPrograms.BindCond(index, staged, leaves);
        return Tree.Unflatten<TOut>(defs[0], res);
    }

    // ---------------- while ----------------

    /// <summary>
    /// <c>while (cond(carry)) carry = body(carry);</c> on traced values (jax.lax.while_loop). The
    /// predicate returns a bool scalar; the body keeps the carry's tree of types. Forward-mode
    /// differentiable; reverse mode needs a static trip count (use <see cref="Scan{TCarry, TX, TY}"/>
    /// or <see cref="ForiLoop{T}(int, int, Func{Tensor, T, T}, T, int)"/>).
    /// </summary>
    public static T WhileLoop<T>(Func<T, Tensor> cond, Func<T, T> body, T init)
    {
        ArgumentNullException.ThrowIfNull(cond);
        ArgumentNullException.ThrowIfNull(body);
        var (leaves, def) = Tree.Flatten(init);
        while (true)
        {
            var avals = leaves.Select(l => l.Aval).ToArray();
            var c = Stage(xs =>
            {
                var p = cond(Tree.Unflatten<T>(def, xs));
                if (p is null || p.Rank != 0 || p.DType != DType.Bool)
                    throw new ArgumentException($"WhileLoop: the predicate must return a bool scalar, got {p?.Aval.ToString() ?? "null"}");
                return new[] { p };
            }, avals, "WhileLoop cond");
            TreeDef? od = null;
            var b = Stage(xs =>
            {
                var (o, d) = Tree.Flatten(body(Tree.Unflatten<T>(def, xs)));
                od = d;
                return o;
            }, avals, "WhileLoop body");
            if (!od!.Equals(def))
                throw new ArgumentException($"WhileLoop: the body must return the carry's structure {def}, got {od}");
            if (PromoteCarry("WhileLoop", leaves, b.Jaxpr.OutAvals)) continue;
            var res = ControlFlowPrograms.BindWhile(c, Array.Empty<Tensor>(), b, Array.Empty<Tensor>(), leaves);
            return Tree.Unflatten<T>(def, res);
        }
    }

    /// <summary>Tensor-array form of <see cref="WhileLoop{T}(Func{T, Tensor}, Func{T, T}, T)"/>.</summary>
    public static Tensor[] WhileLoop(Func<Tensor[], Tensor> cond, Func<Tensor[], Tensor[]> body, Tensor[] init)
        => WhileLoop<Tensor[]>(cond, body, init);

    // ---------------- fori ----------------

    /// <summary>
    /// <c>for (i = lower; i &lt; upper; i++) carry = body(i, carry);</c> with a static trip count
    /// (jax.lax.fori_loop): lowered to a scan, so it supports reverse-mode differentiation.
    /// <c>i</c> is an int32 scalar.
    /// </summary>
    public static T ForiLoop<T>(int lower, int upper, Func<Tensor, T, T> body, T init, int unroll = 1)
    {
        ArgumentNullException.ThrowIfNull(body);
        int n = Math.Max(0, upper - lower);
        var (carry, _) = Scan<object?[], object?, object?>((c, _) =>
        {
            var i = (Tensor)c[0]!;
            var x = body(i, (T)c[1]!);
            return (new object?[] { Lax.Add(i, Tensor.Scalar(1, DType.Int32)), x }, null);
        }, new object?[] { Tensor.Scalar(lower, DType.Int32), init }, null, n, false, unroll);
        return (T)carry[1]!;
    }

    /// <summary>Tensor-array form of <see cref="ForiLoop{T}(int, int, Func{Tensor, T, T}, T, int)"/>.</summary>
    public static Tensor[] ForiLoop(int lower, int upper, Func<Tensor, Tensor[], Tensor[]> body, Tensor[] init)
        => ForiLoop<Tensor[]>(lower, upper, body, init);

    /// <summary>
    /// A fori loop whose bounds are tensors (integer scalars, possibly traced): lowered to a while loop,
    /// so it supports forward-mode differentiation only.
    /// </summary>
    public static T ForiLoop<T>(Tensor lower, Tensor upper, Func<Tensor, T, T> body, T init)
    {
        ArgumentNullException.ThrowIfNull(lower);
        ArgumentNullException.ThrowIfNull(upper);
        ArgumentNullException.ThrowIfNull(body);
        if (lower.Rank != 0 || !lower.DType.IsInteger() || upper.Rank != 0 || !upper.DType.IsInteger())
            throw new ArgumentException($"ForiLoop: the bounds must be integer scalars, got {lower.Aval} and {upper.Aval}");
        var lo = Lax.ConvertElementType(lower, DType.Int32);
        var hi = Lax.ConvertElementType(upper, DType.Int32);
        var r = WhileLoop<object?[]>(c => Lax.Lt((Tensor)c[0]!, (Tensor)c[1]!), c =>
        {
            var i = (Tensor)c[0]!;
            return new object?[] { Lax.Add(i, Tensor.Scalar(1, DType.Int32)), c[1], body(i, (T)c[2]!) };
        }, new object?[] { lo, hi, init });
        return (T)r[2]!;
    }

    // ---------------- scan / map ----------------

    /// <summary>
    /// jax.lax.scan: <c>carry, y = f(carry, x)</c> for each x along the leading axis of the tree
    /// <paramref name="xs"/> (last to first when <paramref name="reverse"/>); returns the final carry and
    /// the ys stacked along a new leading axis. <paramref name="length"/> is needed when there are no xs.
    /// <paramref name="unroll"/> is a lowering hint (iterations per loop trip) kept for JAX fidelity.
    /// </summary>
    public static (TCarry Carry, TY Ys) Scan<TCarry, TX, TY>(Func<TCarry, TX, (TCarry Carry, TY Y)> f, TCarry init, TX xs,
        int? length = null, bool reverse = false, int unroll = 1)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (unroll < 1) throw new ArgumentException($"Scan: unroll must be at least 1, got {unroll}");
        var (carry, cDef) = Tree.Flatten(init);
        var (xl, xDef) = Tree.Flatten(xs);
        int? n = length;
        if (n is int given && given < 0) throw new ArgumentException($"Scan: length must be non-negative, got {given}");
        for (int i = 0; i < xl.Length; i++)
        {
            if (xl[i].Rank == 0) throw new ArgumentException($"Scan: xs leaf {i} is a scalar ({xl[i].Aval}); xs must have a leading axis to scan over");
            int len = xl[i].Shape[0];
            if (n is int m && m != len)
                throw new ArgumentException($"Scan: xs leaf {i} has leading axis {len} (shape {xl[i].Shape}) but the length is {m}" +
                    (length is null ? " (from the other xs)" : ""));
            n = len;
        }
        if (n is not int steps) throw new ArgumentException("Scan: give a length when there are no xs");
        var xAvals = xl.Select(x => new AbstractValue(new Shape(x.Shape.ToArray()[1..]), x.DType, x.IsWeak)).ToArray();
        while (true)
        {
            TreeDef? cOut = null, yDef = null;
            int nK = carry.Length;
            var body = Stage(a =>
            {
                var (c2, y) = f(Tree.Unflatten<TCarry>(cDef, a[..nK]), Tree.Unflatten<TX>(xDef, a[nK..]));
                var (cl, cd) = Tree.Flatten(c2);
                var (yl, yd) = Tree.Flatten(y);
                cOut = cd;
                yDef = yd;
                return cl.Concat(yl).ToArray();
            }, carry.Select(c => c.Aval).Concat(xAvals).ToArray(), "Scan body");
            if (!cOut!.Equals(cDef))
                throw new ArgumentException($"Scan: the body must return a carry with the initial carry's structure {cDef}, got {cOut}");
            if (PromoteCarry("Scan", carry, body.Jaxpr.OutAvals[..nK])) continue;
            var (p, consts) = ControlFlowPrograms.MakeScan(body, 0, nK, steps, reverse, unroll);
            var res = Prims.Scan.Bind(p, consts.Concat(carry).Concat(xl).ToArray());
            return (Tree.Unflatten<TCarry>(cDef, res[..nK]), Tree.Unflatten<TY>(yDef!, res[nK..]));
        }
    }

    /// <summary>Tensor-array form of <see cref="Scan{TCarry, TX, TY}"/>.</summary>
    public static (Tensor[] Carry, Tensor[] Ys) Scan(Func<Tensor[], Tensor[], (Tensor[] Carry, Tensor[] Y)> f, Tensor[] init, Tensor[] xs,
        int? length = null, bool reverse = false, int unroll = 1)
        => Scan<Tensor[], Tensor[], Tensor[]>(f, init, xs, length, reverse, unroll);

    /// <summary>Applies <paramref name="f"/> to each slice of <paramref name="xs"/> along its leading axis, sequentially (jax.lax.map).</summary>
    public static TY Map<TX, TY>(Func<TX, TY> f, TX xs)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Scan<object?, TX, TY>((c, x) => (null, f(x)), null, xs).Ys;
    }

    /// <summary>Single-tensor form of <see cref="Map{TX, TY}"/>.</summary>
    public static Tensor Map(Func<Tensor, Tensor> f, Tensor xs) => Map<Tensor, Tensor>(f, xs);
}
