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

    /// <summary>
    /// Set by the control-flow rules: splits programs that contain structured control flow (cond,
    /// scan, ...) by tracing, so that each nested equation is split by its own partial-evaluation
    /// rule; returns null for programs the syntactic split below handles.
    /// </summary>
    internal static Func<JitParams, bool[], Result?>? Structured;

    public static Result Split(JitParams p, bool[] unknownIn)
    {
        if (Structured?.Invoke(p, unknownIn) is { } structured) return structured;
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
}
