using Stax.Tracing;

namespace Stax.Extend;

/// <summary>Groups of primitives (for printing, tests and coverage checks; backends look kernels up per primitive).</summary>
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

/// <summary>Evaluates a primitive on concrete tensors without a backend kernel (e.g. jit runs its program).</summary>
public delegate Tensor[] ImplRule(Tensor[] args, Params parameters);

/// <summary>
/// Evaluation that may overwrite operands nobody reads again. <paramref name="dead"/>[i] is true when
/// operand i's memory belongs to the caller alone and is not read after this call; the rule may then
/// return <paramref name="args"/>[i] itself, its contents replaced, as a result of the same type (an
/// in-place update, like a donated argument). Compiled CPU programs call it for equations whose
/// operands die there; everything else calls <see cref="Primitive.Impl"/>.
/// </summary>
public delegate Tensor[] DonatingImplRule(Tensor[] args, bool[] dead, Params parameters);

/// <summary>Forward-mode rule: output primals and tangents (null = symbolic zero) from input ones.</summary>
public delegate (Tensor[] Primals, Tensor?[] Tangents) JvpRule(Tensor[] primals, Tensor?[] tangents, Params parameters);

/// <summary>An operand of a linear primitive during transposition: a known value, or the linear
/// (undefined) input whose cotangent is wanted.</summary>
public readonly record struct LinearArg(Tensor? Value, AbstractValue Aval)
{
    /// <summary>True for the linear input (no value).</summary>
    public bool IsLinear => Value is null;
    /// <summary>The known value; throws for the linear input.</summary>
    public Tensor Known => Value ?? throw new InvalidOperationException("Internal error: transpose rule read a linear input");
}

/// <summary>Transpose rule of a linear primitive: cotangents of the linear inputs (null = zero,
/// and null for known inputs) from the output cotangents (null = zero).</summary>
public delegate Tensor?[] TransposeRule(Tensor?[] cotangents, LinearArg[] args, Params parameters);

/// <summary>Batching rule: outputs and their batch dimensions (null = not batched) from inputs
/// whose batch dimension is given (null = not batched).</summary>
public delegate (Tensor[] Outputs, int?[] Dims) BatchRule(Tracing.BatchContext context, Tensor[] args, int?[] dims, Params parameters);

/// <summary>Partial-evaluation rule of a primitive that carries programs (jit, cond, while, scan,
/// remat): computes what is known now and records only the unknown part in the linear program.</summary>
public delegate Tensor[] PartialEvalRule(Tracing.PartialEvalTrace trace, Tensor[] args, Params parameters);

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

    ImplRule? _impl;
    DonatingImplRule? _donatingImpl;
    JvpRule? _jvp;
    TransposeRule? _transpose;
    BatchRule? _batch;
    PartialEvalRule? _partialEval;

    // Each rule slot is set once, when the primitive's family registers its rules: a second
    // assignment would silently change what every transformation of every program does.
    T SetOnce<T>(T? current, T value, string slot) where T : class
        => current is null ? value : throw new InvalidOperationException($"{Name}: the {slot} rule is already set; rule slots are set once");

    /// <summary>Optional evaluation without a kernel (jit, custom rules). Set once.</summary>
    public ImplRule? Impl { get => _impl; set => _impl = SetOnce(_impl, value!, "impl"); }
    /// <summary>Optional form of <see cref="Impl"/> that may write results over dead operands
    /// (see <see cref="DonatingImplRule"/>); only used where <see cref="Impl"/> is set. Set once.</summary>
    public DonatingImplRule? DonatingImpl
    {
        get => _donatingImpl;
        set => _donatingImpl = SetOnce(_donatingImpl, value!, "donating impl");
    }
    /// <summary>Forward-mode differentiation rule. Set once.</summary>
    public JvpRule? Jvp { get => _jvp; set => _jvp = SetOnce(_jvp, value!, "JVP"); }
    /// <summary>Transpose rule (linear primitives only). Set once.</summary>
    public TransposeRule? Transpose { get => _transpose; set => _transpose = SetOnce(_transpose, value!, "transpose"); }
    /// <summary>Batching (vmap) rule. Set once.</summary>
    public BatchRule? Batch { get => _batch; set => _batch = SetOnce(_batch, value!, "batching"); }
    /// <summary>Partial-evaluation rule (primitives carrying programs; others are recorded whole
    /// when any operand is unknown). Set once.</summary>
    public PartialEvalRule? PartialEval { get => _partialEval; set => _partialEval = SetOnce(_partialEval, value!, "partial-evaluation"); }
    /// <summary>True when vmap must run the batching rule even if no operand is mapped
    /// (collectives over a named axis).</summary>
    public bool BatchesUnmapped { get; internal set; }

    /// <summary>Applies the primitive under the current interpreter and returns its outputs.</summary>
    public Tensor[] Bind(Params parameters, params Tensor[] args)
    {
        if (Arity >= 0 && args.Length != Arity)
            throw new ArgumentException($"{Name}: expected {Arity} operands, got {args.Length}");
        try
        {
            return TraceState.FindTop(args).Process(this, args, parameters);
        }
        catch (ArgumentException e) when (NameScope.Current is { } scope && !e.Message.StartsWith(scope, StringComparison.Ordinal))
        {
            // Errors inside modules name the slot path (e.g. "Serial/2/Dense: dot_general: ...").
            throw new ArgumentException($"{scope}: {e.Message}", e);
        }
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
