using System.Collections.Concurrent;
using Stax.Tracing;

namespace Stax;

public static partial class Transforms
{
    /// <summary>
    /// A function with a user-defined reverse-mode derivative (jax.custom_vjp). Calling the result
    /// evaluates <paramref name="f"/>. Under Grad/Vjp, <paramref name="fwd"/> runs instead and returns the
    /// outputs (the same types as <paramref name="f"/>'s) and residuals (any tensors, computed from the
    /// inputs); in the backward pass <paramref name="bwd"/> maps (residuals, output cotangents) to one
    /// cotangent per input. Works under Jit and Vmap (fwd and bwd are vmapped; inputs that are not
    /// mapped get their cotangents summed over the batch). As in JAX, forward mode (Jvp) is not defined
    /// for such a function; differentiating with respect to a value <paramref name="f"/> captures is an
    /// error (pass it as an argument).
    /// </summary>
    public static Func<Tensor[], Tensor[]> CustomVjp(Func<Tensor[], Tensor[]> f,
        Func<Tensor[], (Tensor[] Outputs, Tensor[] Residuals)> fwd, Func<Tensor[], Tensor[], Tensor[]> bwd, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(fwd);
        ArgumentNullException.ThrowIfNull(bwd);
        string nm = name ?? "f";
        var cache = new ConcurrentDictionary<string, (CustomVjpParams, Tensor[])>();
        CustomVjpForward fw = xs => fwd(xs);
        CustomVjpBackward bw = (res, cts) => bwd(res, cts);
        return args =>
        {
            ArgumentNullException.ThrowIfNull(args);
            string key = string.Join(";", args.Select(a => a.Aval.ToString() + (a.IsWeak ? "~" : "")));
            if (!cache.TryGetValue(key, out var e))
            {
                Rules.RuleRegistry.Ensure();
                var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), $"CustomVjp({nm})");
                var (j, consts) = Rules.ControlFlowPrograms.Convert(closed);
                e = (new CustomVjpParams(nm, j, consts.Length, fw, bw), consts);
                if (consts.All(c => c.IsConcrete)) cache[key] = e;
            }
            return Prims.CustomVjpCall.Bind(e.Item1, e.Item2.Concat(args).ToArray());
        };
    }

    /// <summary>
    /// One-argument form of <see cref="CustomVjp(Func{Tensor[], Tensor[]}, Func{Tensor[], ValueTuple{Tensor[], Tensor[]}}, Func{Tensor[], Tensor[], Tensor[]}, string?)"/>:
    /// <paramref name="fwd"/> maps x to (f(x), residuals), <paramref name="bwd"/> maps (residuals, output cotangent) to the input cotangent.
    /// </summary>
    public static Func<Tensor, Tensor> CustomVjp(Func<Tensor, Tensor> f, Func<Tensor, (Tensor Output, Tensor[] Residuals)> fwd,
        Func<Tensor[], Tensor, Tensor> bwd, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(fwd);
        ArgumentNullException.ThrowIfNull(bwd);
        var g = CustomVjp(xs => new[] { f(xs[0]) }, xs =>
        {
            var (o, r) = fwd(xs[0]);
            return (new[] { o }, r);
        }, (r, cts) => new[] { bwd(r, cts[0]) }, name);
        return x => g(new[] { x })[0];
    }
}
