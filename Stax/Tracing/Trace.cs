namespace Stax.Tracing;

/// <summary>
/// An interpreter of primitives. Traces are stacked by level: evaluation is level 0, every
/// transformation takes the next level. <see cref="Primitive.Bind"/> hands an operation to the
/// highest-level trace among its operands (and the dynamic one); that trace lifts lower-level
/// operands with <see cref="Lift"/>.
/// </summary>
public abstract class Trace
{
    /// <summary>Creates a trace at a level.</summary>
    protected Trace(int level) { Level = level; }

    /// <summary>Nesting level; higher means inner transformation.</summary>
    public int Level { get; }

    /// <summary>False once the transformation that owns this trace has finished.</summary>
    public bool IsActive { get; internal set; } = true;

    /// <summary>A human name for errors ("Grad", "Vmap", "Jit").</summary>
    public abstract string TransformName { get; }

    /// <summary>Interprets one primitive application; operands are already lifted into this trace.</summary>
    protected abstract Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters);

    /// <summary>Wraps a value from a lower level (or a concrete tensor) as a tracer of this trace.</summary>
    protected abstract Tracer Lift(Tensor value);

    /// <summary>Lifts the operands, then interprets the primitive.</summary>
    public virtual Tensor[] Process(Primitive primitive, Tensor[] args, Params parameters)
    {
        var lifted = new Tensor[args.Length];
        for (int i = 0; i < args.Length; i++) lifted[i] = FullRaise(args[i]);
        return ProcessLifted(primitive, lifted, parameters);
    }

    /// <summary>The value as a tensor whose tracer belongs to this trace.</summary>
    public Tensor FullRaise(Tensor value)
    {
        var t = value.Tracer;
        if (t != null && ReferenceEquals(t.Trace, this)) return value;
        if (t != null)
        {
            TraceState.CheckActive(t.Trace);
            if (t.Trace.Level > Level)
                throw new InvalidOperationException(
                    $"Internal error or escaped tracer: a value of {t.Trace.TransformName} (level {t.Trace.Level}) reached {TransformName} (level {Level})");
            if (t.Trace.Level == Level)
                throw new InvalidOperationException(
                    $"A tensor traced by another {t.Trace.TransformName} at the same level was mixed in (an escaped tracer from a finished transformation)");
        }
        return new Tensor(Lift(value));
    }

    /// <summary>The tracer of <paramref name="value"/> if it belongs to this trace, else null.</summary>
    protected TTracer? Own<TTracer>(Tensor value) where TTracer : Tracer
        => value.Tracer is TTracer tr && ReferenceEquals(tr.Trace, this) ? tr : null;
}

/// <summary>The per-transformation data a traced tensor carries (its trace and abstract value).</summary>
public abstract class Tracer
{
    /// <summary>Creates a tracer belonging to <paramref name="trace"/>.</summary>
    protected Tracer(Trace trace) { Trace = trace; }

    /// <summary>The trace this tracer belongs to.</summary>
    public Trace Trace { get; }

    /// <summary>Shape, dtype and weak type of the traced value.</summary>
    public abstract AbstractValue Aval { get; }
}
