namespace Stax.Tracing;

/// <summary>
/// Partial evaluation: values are either known (computed now, at the level below) or unknown
/// (recorded into a program). Linearize runs a JVP under this trace with known primals and unknown
/// tangents: the primal computation happens eagerly and the tangent computation becomes a linear
/// program whose constants are the residuals.
/// </summary>
public sealed class PartialEvalTrace : Trace
{
    internal abstract class Recipe;
    internal sealed class InputRecipe(Var v) : Recipe { public readonly Var Var = v; }
    internal sealed class ConstRecipe(Tensor value, Var v) : Recipe { public readonly Tensor Value = value; public readonly Var Var = v; }
    internal sealed class EqnRecipe(Primitive p, Params ps, PeTracer[] inputs, Var[] outVars, string? scope) : Recipe
    {
        public readonly Primitive Primitive = p;
        public readonly Params Params = ps;
        public readonly PeTracer[] Inputs = inputs;
        public readonly Var[] OutVars = outVars;
        public readonly string? Scope = scope;
    }

    internal sealed class PeTracer : Tracer
    {
        public readonly Tensor? Known;
        readonly AbstractValue _aval;
        public readonly Recipe? Recipe;
        public readonly int Index;

        public PeTracer(PartialEvalTrace trace, Tensor? known, AbstractValue aval, Recipe? recipe, int index = 0) : base(trace)
        {
            Known = known;
            _aval = aval;
            Recipe = recipe;
            Index = index;
        }

        public override AbstractValue Aval => _aval;

        public Var Var => Recipe switch
        {
            InputRecipe r => r.Var,
            ConstRecipe r => r.Var,
            EqnRecipe r => r.OutVars[Index],
            _ => throw new InvalidOperationException("Internal error: a known value has no variable"),
        };
    }

    /// <summary>Creates a partial-evaluation trace (use <see cref="TraceState.Begin{T}"/>).</summary>
    public PartialEvalTrace(int level) : base(level) { }

    /// <inheritdoc/>
    public override string TransformName => "Grad (linearize)";

    /// <summary>A known value of this trace.</summary>
    public Tensor NewKnown(Tensor value) => new(new PeTracer(this, value, value.Aval, null));

    /// <summary>An unknown input of the linear program.</summary>
    public Tensor NewUnknown(AbstractValue aval) => new(new PeTracer(this, null, aval, new InputRecipe(new Var(aval))));

    /// <inheritdoc/>
    protected override Tracer Lift(Tensor value) => new PeTracer(this, value, value.Aval, null);

    /// <summary>The known value, or null when unknown.</summary>
    public Tensor? KnownValue(Tensor value) => Own<PeTracer>(FullRaise(value))!.Known;

    /// <summary>Makes a value unknown (a known one becomes a constant of the program).</summary>
    public Tensor Instantiate(Tensor value)
    {
        var t = Own<PeTracer>(FullRaise(value))!;
        if (t.Known is null) return value;
        return new Tensor(new PeTracer(this, null, t.Aval, new ConstRecipe(t.Known, new Var(t.Aval))));
    }

    /// <summary>Records an equation on (instantiated) unknown inputs and returns its unknown outputs.</summary>
    public Tensor[] Record(Primitive primitive, Tensor[] args, Params parameters, AbstractValue[] outAvals)
    {
        var ins = args.Select(a => Own<PeTracer>(Instantiate(a))!).ToArray();
        var outVars = outAvals.Select(a => new Var(a)).ToArray();
        var recipe = new EqnRecipe(primitive, parameters, ins, outVars, NameScope.Current);
        return outAvals.Select((a, i) => new Tensor(new PeTracer(this, null, a, recipe, i))).ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters)
    {
        var known = args.Select(a => Own<PeTracer>(a)!.Known).ToArray();
        if (known.All(k => k is not null))
            return primitive.Bind(parameters, known!).Select(NewKnown).ToArray();
        if (primitive.PartialEval is { } rule) return rule(this, args, parameters);
        var outAvals = primitive.AbstractEval(args.Select(a => a.Aval).ToArray(), parameters);
        return Record(primitive, args, parameters, outAvals);
    }

    /// <summary>The program computing the unknown outputs from the unknown inputs, and its constants.</summary>
    public ClosedJaxpr ToJaxpr(Tensor[] inputs, Tensor[] outputs)
    {
        var ins = inputs.Select(i => Own<PeTracer>(i)!).ToArray();
        var outs = outputs.Select(o => Own<PeTracer>(Instantiate(o))!).ToArray();
        var eqns = new List<Eqn>();
        var constVars = new List<Var>();
        var consts = new List<Tensor>();
        var seen = new HashSet<Recipe>(ReferenceEqualityComparer.Instance);
        // Depth-first post-order over recipes gives a topological order of equations.
        var stack = new Stack<(Recipe R, bool Expanded)>();
        foreach (var o in outs) stack.Push((o.Recipe!, false));
        while (stack.Count > 0)
        {
            var (r, expanded) = stack.Pop();
            if (expanded)
            {
                var e = (EqnRecipe)r;
                eqns.Add(new Eqn(e.Primitive, e.Params, e.Inputs.Select(t => t.Var).ToArray(), e.OutVars, e.Scope));
                continue;
            }
            if (!seen.Add(r)) continue;
            switch (r)
            {
                case ConstRecipe c: constVars.Add(c.Var); consts.Add(c.Value); break;
                case InputRecipe: break;
                case EqnRecipe e:
                    stack.Push((e, true));
                    for (int i = e.Inputs.Length - 1; i >= 0; i--)
                        if (!seen.Contains(e.Inputs[i].Recipe!)) stack.Push((e.Inputs[i].Recipe!, false));
                    break;
            }
        }
        foreach (var i in ins)
            if (i.Recipe is not InputRecipe) throw new InvalidOperationException("Internal error: partial-eval input is not an unknown input");
        var jaxpr = new Jaxpr(constVars.ToArray(), ins.Select(i => i.Var).ToArray(), eqns.ToArray(), outs.Select(o => o.Var).ToArray());
        return new ClosedJaxpr(jaxpr, consts.ToArray());
    }
}
