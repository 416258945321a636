namespace Stax.Tracing;

/// <summary>
/// Records primitive applications into a program instead of running them (used by MakeJaxpr and
/// Jit). Values from outside (concrete tensors, tracers of lower levels) become constants.
/// </summary>
public sealed class StagingTrace : Trace
{
    sealed class StagedTracer(StagingTrace trace, Var v) : Tracer(trace)
    {
        public readonly Var Var = v;
        public override AbstractValue Aval => Var.Aval;
    }

    readonly List<Eqn> _eqns = new();
    readonly List<Var> _constVars = new();
    readonly List<Tensor> _consts = new();
    readonly Dictionary<Tensor, Var> _constIndex = new(ReferenceEqualityComparer.Instance);
    readonly string _name;

    /// <summary>Creates a staging trace (use <see cref="TraceState.Begin{T}"/>).</summary>
    public StagingTrace(int level, string name) : base(level) { _name = name; }

    /// <inheritdoc/>
    public override string TransformName => _name;

    /// <summary>A new input of the program.</summary>
    public Tensor NewInput(AbstractValue aval) => new(new StagedTracer(this, new Var(aval)));

    /// <inheritdoc/>
    protected override Tracer Lift(Tensor value)
    {
        if (!_constIndex.TryGetValue(value, out var v))
        {
            v = new Var(value.Aval);
            _constIndex[value] = v;
            _constVars.Add(v);
            _consts.Add(value);
        }
        return new StagedTracer(this, v);
    }

    /// <inheritdoc/>
    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters)
    {
        var inVars = args.Select(a => Own<StagedTracer>(a)!.Var).ToArray();
        var outAvals = primitive.AbstractEval(inVars.Select(v => v.Aval).ToArray(), parameters);
        var outVars = outAvals.Select(a => new Var(a)).ToArray();
        _eqns.Add(new Eqn(primitive, parameters, inVars, outVars, NameScope.Current));
        return outVars.Select(v => new Tensor(new StagedTracer(this, v))).ToArray();
    }

    /// <summary>Builds the program from its inputs and outputs.</summary>
    public ClosedJaxpr Build(Tensor[] inputs, Tensor[] outputs)
    {
        var inVars = inputs.Select(i => Own<StagedTracer>(i)?.Var ?? throw new ArgumentException("Internal error: staging input is not an input of this trace")).ToArray();
        var outVars = outputs.Select(o => Own<StagedTracer>(FullRaise(o))!.Var).ToArray();
        // Dead-code elimination: primitives are pure, so equations whose outputs are unused go.
        var live = new HashSet<Var>(outVars);
        var kept = new List<Eqn>();
        for (int i = _eqns.Count - 1; i >= 0; i--)
        {
            var e = _eqns[i];
            if (!e.Outputs.Any(live.Contains)) continue;
            kept.Add(e);
            foreach (var v in e.Inputs) live.Add(v);
        }
        kept.Reverse();
        var constVars = new List<Var>();
        var consts = new List<Tensor>();
        for (int i = 0; i < _constVars.Count; i++)
            if (live.Contains(_constVars[i])) { constVars.Add(_constVars[i]); consts.Add(_consts[i]); }
        var jaxpr = new Jaxpr(constVars.ToArray(), inVars, kept.ToArray(), outVars);
        return new ClosedJaxpr(jaxpr, consts.ToArray());
    }

    /// <summary>Stages <paramref name="f"/> on inputs of the given types.</summary>
    public static ClosedJaxpr Stage(Func<Tensor[], Tensor[]> f, AbstractValue[] inAvals, string name)
    {
        using var scope = TraceState.Begin(level => new StagingTrace(level, name));
        var trace = scope.Trace;
        using var dyn = TraceState.SetDynamic(trace);
        var ins = inAvals.Select(trace.NewInput).ToArray();
        var outs = f(ins);
        return trace.Build(ins, outs);
    }
}

/// <summary>Evaluates programs by binding each equation (so evaluation composes with every trace).</summary>
public static class JaxprEval
{
    /// <summary>Runs <paramref name="jaxpr"/> on constants and arguments.</summary>
    public static Tensor[] Eval(Jaxpr jaxpr, IReadOnlyList<Tensor> consts, IReadOnlyList<Tensor> args)
    {
        if (args.Count != jaxpr.InVars.Length)
            throw new ArgumentException($"program expects {jaxpr.InVars.Length} inputs, got {args.Count}");
        var env = new Dictionary<Var, Tensor>();
        for (int i = 0; i < consts.Count; i++) env[jaxpr.ConstVars[i]] = consts[i];
        for (int i = 0; i < args.Count; i++) env[jaxpr.InVars[i]] = args[i];
        foreach (var e in jaxpr.Eqns)
        {
            var ins = new Tensor[e.Inputs.Length];
            for (int i = 0; i < ins.Length; i++) ins[i] = env[e.Inputs[i]];
            using var scope = e.Scope != null ? NameScope.Push(e.Scope, replace: true) : null;
            var outs = e.Primitive.Bind(e.Params, ins);
            for (int i = 0; i < outs.Length; i++) env[e.Outputs[i]] = outs[i];
        }
        return jaxpr.OutVars.Select(v => env[v]).ToArray();
    }

    /// <summary>Runs a closed program.</summary>
    public static Tensor[] Eval(ClosedJaxpr closed, IReadOnlyList<Tensor> args) => Eval(closed.Jaxpr, closed.Consts, args);
}
