using Stax.Tracing;

namespace Stax;

/// <summary>Groups of primitives; a backend dispatches on the family first.</summary>
public enum PrimitiveFamily
{
    /// <summary>Unary elementwise operations.</summary>
    Unary,
    /// <summary>Binary elementwise operations, comparisons and select.</summary>
    Binary,
    /// <summary>Type conversions, bitcasts and iota.</summary>
    Conversion,
    /// <summary>Shape and data movement: broadcast, reshape, transpose, slice, pad, ...</summary>
    Movement,
    /// <summary>Indexed access: gather, scatter, dynamic slices.</summary>
    Indexing,
    /// <summary>Reductions, arg-reductions and cumulative reductions.</summary>
    Reduction,
    /// <summary>Sorting and top-k.</summary>
    Sorting,
    /// <summary>dot_general.</summary>
    Dot,
    /// <summary>Convolutions and windowed reductions.</summary>
    Window,
    /// <summary>Random-number primitives.</summary>
    Random,
    /// <summary>Control flow and calls of sub-programs.</summary>
    Control,
}

/// <summary>Computes output types from input types and parameters, or throws a clear error.</summary>
public delegate AbstractValue[] AbstractEvalRule(ReadOnlySpan<AbstractValue> inputs, Params parameters);

/// <summary>
/// A primitive operation: a name plus rule slots. Every tensor operation reaches the current
/// interpreter through <see cref="Bind(Params, Tensor[])"/>. The transformation rules (JVP,
/// transpose, batching) live next to the primitive, in its family's file.
/// </summary>
public sealed class Primitive
{
    /// <summary>Creates a primitive.</summary>
    public Primitive(string name, PrimitiveFamily family, AbstractEvalRule abstractEval, int inputs = -1, bool multipleResults = false)
    {
        Name = name;
        Family = family;
        AbstractEval = abstractEval;
        Arity = inputs;
        MultipleResults = multipleResults;
    }

    /// <summary>The primitive's name as programs print it (e.g. <c>add</c>, <c>dot_general</c>).</summary>
    public string Name { get; }
    /// <summary>Its family, for backend dispatch.</summary>
    public PrimitiveFamily Family { get; }
    /// <summary>Number of inputs, or -1 when variadic.</summary>
    public int Arity { get; }
    /// <summary>True when the primitive returns several outputs.</summary>
    public bool MultipleResults { get; }
    /// <summary>The shape/dtype rule.</summary>
    public AbstractEvalRule AbstractEval { get; }

    /// <summary>Applies the primitive under the current interpreter and returns its outputs.</summary>
    public Tensor[] Bind(Params parameters, params Tensor[] args)
    {
        if (Arity >= 0 && args.Length != Arity)
            throw new ArgumentException($"{Name}: expected {Arity} operands, got {args.Length}");
        return TraceState.FindTop(args).Process(this, args, parameters);
    }

    /// <summary>Applies a single-output primitive.</summary>
    public Tensor Bind1(Params parameters, params Tensor[] args)
    {
        var outs = Bind(parameters, args);
        return outs[0];
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
