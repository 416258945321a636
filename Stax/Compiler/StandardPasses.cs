using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// The backend-independent rewrites every compiling backend runs before its own scheduling:
/// inlining (<see cref="InlineCalls"/>), transposed-product folding
/// (<see cref="FoldTransposedProducts"/>) and splat rematerialization
/// (<see cref="RematerializeSplats"/>). They change no value the program computes.
/// </summary>
internal static class StandardPasses
{
    /// <summary>The rewritten equations (in a valid order) and the program's outputs in their terms
    /// (<paramref name="evaluationOnly"/>: see <see cref="InlineCalls.Run"/>).</summary>
    public static (Eqn[] Eqns, Var[] OutVars) Run(Jaxpr program, bool evaluationOnly = false)
    {
        program = InlineCalls.Run(program, evaluationOnly);
        var eqns = RematerializeSplats.Run(FoldTransposedProducts.Run(program), program.OutVars);
        return (eqns, program.OutVars);
    }
}
