using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// A broadcast scalar used by several equations (JVP rules make them: the 0 of relu, the 1/2 of
/// max's tie rule) is recomputed right before each use instead of stored once at full size: fused
/// chains then read it from a register and never write or re-read megabytes of one value.
/// </summary>
internal static class RematerializeSplats
{
    /// <summary>The equations with every splat that is not a program output duplicated before each of its uses.</summary>
    public static Eqn[] Run(Eqn[] eqns, Var[] outVars)
    {
        var splat = new Dictionary<Var, Eqn>(ReferenceEqualityComparer.Instance);
        var keep = new HashSet<Var>(outVars, ReferenceEqualityComparer.Instance);
        foreach (var e in eqns)
            if (ProgramAnalysis.IsSplat(e) && !keep.Contains(e.Outputs[0])) splat[e.Outputs[0]] = e;
        if (splat.Count == 0) return eqns;
        var result = new List<Eqn>(eqns.Length + splat.Count);
        foreach (var e in eqns)
        {
            if (ProgramAnalysis.IsSplat(e) && splat.ContainsKey(e.Outputs[0])) continue;
            var ins = e.Inputs;
            for (int i = 0; i < ins.Length; i++)
                if (splat.TryGetValue(ins[i], out var b))
                {
                    if (ReferenceEquals(ins, e.Inputs)) ins = (Var[])ins.Clone();
                    var fresh = new Var(b.Outputs[0].Aval);
                    result.Add(b with { Outputs = new[] { fresh } });
                    ins[i] = fresh;
                }
            result.Add(ReferenceEquals(ins, e.Inputs) ? e : e with { Inputs = ins });
        }
        return result.ToArray();
    }
}
