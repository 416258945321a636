using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// Inlining: nested jit and custom_jvp_call equations without constants are replaced by their
/// programs' equations (on evaluation a custom JVP is just its function). Their intermediates then
/// get the caller's memory planning and fusion instead of being evaluated op by op with escaping
/// buffers (softmax and log-softmax inside every loss).
/// </summary>
internal static class InlineCalls
{
    /// <summary>
    /// The program with every inlinable call replaced by its body (the same object when there is
    /// none). <paramref name="evaluationOnly"/> also inlines remat and custom_vjp_call, which on
    /// evaluation are just their programs (a backend that records whole programs wants them flat).
    /// </summary>
    public static Jaxpr Run(Jaxpr program, bool evaluationOnly = false)
    {
        Jaxpr? Body(Eqn e) => e.Params switch
        {
            JitParams j when j.Jaxpr.ConstVars.Length == 0 => j.Jaxpr,
            CustomJvpParams c when c.Jaxpr.ConstVars.Length == 0 => c.Jaxpr,
            RematParams r when evaluationOnly && r.Jaxpr.ConstVars.Length == 0 => r.Jaxpr,
            CustomVjpParams v when evaluationOnly && v.Jaxpr.ConstVars.Length == 0 => v.Jaxpr,
            _ => null,
        };
        if (!program.Eqns.Any(e => Body(e) != null)) return program;
        var subst = new Dictionary<Var, Var>(ReferenceEqualityComparer.Instance);
        Var S(Var v) => subst.TryGetValue(v, out var w) ? w : v;
        var result = new List<Eqn>();
        // rename: equations of an inlined body get fresh output variables (a body can be inlined twice).
        void Emit(Eqn e, bool rename)
        {
            var ins = e.Inputs.Select(S).ToArray();
            if (Body(e) is not { } body)
            {
                var outs = e.Outputs;
                if (rename)
                {
                    outs = e.Outputs.Select(v => new Var(v.Aval)).ToArray();
                    for (int k = 0; k < outs.Length; k++) subst[e.Outputs[k]] = outs[k];
                }
                result.Add(e with { Inputs = ins, Outputs = outs });
                return;
            }
            for (int i = 0; i < ins.Length; i++) subst[body.InVars[i]] = ins[i];
            foreach (var inner in body.Eqns) Emit(inner, rename: true);
            for (int i = 0; i < e.Outputs.Length; i++) subst[e.Outputs[i]] = S(body.OutVars[i]);
        }
        foreach (var e in program.Eqns) Emit(e, rename: false);
        return new Jaxpr(program.ConstVars, program.InVars, result.ToArray(), program.OutVars.Select(S).ToArray());
    }
}
