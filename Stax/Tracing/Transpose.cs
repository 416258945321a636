namespace Stax.Tracing;

/// <summary>
/// Reverse mode: runs a linear program backwards. Equations that do not depend on the linear
/// inputs are evaluated forwards first; then cotangents flow from outputs to linear inputs through
/// each primitive's <see cref="Primitive.Transpose"/> rule, accumulating by addition.
/// </summary>
public static class Transposer
{
    /// <summary>
    /// Cotangents of the inputs marked linear (null in <paramref name="args"/>), given the output
    /// cotangents (null = zero). Non-linear inputs are given values. Zero cotangents come back as null.
    /// </summary>
    public static Tensor?[] BackwardPass(Jaxpr jaxpr, IReadOnlyList<Tensor> consts, Tensor?[] args, Tensor?[] cotangents)
    {
        var primal = new Dictionary<Var, Tensor>();
        var linear = new HashSet<Var>();
        for (int i = 0; i < consts.Count; i++) primal[jaxpr.ConstVars[i]] = consts[i];
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is { } a) primal[jaxpr.InVars[i]] = a;
            else linear.Add(jaxpr.InVars[i]);
        }
        var linearEqns = new List<Eqn>();
        foreach (var e in jaxpr.Eqns)
        {
            if (e.Inputs.Any(linear.Contains))
            {
                foreach (var o in e.Outputs) linear.Add(o);
                linearEqns.Add(e);
                continue;
            }
            var outs = e.Primitive.Bind(e.Params, e.Inputs.Select(v => primal[v]).ToArray());
            for (int i = 0; i < outs.Length; i++) primal[e.Outputs[i]] = outs[i];
        }
        var ct = new Dictionary<Var, Tensor>();
        void Accumulate(Var v, Tensor? c)
        {
            if (c is null || !linear.Contains(v)) return;
            ct[v] = ct.TryGetValue(v, out var old) ? Lax.Add(old, c) : c;
        }
        for (int i = 0; i < jaxpr.OutVars.Length; i++) Accumulate(jaxpr.OutVars[i], cotangents[i]);
        for (int k = linearEqns.Count - 1; k >= 0; k--)
        {
            var e = linearEqns[k];
            var cts = e.Outputs.Select(v => ct.Remove(v, out var c) ? c : null).ToArray();
            if (cts.All(c => c is null)) continue;
            if (e.Primitive.Transpose == null)
                throw new NotSupportedException($"{e.Primitive.Name}: reverse-mode differentiation needs a transpose rule, and this primitive has none (it is not linear in its differentiated input)");
            var linArgs = e.Inputs.Select(v => new LinearArg(linear.Contains(v) ? null : primal[v], v.Aval)).ToArray();
            using var scope = e.Scope != null ? NameScope.Push(e.Scope, replace: true) : null;
            var cin = e.Primitive.Transpose(cts, linArgs, e.Params);
            for (int i = 0; i < e.Inputs.Length; i++)
                if (linArgs[i].IsLinear) Accumulate(e.Inputs[i], cin[i]);
        }
        var result = new Tensor?[args.Length];
        for (int i = 0; i < args.Length; i++)
            if (args[i] is null) result[i] = ct.TryGetValue(jaxpr.InVars[i], out var c) ? c : null;
        return result;
    }
}
