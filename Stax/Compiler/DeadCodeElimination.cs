using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// Removes equations none of whose outputs is read (directly or through other live equations)
/// nor returned. Only equations the caller calls pure are removed: a backend passes the
/// primitives it runs as kernels (they have no effects), so calls and host callbacks stay.
/// </summary>
internal static class DeadCodeElimination
{
    /// <summary>The live equations in their original order (the same array when all are live).</summary>
    public static Eqn[] Run(Eqn[] eqns, Var[] outVars, Func<Eqn, bool> isPure)
    {
        var live = new HashSet<Var>(outVars, ReferenceEqualityComparer.Instance);
        var keep = new bool[eqns.Length];
        int kept = 0;
        for (int i = eqns.Length - 1; i >= 0; i--)
        {
            var e = eqns[i];
            if (isPure(e) && !e.Outputs.Any(live.Contains)) continue;
            keep[i] = true;
            kept++;
            foreach (var v in e.Inputs) live.Add(v);
        }
        if (kept == eqns.Length) return eqns;
        var result = new Eqn[kept];
        for (int i = 0, j = 0; i < eqns.Length; i++) if (keep[i]) result[j++] = eqns[i];
        return result;
    }
}
