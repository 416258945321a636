using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// transpose(dot_general(a, b)) that only swaps the two free-dimension groups is
/// dot_general(b, a): reverse-mode weight gradients come out this way, and a GEMM that reads any
/// operand layout computes the product in the transposed layout instead of writing it and then
/// copying it.
/// </summary>
internal static class FoldTransposedProducts
{
    /// <summary>The program's equations with every such pair replaced by one product (the same array when there is none).</summary>
    /// <param name="program">The program.</param>
    /// <param name="accept">When given, only folded products it accepts replace their pair (a backend whose
    /// product is fast for some operand layouts only).</param>
    public static Eqn[] Run(Jaxpr program, Func<Eqn, bool>? accept = null)
    {
        var eqns = program.Eqns;
        var uses = ProgramAnalysis.Uses(eqns, program.OutVars);
        var producer = ProgramAnalysis.Producers(eqns);
        Eqn[]? result = null;
        for (int i = 0; i < eqns.Length; i++)
        {
            var t = eqns[i];
            if (t.Primitive != Prims.Transpose || !producer.TryGetValue(t.Inputs[0], out int j)) continue;
            var d = eqns[j];
            if (d.Primitive != Prims.DotGeneral || uses.GetValueOrDefault(d.Outputs[0]) != 1) continue;
            var p = (DotGeneralParams)d.Params;
            int nb = p.LhsBatch.Length, nl = d.Inputs[0].Aval.Rank - nb - p.LhsContracting.Length, nr = d.Inputs[1].Aval.Rank - nb - p.RhsContracting.Length;
            var perm = ((TransposeParams)t.Params).Permutation.ToArray();
            var swapped = Enumerable.Range(0, nb).Concat(Enumerable.Range(nb + nl, nr)).Concat(Enumerable.Range(nb, nl));
            if (!perm.SequenceEqual(swapped)) continue;
            var q = new DotGeneralParams(p.RhsContracting, p.LhsContracting, p.RhsBatch, p.LhsBatch, p.PreferredElementType);
            var folded = new Eqn(Prims.DotGeneral, q, new[] { d.Inputs[1], d.Inputs[0] }, t.Outputs, d.Scope);
            if (accept != null && !accept(folded)) continue;
            result ??= (Eqn[])eqns.Clone();
            // The product moves to the transpose's place (its operands are defined by then).
            result[j] = null!;
            result[i] = folded;
        }
        return result == null ? eqns : result.Where(e => e != null).ToArray();
    }
}
