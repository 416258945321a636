using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Stax.Tracing;

namespace Stax.Rules;

/// <summary>
/// Program-level tools shared by the control-flow primitives: closure conversion, derived programs
/// (JVP, batched, partially evaluated, transposed) of a sub-program, and builders that turn staged
/// programs with constants into the primitives' parameters.
/// </summary>
internal static class ControlFlowPrograms
{
    static readonly ConditionalWeakTable<object, ConcurrentDictionary<string, object>> Cache = new();

    /// <summary>A derived program cached per owner (a parameter record) and variant key.</summary>
    public static T Derived<T>(object owner, string key, Func<T> make)
        => (T)Cache.GetOrCreateValue(owner).GetOrAdd(key, _ => make()!);

    public static string Mask(IEnumerable<bool> m) => string.Concat(m.Select(b => b ? '1' : '0'));

    public static Shape Prepend(int n, Shape s) => new(new[] { n }.Concat(s.ToArray()).ToArray());

    public static Tensor ZeroTensor(AbstractValue a) => Lax.BroadcastInDim(Tensor.Scalar(0, a.DType), a.Shape);

    public static AbstractValue Strong(AbstractValue a) => a with { Weak = false };

    /// <summary>Closure conversion: constants become leading inputs.</summary>
    public static (Jaxpr Jaxpr, Tensor[] Consts) Convert(ClosedJaxpr c)
    {
        var j = c.Jaxpr;
        return (new Jaxpr(Array.Empty<Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars), c.Consts);
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
    /// A partial evaluation of a program: <see cref="Known"/> maps the known inputs to the known
    /// outputs followed by <see cref="NumResiduals"/> residuals; <see cref="Unknown"/> maps the
    /// residuals followed by the unknown inputs to the unknown outputs. Both carry only concrete
    /// constants.
    /// </summary>
    public sealed record PeResult(ClosedJaxpr Known, ClosedJaxpr Unknown, bool[] OutUnknown, int NumResiduals);

    /// <summary>
    /// Splits <paramref name="j"/> by running it under partial evaluation inside a staging trace, so that
    /// nested control flow is split by its own partial-evaluation rule (JAX's partial_eval_jaxpr_nounits).
    /// </summary>
    public static PeResult PartialEvalJaxpr(Jaxpr j, bool[] unknownIn, bool[] instantiate, string name)
    {
        int n = j.InVars.Length;
        bool[] outUnknown = Array.Empty<bool>();
        ClosedJaxpr? unk = null;
        var knownAvals = j.InAvals.Where((_, i) => !unknownIn[i]).ToArray();
        var known = StagingTrace.Stage(kargs =>
        {
            using var scope = TraceState.Begin(l => new PartialEvalTrace(l));
            var tr = scope.Trace;
            var unknownInputs = new List<Tensor>();
            var ins = new Tensor[n];
            int k = 0;
            for (int i = 0; i < n; i++)
            {
                if (unknownIn[i]) { ins[i] = tr.NewUnknown(j.InVars[i].Aval); unknownInputs.Add(ins[i]); }
                else ins[i] = tr.NewKnown(kargs[k++]);
            }
            var outs = JaxprEval.Eval(j, Array.Empty<Tensor>(), ins);
            outUnknown = outs.Select((o, i) => instantiate[i] || tr.KnownValue(o) is null).ToArray();
            var knownOuts = outs.Where((_, i) => !outUnknown[i]).Select(o => tr.KnownValue(o)!).ToArray();
            unk = tr.ToJaxpr(unknownInputs.ToArray(), outs.Where((_, i) => outUnknown[i]).ToArray());
            return knownOuts.Concat(unk.Consts.Where(c => !c.IsConcrete)).ToArray();
        }, knownAvals, name + " partial eval");
        var uj = unk!.Jaxpr;
        var resVars = new List<Var>();
        var constVars = new List<Var>();
        var constVals = new List<Tensor>();
        for (int i = 0; i < uj.ConstVars.Length; i++)
        {
            if (unk.Consts[i].IsConcrete) { constVars.Add(uj.ConstVars[i]); constVals.Add(unk.Consts[i]); }
            else resVars.Add(uj.ConstVars[i]);
        }
        var unknown = new ClosedJaxpr(new Jaxpr(constVars.ToArray(), resVars.Concat(uj.InVars).ToArray(), uj.Eqns, uj.OutVars), constVals.ToArray());
        return new PeResult(known, unknown, outUnknown, resVars.Count);
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

    // ---------------- inspection ----------------

    static readonly HashSet<Primitive> Structured = new() { Prims.Cond, Prims.While, Prims.Scan, Prims.Remat, Prims.CustomVjpCall };

    /// <summary>The sub-programs an equation's parameters carry.</summary>
    public static IEnumerable<Jaxpr> SubJaxprs(Params p) => p switch
    {
        JitParams jp => new[] { jp.Jaxpr },
        CustomJvpParams cj => new[] { cj.Jaxpr },
        CondParams cp => cp.Branches,
        WhileParams wp => new[] { wp.Cond, wp.Body },
        ScanParams sp => new[] { sp.Body },
        RematParams rp => new[] { rp.Jaxpr },
        CustomVjpParams vp => new[] { vp.Jaxpr },
        _ => Array.Empty<Jaxpr>(),
    };

    /// <summary>True when the program (or a program nested in it) uses structured control flow,
    /// which a purely syntactic known/unknown split cannot handle.</summary>
    public static bool ContainsStructured(Jaxpr j)
        => j.Eqns.Any(e => Structured.Contains(e.Primitive) || SubJaxprs(e.Params).Any(ContainsStructured));
}
