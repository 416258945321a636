using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>Facts about a program's equations that several passes and executables need.</summary>
internal static class ProgramAnalysis
{
    /// <summary>A scalar broadcast to a larger shape.</summary>
    public static bool IsSplat(Eqn e) => e.Primitive == Prims.BroadcastInDim && e.Inputs[0].Aval.Size == 1 && e.Outputs[0].Aval.Size > 1;

    /// <summary>The index of the equation that writes each variable (program inputs are absent).</summary>
    public static Dictionary<Var, int> Producers(Eqn[] eqns)
    {
        var producer = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < eqns.Length; i++) foreach (var v in eqns[i].Outputs) producer[v] = i;
        return producer;
    }

    /// <summary>How often each variable is read (a program output counts as a read).</summary>
    public static Dictionary<Var, int> Uses(Eqn[] eqns, Var[] outVars)
    {
        var uses = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        foreach (var e in eqns) foreach (var v in e.Inputs) uses[v] = uses.GetValueOrDefault(v) + 1;
        foreach (var v in outVars) uses[v] = uses.GetValueOrDefault(v) + 1;
        return uses;
    }

    /// <summary>
    /// Per equation, the variables it reads or writes for the last time: after equation k runs,
    /// <c>result[k]</c> can be freed. Program outputs and <paramref name="keep"/> never die.
    /// </summary>
    public static Var[][] DyingAfter(Eqn[] eqns, Var[] outVars, IEnumerable<Var> keep)
    {
        var last = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < eqns.Length; k++)
        {
            foreach (var v in eqns[k].Inputs) last[v] = k;
            foreach (var v in eqns[k].Outputs) last[v] = k;
        }
        foreach (var v in outVars) last.Remove(v);
        foreach (var v in keep) last.Remove(v);
        var dying = last.ToLookup(kv => kv.Value, kv => kv.Key);
        var result = new Var[eqns.Length][];
        for (int k = 0; k < eqns.Length; k++) result[k] = dying[k].ToArray();
        return result;
    }
}
