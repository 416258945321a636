using System.Text;
using Stax.Tracing;

namespace Stax.Extend;

/// <summary>Shared text and checks for the parameters of primitives that carry sub-programs.</summary>
internal static class SubPrograms
{
    public static string Indent(Jaxpr j, string label) => $"\n      {label}={j.ToString().Replace("\n", "\n      ")}";

    public static string Types(IEnumerable<AbstractValue> avals) => "(" + string.Join(", ", avals) + ")";

    public static bool SameType(AbstractValue a, AbstractValue b) => a.Shape == b.Shape && a.DType == b.DType;

    public static void CheckInputs(string who, ReadOnlySpan<AbstractValue> ins, int offset, Jaxpr j, int start, int count, string what)
    {
        for (int i = 0; i < count; i++)
            if (!SameType(ins[offset + i], j.InVars[start + i].Aval))
                throw new ArgumentException($"{who}: {what} {i} has type {ins[offset + i]}, the program expects {j.InVars[start + i].Aval}");
    }
}

/// <summary>
/// Parameters of <c>cond</c>: one program per branch. Every branch takes all the operands (the
/// captured values of every branch come first, then the user's operands) and returns the same types.
/// </summary>
public sealed record CondParams(Jaxpr[] Branches) : Params
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder($"branches={Branches.Length}");
        for (int i = 0; i < Branches.Length; i++) sb.Append(SubPrograms.Indent(Branches[i], $"branch{i}"));
        return sb.ToString();
    }

    /// <summary>Reference equality: one staged set of branches, one parameter set.</summary>
    public bool Equals(CondParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// Parameters of <c>while</c>: the predicate program (<paramref name="CondNConsts"/> constants, then
/// the carry → a bool scalar) and the body program (<paramref name="BodyNConsts"/> constants, then
/// the carry → the new carry). Operands: predicate constants, body constants, initial carry.
/// </summary>
public sealed record WhileParams(Jaxpr Cond, int CondNConsts, Jaxpr Body, int BodyNConsts) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"cond_nconsts={CondNConsts} body_nconsts={BodyNConsts}" + SubPrograms.Indent(Cond, "cond_jaxpr") + SubPrograms.Indent(Body, "body_jaxpr");

    /// <summary>Reference equality.</summary>
    public bool Equals(WhileParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// Parameters of <c>scan</c> (as jax.lax.scan_p): the body maps (constants, carry, x) to (carry, y);
/// operands are the <paramref name="NumConsts"/> constants, the <paramref name="NumCarry"/> initial
/// carries and the stacked xs (leading axis <paramref name="Length"/>); outputs are the final carries
/// and the stacked ys. <paramref name="Reverse"/> runs from the last element to the first;
/// <paramref name="Unroll"/> is a lowering hint (iterations per loop trip), kept for fidelity with
/// JAX; the CPU interpreter does not need it.
/// </summary>
public sealed record ScanParams(Jaxpr Body, int Length, bool Reverse, int Unroll, int NumConsts, int NumCarry) : Params
{
    /// <summary>Number of scanned inputs.</summary>
    public int NumXs => Body.InVars.Length - NumConsts - NumCarry;

    /// <summary>Number of stacked outputs.</summary>
    public int NumYs => Body.OutVars.Length - NumCarry;

    /// <inheritdoc/>
    public override string ToString()
        => $"length={Length} reverse={(Reverse ? "True" : "False")} unroll={Unroll} num_consts={NumConsts} num_carry={NumCarry}" + SubPrograms.Indent(Body, "jaxpr");

    /// <summary>Reference equality.</summary>
    public bool Equals(ScanParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>Parameters of <c>remat</c>: the (closure-converted) program and the saving policy.</summary>
public sealed record RematParams(Jaxpr Jaxpr, RematPolicy Policy) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"policy={Policy}" + SubPrograms.Indent(Jaxpr, "jaxpr");

    /// <summary>Reference equality.</summary>
    public bool Equals(RematParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// Parameters of <c>custom_vjp_call</c>: the staged function (its captured values are the first
/// <paramref name="NumConsts"/> inputs), and the user's forward and backward functions, which see only
/// the explicit inputs.
/// </summary>
public sealed record CustomVjpParams(string Name, Jaxpr Jaxpr, int NumConsts, CustomVjpForward Fwd, CustomVjpBackward Bwd) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"name={Name} num_consts={NumConsts} fwd=<custom> bwd=<custom>" + SubPrograms.Indent(Jaxpr, "call_jaxpr");

    /// <summary>Reference equality.</summary>
    public bool Equals(CustomVjpParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// Parameters of <c>custom_lin</c>: the linear map from input tangents to output tangents of a custom
/// VJP function, known only through its transpose (the user's backward function). Operands: the
/// <paramref name="NumResiduals"/> residuals, then the input tangents.
/// </summary>
public sealed record CustomLinParams(string Name, int NumResiduals, AbstractValue[] OutAvals, CustomVjpBackward Bwd) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"name={Name} num_res={NumResiduals} bwd=<custom>";

    /// <summary>Reference equality.</summary>
    public bool Equals(CustomLinParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

public static partial class Prims
{
    /// <summary>
    /// <c>cond</c>: runs branch <c>clamp(index, 0, n-1)</c> on the operands (jax.lax.switch / cond).
    /// Operand 0 is the int32 scalar index.
    /// </summary>
    public static readonly Primitive Cond = new("cond", PrimitiveFamily.Control, (ins, p) =>
    {
        var cp = (CondParams)p;
        if (cp.Branches.Length == 0) throw new ArgumentException("cond: at least one branch is needed");
        if (ins.Length < 1 || ins[0].Rank != 0 || ins[0].DType != DType.Int32)
            throw new ArgumentException($"cond: the index must be an int32 scalar, got {(ins.Length == 0 ? "nothing" : ins[0].ToString())}");
        var b0 = cp.Branches[0];
        if (ins.Length - 1 != b0.InVars.Length)
            throw new ArgumentException($"cond: the branches take {b0.InVars.Length} operands, got {ins.Length - 1}");
        SubPrograms.CheckInputs("cond", ins, 1, b0, 0, b0.InVars.Length, "operand");
        for (int b = 1; b < cp.Branches.Length; b++)
        {
            var br = cp.Branches[b];
            if (br.InVars.Length != b0.InVars.Length || !br.InAvals.Zip(b0.InAvals).All(q => SubPrograms.SameType(q.First, q.Second)))
                throw new ArgumentException($"cond: branch {b} takes {SubPrograms.Types(br.InAvals)}, branch 0 takes {SubPrograms.Types(b0.InAvals)}");
            if (br.OutVars.Length != b0.OutVars.Length || !br.OutAvals.Zip(b0.OutAvals).All(q => SubPrograms.SameType(q.First, q.Second)))
                throw new ArgumentException($"cond: branch {b} returns {SubPrograms.Types(br.OutAvals)}, branch 0 returns {SubPrograms.Types(b0.OutAvals)}; all branches must return the same types");
        }
        return b0.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            var cp = (CondParams)p;
            Cond!.AbstractEval(args.Select(a => a.Aval).ToArray(), p);
            int i = Math.Clamp(args[0].Item<int>(), 0, cp.Branches.Length - 1);
            return JaxprEval.Eval(cp.Branches[i], Array.Empty<Tensor>(), args[1..]);
        },
    };

    /// <summary><c>while</c>: repeats the body on the carry while the predicate holds (jax.lax.while_loop).</summary>
    public static readonly Primitive While = new("while", PrimitiveFamily.Control, (ins, p) =>
    {
        var wp = (WhileParams)p;
        int nc = wp.CondNConsts, nb = wp.BodyNConsts;
        int nCarry = wp.Body.InVars.Length - nb;
        if (nc < 0 || nb < 0 || nCarry < 0 || wp.Cond.InVars.Length != nc + nCarry)
            throw new ArgumentException($"while: inconsistent programs: the predicate takes {wp.Cond.InVars.Length} inputs ({nc} constants), the body {wp.Body.InVars.Length} ({nb} constants)");
        if (ins.Length != nc + nb + nCarry)
            throw new ArgumentException($"while: expected {nc + nb + nCarry} operands ({nc} predicate constants, {nb} body constants, {nCarry} carries), got {ins.Length}");
        if (wp.Cond.OutVars.Length != 1 || wp.Cond.OutAvals[0].Rank != 0 || wp.Cond.OutAvals[0].DType != DType.Bool)
            throw new ArgumentException($"while: the predicate must return one bool scalar, got {SubPrograms.Types(wp.Cond.OutAvals)}");
        if (wp.Body.OutVars.Length != nCarry)
            throw new ArgumentException($"while: the body must return the carry ({nCarry} values), got {wp.Body.OutVars.Length}");
        SubPrograms.CheckInputs("while", ins, 0, wp.Cond, 0, nc, "predicate constant");
        SubPrograms.CheckInputs("while", ins, nc, wp.Body, 0, nb, "body constant");
        SubPrograms.CheckInputs("while", ins, nc + nb, wp.Body, nb, nCarry, "carry");
        SubPrograms.CheckInputs("while", ins, nc + nb, wp.Cond, nc, nCarry, "carry");
        for (int i = 0; i < nCarry; i++)
            if (!SubPrograms.SameType(wp.Body.OutAvals[i], ins[nc + nb + i]))
                throw new ArgumentException($"while: the body returns carry {i} as {wp.Body.OutAvals[i]}, but the carry has type {ins[nc + nb + i]}; the body must keep the carry's types");
        return ins[(nc + nb)..].ToArray().Select(a => a with { Weak = false }).ToArray();
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            var wp = (WhileParams)p;
            While!.AbstractEval(args.Select(a => a.Aval).ToArray(), p);
            int nc = wp.CondNConsts, nb = wp.BodyNConsts;
            var cc = args[..nc];
            var bc = args[nc..(nc + nb)];
            var carry = args[(nc + nb)..];
            while (JaxprEval.Eval(wp.Cond, Array.Empty<Tensor>(), cc.Concat(carry).ToArray())[0].Item<bool>())
                carry = JaxprEval.Eval(wp.Body, Array.Empty<Tensor>(), bc.Concat(carry).ToArray());
            return carry;
        },
    };

    /// <summary><c>scan</c>: loops the body over the leading axis of the xs, threading a carry and stacking ys (jax.lax.scan).</summary>
    public static readonly Primitive Scan = new("scan", PrimitiveFamily.Control, (ins, p) =>
    {
        var sp = (ScanParams)p;
        var body = sp.Body;
        int nC = sp.NumConsts, nK = sp.NumCarry, nX = sp.NumXs;
        if (sp.Length < 0) throw new ArgumentException($"scan: length must be non-negative, got {sp.Length}");
        if (sp.Unroll < 1) throw new ArgumentException($"scan: unroll must be at least 1, got {sp.Unroll}");
        if (nC < 0 || nK < 0 || nX < 0 || sp.NumYs < 0)
            throw new ArgumentException($"scan: inconsistent program: {body.InVars.Length} inputs, {body.OutVars.Length} outputs, {nC} constants, {nK} carries");
        if (ins.Length != nC + nK + nX)
            throw new ArgumentException($"scan: expected {nC + nK + nX} operands ({nC} constants, {nK} carries, {nX} xs), got {ins.Length}");
        SubPrograms.CheckInputs("scan", ins, 0, body, 0, nC + nK, "constant or carry");
        for (int i = 0; i < nX; i++)
        {
            var x = ins[nC + nK + i];
            var want = body.InVars[nC + nK + i].Aval;
            if (x.Rank != want.Rank + 1 || x.Shape[0] != sp.Length || x.DType != want.DType || !x.Shape.ToArray()[1..].SequenceEqual(want.Shape.ToArray()))
                throw new ArgumentException($"scan: xs {i} has type {x}, expected leading axis {sp.Length} over {want}");
        }
        for (int i = 0; i < nK; i++)
            if (!SubPrograms.SameType(body.OutAvals[i], ins[nC + i]))
                throw new ArgumentException($"scan: the body returns carry {i} as {body.OutAvals[i]}, but the carry has type {ins[nC + i]}; the body must keep the carry's types");
        var outs = new AbstractValue[nK + sp.NumYs];
        for (int i = 0; i < nK; i++) outs[i] = ins[nC + i] with { Weak = false };
        for (int i = 0; i < sp.NumYs; i++)
        {
            var y = body.OutAvals[nK + i];
            outs[nK + i] = new AbstractValue(new Shape(new[] { sp.Length }.Concat(y.Shape.ToArray()).ToArray()), y.DType);
        }
        return outs;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            var sp = (ScanParams)p;
            var outAvals = Scan!.AbstractEval(args.Select(a => a.Aval).ToArray(), p);
            int nC = sp.NumConsts, nK = sp.NumCarry, nX = sp.NumXs, nY = sp.NumYs, n = sp.Length;
            var consts = args[..nC];
            var carry = args[nC..(nC + nK)];
            var xs = args[(nC + nK)..];
            var ys = new Tensor[nY][];
            for (int j = 0; j < nY; j++) ys[j] = new Tensor[n];
            for (int step = 0; step < n; step++)
            {
                int t = sp.Reverse ? n - 1 - step : step;
                var x = xs.Select(a => Lax.Squeeze(Lax.SliceInDim(a, t, t + 1, 1, 0), 0));
                var outs = JaxprEval.Eval(sp.Body, Array.Empty<Tensor>(), consts.Concat(carry).Concat(x).ToArray());
                carry = outs[..nK];
                for (int j = 0; j < nY; j++) ys[j][t] = Lax.ExpandDims(outs[nK + j], 0);
            }
            var stacked = new Tensor[nY];
            for (int j = 0; j < nY; j++)
            {
                var a = outAvals[nK + j];
                stacked[j] = n == 0 ? Lax.BroadcastInDim(Tensor.Scalar(0, a.DType), a.Shape)
                    : n == 1 ? ys[j][0] : Lax.Concatenate(ys[j], 0);
            }
            return carry.Concat(stacked).ToArray();
        },
    };

    /// <summary><c>remat</c> (jax.checkpoint): evaluates its program; differentiation recomputes it in the backward pass.</summary>
    public static readonly Primitive Remat = new("remat", PrimitiveFamily.Control, (ins, p) =>
    {
        var rp = (RematParams)p;
        if (ins.Length != rp.Jaxpr.InVars.Length)
            throw new ArgumentException($"remat: the program takes {rp.Jaxpr.InVars.Length} inputs, got {ins.Length}");
        SubPrograms.CheckInputs("remat", ins, 0, rp.Jaxpr, 0, ins.Length, "input");
        return rp.Jaxpr.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            Remat!.AbstractEval(args.Select(a => a.Aval).ToArray(), p);
            return JaxprEval.Eval(((RematParams)p).Jaxpr, Array.Empty<Tensor>(), args);
        },
    };

    /// <summary><c>custom_vjp_call</c>: evaluates the staged function; reverse mode uses the user's forward and backward functions.</summary>
    public static readonly Primitive CustomVjpCall = new("custom_vjp_call", PrimitiveFamily.Control, (ins, p) =>
    {
        var cp = (CustomVjpParams)p;
        if (ins.Length != cp.Jaxpr.InVars.Length)
            throw new ArgumentException($"custom_vjp_call ({cp.Name}): the function takes {cp.Jaxpr.InVars.Length} inputs (including {cp.NumConsts} captured values), got {ins.Length}");
        SubPrograms.CheckInputs($"custom_vjp_call ({cp.Name})", ins, 0, cp.Jaxpr, 0, ins.Length, "input");
        return cp.Jaxpr.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            CustomVjpCall!.AbstractEval(args.Select(a => a.Aval).ToArray(), p);
            return JaxprEval.Eval(((CustomVjpParams)p).Jaxpr, Array.Empty<Tensor>(), args);
        },
    };

    /// <summary><c>custom_lin</c>: the linearized custom-VJP function; it only exists to be transposed (by the user's backward function).</summary>
    public static readonly Primitive CustomLin = new("custom_lin", PrimitiveFamily.Control, (ins, p) =>
    {
        var lp = (CustomLinParams)p;
        if (ins.Length < lp.NumResiduals)
            throw new ArgumentException($"custom_lin ({lp.Name}): expected at least {lp.NumResiduals} residuals, got {ins.Length} operands");
        return lp.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) => throw new NotSupportedException(
            $"custom_vjp ({((CustomLinParams)p).Name}): forward-mode differentiation (Jvp, Linearize evaluated forwards) of a CustomVjp function is not supported; " +
            "a custom VJP only defines reverse mode (Grad, Vjp). Use CustomJvp for forward mode."),
    };
}
