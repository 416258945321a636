using Stax.Tracing;

namespace Stax.Rules;

/// <summary>
/// Program-level tools shared by the control-flow primitives: closure conversion, derived programs
/// (JVP, batched, partially evaluated, transposed) of a sub-program, and builders that turn staged
/// programs with constants into the primitives' parameters.
/// </summary>
internal static class ControlFlowPrograms
{
    /// <summary>A derived program cached per owner (a parameter record) and variant key.</summary>
    public static T Derived<T>(object owner, string key, Func<T> make) => DerivedPrograms.Get(owner, key, make);

    public static string Mask(IEnumerable<bool> m) => string.Concat(m.Select(b => b ? '1' : '0'));

    public static Shape Prepend(int n, Shape s) => new(new[] { n }.Concat(s.ToArray()).ToArray());

    public static Tensor ZeroTensor(AbstractValue a) => Lax.BroadcastInDim(Tensor.Scalar(0, a.DType), a.Shape);

    public static AbstractValue Strong(AbstractValue a) => a with { Weak = false };

    /// <summary>Closure conversion: constants become leading inputs.</summary>
    public static (Jaxpr Jaxpr, Tensor[] Consts) Convert(ClosedJaxpr c) => c.ConstantsAsInputs();

    /// <summary>A JVP program's results as the JVP rule returns them: the primal outputs, then the
    /// tangents of the outputs marked in <paramref name="outNz"/> (null for the others).</summary>
    public static (Tensor[] Primals, Tensor?[] Tangents) PrimalsAndTangents(Tensor[] results, bool[] outNz)
    {
        int n = outNz.Length, q = n;
        var tangents = new Tensor?[n];
        for (int i = 0; i < n; i++) if (outNz[i]) tangents[i] = results[q++];
        return (results[..n], tangents);
    }

    public static Jaxpr WithInputs(Jaxpr j, IEnumerable<Var> inVars) => new(j.ConstVars, inVars.ToArray(), j.Eqns, j.OutVars);

    public static Jaxpr WithOutputs(Jaxpr j, IEnumerable<Var> outVars) => new(j.ConstVars, j.InVars, j.Eqns, outVars.ToArray());

    public static ClosedJaxpr WithOutputs(ClosedJaxpr c, IEnumerable<Var> outVars) => new(WithOutputs(c.Jaxpr, outVars), c.Consts);

    // ---------------- derived programs ----------------

    /// <summary>
    /// The JVP of <paramref name="j"/>: inputs are the primals then the tangents of the inputs marked
    /// in <paramref name="nzIn"/>; outputs are the primal outputs then the non-zero output tangents
    /// (<paramref name="instantiate"/> forces zeros for float outputs).
    /// </summary>
    public static (ClosedJaxpr Jaxpr, bool[] OutNz) JvpJaxpr(Jaxpr j, bool[] nzIn, bool[] instantiate, string name)
    {
        int n = j.InVars.Length;
        bool[] outNz = Array.Empty<bool>();
        var inAvals = j.InAvals.Concat(j.InAvals.Where((_, i) => nzIn[i]).Select(Strong)).ToArray();
        var closed = StagingTrace.Stage(args =>
        {
            var tangents = new Tensor?[n];
            int k = n;
            for (int i = 0; i < n; i++) if (nzIn[i]) tangents[i] = args[k++];
            using var scope = TraceState.Begin(l => new JvpTrace(l));
            var tr = scope.Trace;
            var ins = args[..n].Select((x, i) => tr.New(x, tangents[i])).ToArray();
            var outs = JaxprEval.Eval(j, Array.Empty<Tensor>(), ins).Select(tr.Unpack).ToArray();
            var tOut = outs.Select((u, i) => u.Tangent ?? (instantiate[i] && u.Primal.DType.IsFloat() ? ZeroTensor(Strong(u.Primal.Aval)) : null)).ToArray();
            outNz = tOut.Select(t => t is not null).ToArray();
            return outs.Select(u => u.Primal).Concat(tOut.Where(t => t is not null).Select(t => t!)).ToArray();
        }, inAvals, name + " jvp");
        return (closed, outNz);
    }

    /// <summary>
    /// The batched <paramref name="j"/>: inputs marked in <paramref name="batchedIn"/> carry the mapped
    /// axis at 0; outputs are mapped at 0 where batched (or forced), else unmapped.
    /// </summary>
    public static (ClosedJaxpr Jaxpr, bool[] OutBatched) BatchJaxpr(Jaxpr j, int size, string? axisName, bool[] batchedIn, bool[] force, string name)
    {
        bool[] outB = Array.Empty<bool>();
        var inAvals = j.InAvals.Select((a, i) => batchedIn[i] ? a with { Shape = Prepend(size, a.Shape) } : a).ToArray();
        var closed = StagingTrace.Stage(args =>
        {
            using var scope = TraceState.Begin(l => new BatchTrace(l, size, axisName));
            var tr = scope.Trace;
            var ins = args.Select((a, i) => tr.New(a, batchedIn[i] ? 0 : null)).ToArray();
            var outs = JaxprEval.Eval(j, Array.Empty<Tensor>(), ins).Select(tr.Unpack).ToArray();
            outB = outs.Select((o, i) => o.Dim is not null || force[i]).ToArray();
            return outs.Select((o, i) => outB[i] ? BatchRules.MoveTo(o.Value, o.Dim, 0, size) : o.Value).ToArray();
        }, inAvals, name + " vmap");
        return (closed, outB);
    }

    /// <summary>
    /// The transpose of a linear program: inputs are the known (non-linear) inputs then the non-zero
    /// output cotangents; outputs are the cotangents of the linear inputs (zeros instantiated).
    /// </summary>
    public static ClosedJaxpr TransposeJaxpr(Jaxpr j, bool[] linear, bool[] ctNz, string name)
    {
        var inAvals = j.InAvals.Where((_, i) => !linear[i])
            .Concat(j.OutAvals.Where((_, i) => ctNz[i]).Select(Strong)).ToArray();
        return StagingTrace.Stage(args =>
        {
            var full = new Tensor?[linear.Length];
            int k = 0;
            for (int i = 0; i < linear.Length; i++) if (!linear[i]) full[i] = args[k++];
            var cts = new Tensor?[ctNz.Length];
            for (int i = 0; i < ctNz.Length; i++) if (ctNz[i]) cts[i] = args[k++];
            var res = Transposer.BackwardPass(j, Array.Empty<Tensor>(), full, cts);
            var outs = new List<Tensor>();
            for (int i = 0; i < linear.Length; i++)
                if (linear[i]) outs.Add(res[i] ?? ZeroTensor(Strong(j.InVars[i].Aval)));
            return outs.ToArray();
        }, inAvals, name + " transpose");
    }

    // ---------------- builders ----------------

    /// <summary>
    /// Cond parameters from staged branches (same inputs, same outputs): every branch program takes
    /// all branches' constants first (ignoring the others'), then the operands.
    /// </summary>
    public static (CondParams Params, Tensor[] Consts) MakeCond(IReadOnlyList<ClosedJaxpr> branches)
    {
        var js = new Jaxpr[branches.Count];
        for (int b = 0; b < branches.Count; b++)
        {
            var ins = new List<Var>();
            for (int o = 0; o < branches.Count; o++)
            {
                if (o == b) ins.AddRange(branches[b].Jaxpr.ConstVars);
                else ins.AddRange(branches[o].Jaxpr.ConstVars.Select(v => new Var(v.Aval)));
            }
            var j = branches[b].Jaxpr;
            ins.AddRange(j.InVars);
            js[b] = new Jaxpr(Array.Empty<Var>(), ins.ToArray(), j.Eqns, j.OutVars);
        }
        return (new CondParams(js), branches.SelectMany(b => b.Consts).ToArray());
    }

    /// <summary>Binds cond on an index and operands.</summary>
    public static Tensor[] BindCond(Tensor index, IReadOnlyList<ClosedJaxpr> branches, IEnumerable<Tensor> operands)
    {
        var (p, consts) = MakeCond(branches);
        return Prims.Cond.Bind(p, new[] { index }.Concat(consts).Concat(operands).ToArray());
    }

    /// <summary>While parameters from a staged predicate (nc constants, carry) and body (nb constants, carry).</summary>
    public static (WhileParams Params, Tensor[] CondConsts, Tensor[] BodyConsts) MakeWhile(ClosedJaxpr cond, int nc, ClosedJaxpr body, int nb)
    {
        var (cj, cc) = Convert(cond);
        var (bj, bc) = Convert(body);
        return (new WhileParams(cj, cc.Length + nc, bj, bc.Length + nb), cc, bc);
    }

    /// <summary>Binds while: predicate constants, body constants, initial carry.</summary>
    public static Tensor[] BindWhile(ClosedJaxpr cond, IEnumerable<Tensor> condConsts, ClosedJaxpr body, IEnumerable<Tensor> bodyConsts, IEnumerable<Tensor> carry)
    {
        var cca = condConsts.ToArray();
        var bca = bodyConsts.ToArray();
        var (p, cc, bc) = MakeWhile(cond, cca.Length, body, bca.Length);
        return Prims.While.Bind(p, cc.Concat(cca).Concat(bc).Concat(bca).Concat(carry).ToArray());
    }

    /// <summary>Scan parameters from a staged body (nConsts constants, nCarry carries, xs).</summary>
    public static (ScanParams Params, Tensor[] Consts) MakeScan(ClosedJaxpr body, int nConsts, int nCarry, int length, bool reverse, int unroll)
    {
        var (j, c) = Convert(body);
        return (new ScanParams(j, length, reverse, unroll, c.Length + nConsts, nCarry), c);
    }
}
