using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// The backend-independent rewrites every compiling backend runs before its own scheduling:
/// inlining (<see cref="InlineCalls"/>), common-subexpression elimination
/// (<see cref="CommonSubexpressions"/>), transposed-product folding
/// (<see cref="FoldTransposedProducts"/>) and splat rematerialization
/// (<see cref="RematerializeSplats"/>). They change no value the program computes.
/// </summary>
internal static class StandardPasses
{
    /// <summary>The rewritten equations (in a valid order) and the program's outputs in their terms
    /// (<paramref name="evaluationOnly"/>: see <see cref="InlineCalls.Run"/>;
    /// <paramref name="foldTransposes"/>: whether the backend's products read transposed operands as
    /// fast as plain ones, so that folding pays).</summary>
    public static (Eqn[] Eqns, Var[] OutVars) Run(Jaxpr program, bool evaluationOnly = false, bool foldTransposes = true)
    {
        program = CommonSubexpressions.Run(InlineCalls.Run(program, evaluationOnly));
        var eqns = RematerializeSplats.Run(foldTransposes ? FoldTransposedProducts.Run(program) : program.Eqns, program.OutVars);
        return (eqns, program.OutVars);
    }
}
