using System.Collections.Concurrent;
using Stax.Tracing;

namespace Stax;

public static partial class Transforms
{
    /// <summary>
    /// A function with a custom forward-mode derivative (jax.custom_jvp). Calling the result evaluates
    /// <paramref name="f"/>; differentiating it (Jvp, Grad, Vjp, Hessian, ...) runs
    /// <paramref name="jvp"/> instead of differentiating <paramref name="f"/>'s operations.
    /// <para><paramref name="jvp"/> receives the primal inputs and their tangents (zeros where a
    /// tangent is symbolically zero) and returns the primal outputs (normally <c>f(primals)</c>) and
    /// the output tangents, of the same types. As in JAX, reverse mode (Grad, Vjp) is derived by
    /// linearizing and transposing the rule, so the output tangents must be LINEAR in the input
    /// tangents, computed with linear operations on them (add, multiply by primal-derived values,
    /// sum, broadcast, reshape, ...); use the primals freely for the coefficients. The rule is itself
    /// ordinary Stax code, so it can be differentiated again (Grad of Grad), vmapped and jitted.</para>
    /// <para><paramref name="f"/> is staged (as by MakeJaxpr) once per input types; values it captures
    /// become leading inputs of the <c>custom_jvp_call</c> equation. Differentiating with respect to
    /// a captured value is an error (pass it as an argument). The rule should capture only concrete
    /// values (or static data), not tensors traced by a surrounding transformation: under Jit it runs
    /// after tracing has finished.</para>
    /// </summary>
    public static Func<Tensor[], Tensor[]> CustomJvp(Func<Tensor[], Tensor[]> f,
        Func<Tensor[], Tensor[], (Tensor[] Primals, Tensor[] Tangents)> jvp, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(jvp);
        return new CustomJvpFunction(f, jvp, name ?? "f").Call;
    }

    /// <summary>One-argument form of <see cref="CustomJvp(Func{Tensor[], Tensor[]}, Func{Tensor[], Tensor[], ValueTuple{Tensor[], Tensor[]}}, string?)"/>:
    /// <paramref name="jvp"/> maps (x, t) to (f(x), tangent).</summary>
    public static Func<Tensor, Tensor> CustomJvp(Func<Tensor, Tensor> f, Func<Tensor, Tensor, (Tensor Primal, Tensor Tangent)> jvp, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(jvp);
        var g = CustomJvp(xs => new[] { f(xs[0]) }, (ps, ts) =>
        {
            var (p, t) = jvp(ps[0], ts[0]);
            return (new[] { p }, new[] { t });
        }, name);
        return x => g(new[] { x })[0];
    }

    sealed class CustomJvpFunction(Func<Tensor[], Tensor[]> f, Func<Tensor[], Tensor[], (Tensor[] Primals, Tensor[] Tangents)> jvp, string name)
    {
        sealed record Entry(CustomJvpParams Params, Tensor[] Consts);
        readonly ConcurrentDictionary<string, Entry> _cache = new();

        public Tensor[] Call(Tensor[] args)
        {
            ArgumentNullException.ThrowIfNull(args);
            string key = string.Join(";", args.Select(a => a.Aval.ToString() + (a.IsWeak ? "~" : "")));
            if (!_cache.TryGetValue(key, out var e))
            {
                var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), $"CustomJvp({name})");
                var (converted, _) = closed.ConstantsAsInputs();
                int k = closed.Consts.Length;
                int nIn = args.Length;
                CustomJvpRule rule = (prims, tans) =>
                {
                    var (po, to) = jvp(prims[k..], tans[k..]);
                    return (po, to);
                };
                e = new Entry(new CustomJvpParams(name, converted, k, rule), closed.Consts);
                // Captured tracers of an outer transformation are only valid for this call.
                if (closed.Consts.All(c => c.IsConcrete)) _cache[key] = e;
            }
            return Prims.CustomJvpCall.Bind(e.Params, e.Consts.Concat(args).ToArray());
        }
    }
}
