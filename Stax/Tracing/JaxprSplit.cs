namespace Stax.Tracing;

/// <summary>
/// Splits a program into the part computable from known inputs and the part that needs unknown
/// ones (partial evaluation of a staged program, used by jit under linearize). Known values that
/// unknown equations use become residuals: extra outputs of the known part, extra leading inputs
/// of the unknown part.
/// </summary>
internal static class JaxprSplit
{
    internal sealed record Result(JitParams Known, JitParams Unknown, bool[] OutUnknown)
    {
        /// <summary>Leading inputs of the known program (constants of a split made by tracing).</summary>
        public Tensor[] KnownConsts { get; init; } = Array.Empty<Tensor>();
        /// <summary>Leading inputs of the unknown program, before the residuals.</summary>
        public Tensor[] UnknownConsts { get; init; } = Array.Empty<Tensor>();
    }

    public static Result Split(JitParams p, bool[] unknownIn)
    {
        // Programs with structured control flow (cond, scan, ...) are split by tracing, so that each
        // nested equation is split by its own partial-evaluation rule.
        if (ContainsStructured(p.Jaxpr)) return SplitByTracing(p, unknownIn);
        var j = p.Jaxpr;
        if (j.ConstVars.Length > 0) throw new InvalidOperationException("Internal error: jit programs have no constants");
        var unknown = new HashSet<Var>();
        for (int i = 0; i < j.InVars.Length; i++) if (unknownIn[i]) unknown.Add(j.InVars[i]);
        var knownEqns = new List<Eqn>();
        var unknownEqns = new List<Eqn>();
        foreach (var e in j.Eqns)
        {
            if (e.Inputs.Any(unknown.Contains))
            {
                unknownEqns.Add(e);
                foreach (var o in e.Outputs) unknown.Add(o);
            }
            else knownEqns.Add(e);
        }
        var outUnknown = j.OutVars.Select(unknown.Contains).ToArray();
        // Residuals: known variables read by unknown equations (in first-use order, no repeats).
        var residuals = new List<Var>();
        var seen = new HashSet<Var>();
        foreach (var e in unknownEqns)
            foreach (var v in e.Inputs)
                if (!unknown.Contains(v) && seen.Add(v)) residuals.Add(v);
        var knownIn = j.InVars.Where((_, i) => !unknownIn[i]).ToArray();
        var knownOut = j.OutVars.Where((_, i) => !outUnknown[i]).Concat(residuals).ToArray();
        var unknownInVars = residuals.Concat(j.InVars.Where((_, i) => unknownIn[i])).ToArray();
        var unknownOut = j.OutVars.Where((_, i) => outUnknown[i]).ToArray();
        return new Result(
            new JitParams(p.Name, new Jaxpr(Array.Empty<Var>(), knownIn, knownEqns.ToArray(), knownOut)),
            new JitParams(p.Name, new Jaxpr(Array.Empty<Var>(), unknownInVars, unknownEqns.ToArray(), unknownOut)),
            outUnknown);
    }

    static Result SplitByTracing(JitParams p, bool[] unknownIn)
    {
        var r = PartialEvalJaxpr(p.Jaxpr, unknownIn, new bool[p.Jaxpr.OutVars.Length], $"Jit({p.Name})");
        var (kj, kc) = r.Known.ConstantsAsInputs();
        var (uj, uc) = r.Unknown.ConstantsAsInputs();
        return new Result(new JitParams(p.Name, kj), new JitParams(p.Name, uj), r.OutUnknown) { KnownConsts = kc, UnknownConsts = uc };
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
