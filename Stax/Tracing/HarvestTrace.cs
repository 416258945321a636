
namespace Stax.Tracing;

/// <summary>
/// The interpreter behind Harvest.Reap and Harvest.Plant: it intercepts
/// <c>sow</c> to record or replace tagged values and passes every other primitive through. Jitted
/// calls are rewritten so their sown values become extra outputs (and planted values extra inputs),
/// so a jit cache hit still reports that call's values.
/// </summary>
internal sealed class HarvestTrace : Trace
{
    sealed class HarvestTracer(HarvestTrace trace, Tensor value) : Tracer(trace)
    {
        public readonly Tensor Value = value;
        public override AbstractValue Aval => Value.Aval;
    }

    readonly IReadOnlyDictionary<string, Tensor>? _plant;
    public readonly SortedDictionary<string, Tensor> Reaped = new(StringComparer.Ordinal);

    public HarvestTrace(int level, IReadOnlyDictionary<string, Tensor>? plant) : base(level) { _plant = plant; }

    public override string TransformName => _plant == null ? "Reap" : "Plant";

    public Tensor New(Tensor v) => new(new HarvestTracer(this, v));

    public Tensor Unwrap(Tensor t) => Own<HarvestTracer>(FullRaise(t))!.Value;

    protected override Tracer Lift(Tensor value) => new HarvestTracer(this, value);

    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters)
    {
        var vals = args.Select(a => Own<HarvestTracer>(a)!.Value).ToArray();
        if (primitive == Prims.Sow)
        {
            var name = ((SowParams)parameters).Name;
            var v = vals[0];
            if (_plant != null && _plant.TryGetValue(name, out var planted))
            {
                if (planted.Shape != v.Shape || planted.DType != v.DType)
                    throw new ArgumentException($"Plant: value for '{name}' has type {planted.Aval} but the sown value has {v.Aval}");
                v = planted;
            }
            if (_plant == null)
            {
                if (Reaped.ContainsKey(name)) throw new InvalidOperationException($"Reap: the name '{name}' was sown twice");
                Reaped[name] = v;
            }
            return new[] { New(v) };
        }
        if (primitive == Prims.Jit) return ProcessJit((JitParams)parameters, vals);
        return primitive.Bind(parameters, vals).Select(New).ToArray();
    }

    Tensor[] ProcessJit(JitParams p, Tensor[] vals)
    {
        var plantNames = _plant?.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray() ?? Array.Empty<string>();
        string key = (_plant == null ? "reap" : "plant:" + string.Join(",", plantNames));
        int nOut = p.Jaxpr.OutVars.Length;
        var (program, consts, names) = DerivedPrograms.Get(p.Jaxpr, "harvest:" + key, () =>
        {
            string[] reapedNames = Array.Empty<string>();
            var inAvals = p.Jaxpr.InAvals.Concat(plantNames.Select(n => _plant![n].Aval)).ToArray();
            var closed = StagingTrace.Stage(args =>
            {
                var plant = plantNames.Select((n, i) => (n, args[p.Jaxpr.InVars.Length + i])).ToDictionary(t => t.n, t => t.Item2);
                using var scope = TraceState.Begin(l => new HarvestTrace(l, _plant == null ? null : plant));
                var tr = scope.Trace;
                var outs = JaxprEval.Eval(p.Jaxpr, Array.Empty<Tensor>(), args[..p.Jaxpr.InVars.Length].Select(tr.New).ToArray()).Select(tr.Unwrap).ToArray();
                reapedNames = tr.Reaped.Keys.ToArray();
                return outs.Concat(tr.Reaped.Values).ToArray();
            }, inAvals, $"{TransformName}({p.Name})");
            var (converted, consts) = closed.ConstantsAsInputs();
            return (new JitParams(p.Name, converted), consts, reapedNames);
        });
        var all = consts.Concat(vals).Concat(plantNames.Select(n => _plant![n])).ToArray();
        var res = Prims.Jit.Bind(program, all);
        for (int i = 0; i < names.Length; i++)
        {
            if (Reaped.ContainsKey(names[i])) throw new InvalidOperationException($"Reap: the name '{names[i]}' was sown twice");
            Reaped[names[i]] = res[nOut + i];
        }
        return res[..nOut].Select(New).ToArray();
    }
}
