using Stax.Tracing;

namespace Stax;

/// <summary>
/// Tagging intermediate values without changing the code that computes them (oryx's harvest, what
/// JAX's maintainers proposed for collecting intermediates): <see cref="Sow"/> inside a function or
/// module, Reap to collect the tagged values, Plant to replace them.
/// Works under Jit (a cache hit reports that call's values), Vmap and Grad.
/// </summary>
public static class Harvest
{
    /// <summary>Tags <paramref name="value"/> as <paramref name="name"/>; returns it (or the planted replacement).</summary>
    public static Tensor Sow(string name, Tensor value) => Prims.Sow.Bind1(new SowParams(name), value);

    /// <summary>Runs <paramref name="f"/> and also returns the values sown during the call, by name.</summary>
    public static Func<Tensor[], (Tensor[] Outputs, Dictionary<string, Tensor> Reaped)> Reap(Func<Tensor[], Tensor[]> f) => xs =>
    {
        using var scope = TraceState.Begin(l => new HarvestTrace(l, null));
        var tr = scope.Trace;
        var outs = f(xs.Select(tr.New).ToArray()).Select(tr.Unwrap).ToArray();
        return (outs, tr.Reaped.ToDictionary(kv => kv.Key, kv => kv.Value));
    };

    /// <summary>Single-argument <see cref="Reap(Func{Tensor[], Tensor[]})"/>.</summary>
    public static Func<Tensor, (Tensor Output, Dictionary<string, Tensor> Reaped)> Reap(Func<Tensor, Tensor> f) => x =>
    {
        var (o, r) = Reap(xs => new[] { f(xs[0]) })(new[] { x });
        return (o[0], r);
    };

    /// <summary>Runs <paramref name="f"/> with the sown values named in <paramref name="values"/> replaced.</summary>
    public static Func<Tensor[], Tensor[]> Plant(Func<Tensor[], Tensor[]> f, IReadOnlyDictionary<string, Tensor> values) => xs =>
    {
        using var scope = TraceState.Begin(l => new HarvestTrace(l, values));
        var tr = scope.Trace;
        return f(xs.Select(tr.New).ToArray()).Select(tr.Unwrap).ToArray();
    };

    /// <summary>Single-argument <see cref="Plant(Func{Tensor[], Tensor[]}, IReadOnlyDictionary{string, Tensor})"/>.</summary>
    public static Func<Tensor, Tensor> Plant(Func<Tensor, Tensor> f, IReadOnlyDictionary<string, Tensor> values)
        => x => Plant(xs => new[] { f(xs[0]) }, values)(new[] { x })[0];
}
