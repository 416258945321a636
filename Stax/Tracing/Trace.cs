namespace Stax.Tracing;

/// <summary>
/// An interpreter of primitives. Traces are stacked by level: evaluation is level 0, every
/// transformation pushes a higher one. <see cref="Primitive.Bind"/> hands an operation to the
/// highest-level trace among its operands (and the ambient one), which lifts lower-level operands.
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

    /// <summary>Interprets one primitive application.</summary>
    public abstract Tensor[] Process(Primitive primitive, Tensor[] args, Params parameters);
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
