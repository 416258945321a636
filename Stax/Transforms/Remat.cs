using System.Collections.Concurrent;
using Stax.Tracing;

namespace Stax;

public static partial class Transforms
{
    // Named Remat, not Checkpoint: with `using static Stax.Transforms;` a method named Checkpoint
    // would hide the Stax.IO.Checkpoint class (Checkpoint.Save would not compile, CS0119).

    /// <summary>
    /// Gradient checkpointing (jax.remat, also called jax.checkpoint): the result computes what <paramref name="f"/>
    /// computes, but reverse-mode differentiation keeps only its inputs (plus, with
    /// <see cref="RematPolicy.SaveDots"/>, the results of its matrix products) for the backward pass
    /// and recomputes the other intermediates there: less memory for more compute. Values
    /// <paramref name="f"/> captures are passed to the <c>remat</c> equation as leading inputs.
    /// </summary>
    public static Func<Tensor[], Tensor[]> Remat(Func<Tensor[], Tensor[]> f, RematPolicy policy = RematPolicy.SaveNothing)
    {
        ArgumentNullException.ThrowIfNull(f);
        var cache = new ConcurrentDictionary<string, (RematParams, Tensor[])>();
        return args =>
        {
            ArgumentNullException.ThrowIfNull(args);
            string key = string.Join(";", args.Select(a => a.Aval.ToString() + (a.IsWeak ? "~" : "")));
            if (!cache.TryGetValue(key, out var e))
            {
                Rules.RuleRegistry.Ensure();
                var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), "Remat");
                var (j, consts) = Rules.ControlFlowPrograms.Convert(closed);
                e = (new RematParams(j, policy), consts);
                // Captured tracers of an outer transformation are only valid for this call.
                if (consts.All(c => c.IsConcrete)) cache[key] = e;
            }
            return Prims.Remat.Bind(e.Item1, e.Item2.Concat(args).ToArray());
        };
    }

    /// <summary>One-argument form of <see cref="Remat(Func{Tensor[], Tensor[]}, RematPolicy)"/>.</summary>
    public static Func<Tensor, Tensor> Remat(Func<Tensor, Tensor> f, RematPolicy policy = RematPolicy.SaveNothing)
    {
        ArgumentNullException.ThrowIfNull(f);
        var g = Remat(xs => new[] { f(xs[0]) }, policy);
        return x => g(new[] { x })[0];
    }
}
