namespace Stax.Tracing;

/// <summary>What batching rules may know about the vmapped axis.</summary>
public sealed class BatchContext
{
    internal BatchContext(int size, string? axisName, BatchTrace trace) { AxisSize = size; AxisName = axisName; Trace = trace; }
    /// <summary>Size of the mapped axis.</summary>
    public int AxisSize { get; }
    /// <summary>Name of the axis for collectives (Psum, ...), or null.</summary>
    public string? AxisName { get; }
    internal BatchTrace Trace { get; }
}

/// <summary>
/// Vectorisation (vmap): each value carries a batched tensor and the dimension that is mapped
/// (null = not mapped, the same for every batch element). Rules are <see cref="Primitive.Batch"/>.
/// There is no loop-and-stack fallback: every primitive has a real rule.
/// </summary>
public sealed class BatchTrace : Trace
{
    internal sealed class BatchTracer(BatchTrace trace, Tensor value, int? dim) : Tracer(trace)
    {
        public readonly Tensor Value = value;
        public readonly int? Dim = dim;
        public override AbstractValue Aval
        {
            get
            {
                if (Dim is not int d) return Value.Aval;
                var dims = Value.Shape.ToArray().ToList();
                dims.RemoveAt(d);
                return Value.Aval with { Shape = new Shape(dims.ToArray()) };
            }
        }
    }

    /// <summary>Creates a batch trace (use <see cref="TraceState.Begin{T}"/>).</summary>
    public BatchTrace(int level, int axisSize, string? axisName) : base(level)
    {
        Context = new BatchContext(axisSize, axisName, this);
    }

    /// <summary>The axis this trace maps.</summary>
    public BatchContext Context { get; }

    /// <inheritdoc/>
    public override string TransformName => "Vmap";

    /// <summary>A batched value.</summary>
    public Tensor New(Tensor value, int? dim) => new(new BatchTracer(this, value, dim));

    /// <inheritdoc/>
    protected override Tracer Lift(Tensor value) => new BatchTracer(this, value, null);

    /// <summary>Splits a value into its batched tensor and mapped dimension.</summary>
    public (Tensor Value, int? Dim) Unpack(Tensor value)
    {
        var t = Own<BatchTracer>(FullRaise(value))!;
        return (t.Value, t.Dim);
    }

    /// <inheritdoc/>
    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters)
    {
        var vals = new Tensor[args.Length];
        var dims = new int?[args.Length];
        bool any = false;
        for (int i = 0; i < args.Length; i++)
        {
            var t = Own<BatchTracer>(args[i])!;
            vals[i] = t.Value;
            dims[i] = t.Dim;
            any |= t.Dim is not null;
        }
        if (!any && !primitive.BatchesUnmapped)
            return primitive.Bind(parameters, vals).Select(v => New(v, null)).ToArray();
        if (primitive.Batch == null)
            throw new NotSupportedException($"{primitive.Name}: vmap is not defined for this primitive");
        var (outs, outDims) = primitive.Batch(Context, vals, dims, parameters);
        return outs.Select((o, i) => New(o, outDims[i])).ToArray();
    }
}
