namespace Stax.Tracing;

/// <summary>
/// Forward-mode differentiation: each value carries a primal and a tangent (null = symbolic
/// zero). Rules are the primitives' <see cref="Primitive.Jvp"/>. Lower-level values are lifted
/// with a zero tangent, which is what keeps nested derivatives free of perturbation confusion.
/// </summary>
public sealed class JvpTrace : Trace
{
    internal sealed class JvpTracer(JvpTrace trace, Tensor primal, Tensor? tangent) : Tracer(trace)
    {
        public readonly Tensor Primal = primal;
        public readonly Tensor? Tangent = tangent;
        public override AbstractValue Aval => Primal.Aval;
    }

    /// <summary>Creates a JVP trace (use <see cref="TraceState.Begin{T}"/>).</summary>
    public JvpTrace(int level) : base(level) { }

    /// <inheritdoc/>
    public override string TransformName => "Jvp";

    /// <summary>A value with a tangent.</summary>
    public Tensor New(Tensor primal, Tensor? tangent) => new(new JvpTracer(this, primal, tangent));

    /// <inheritdoc/>
    protected override Tracer Lift(Tensor value) => new JvpTracer(this, value, null);

    /// <summary>Splits a value of this trace (or a lower one) into primal and tangent.</summary>
    public (Tensor Primal, Tensor? Tangent) Unpack(Tensor value)
    {
        var t = Own<JvpTracer>(FullRaise(value))!;
        return (t.Primal, t.Tangent);
    }

    /// <inheritdoc/>
    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters)
    {
        var primals = new Tensor[args.Length];
        var tangents = new Tensor?[args.Length];
        bool anyTangent = false;
        for (int i = 0; i < args.Length; i++)
        {
            var t = Own<JvpTracer>(args[i])!;
            primals[i] = t.Primal;
            tangents[i] = t.Tangent;
            anyTangent |= t.Tangent is not null;
        }
        if (!anyTangent)
            return primitive.Bind(parameters, primals).Select(p => New(p, null)).ToArray();
        if (primitive.Jvp == null)
            throw new NotSupportedException($"{primitive.Name}: differentiation is not defined for this primitive");
        var (po, to) = primitive.Jvp(primals, tangents, parameters);
        var outs = new Tensor[po.Length];
        for (int i = 0; i < po.Length; i++)
        {
            var tan = to[i];
            // Integer and bool outputs have no tangent space: their tangents are always zero.
            if (tan is not null && !po[i].DType.IsFloat()) tan = null;
            if (tan is not null && (tan.Shape != po[i].Shape || tan.DType != po[i].DType))
                throw new InvalidOperationException($"Internal error: {primitive.Name} JVP rule gave tangent {tan.Aval} for primal {po[i].Aval}");
            outs[i] = New(po[i], tan);
        }
        return outs;
    }
}
