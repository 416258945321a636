using Stax.Backends;

namespace Stax.Tracing;

/// <summary>The bottom interpreter: checks types with the abstract-evaluation rule, then runs the
/// primitive on the operands' backend.</summary>
public sealed class EvalTrace : Trace
{
    /// <summary>The single evaluation trace (level 0).</summary>
    public static readonly EvalTrace Instance = new();

    EvalTrace() : base(0) { }

    [ThreadStatic] static long _evaluations;
    [ThreadStatic] static Action<Primitive>? _observer;

    /// <summary>Calls <paramref name="observer"/> for every primitive evaluated eagerly on this
    /// thread until the scope is disposed (tests use it to see which kernels ran).</summary>
    internal static IDisposable Observe(Action<Primitive> observer)
    {
        var old = _observer;
        _observer = old == null ? observer : p => { old(p); observer(p); };
        return new Restore(() => _observer = old);
    }

    sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Primitives evaluated eagerly on this thread so far (tests use it to prove that
    /// abstract evaluation and initialization run no kernels).</summary>
    internal static long ThreadEvaluations => _evaluations;

    /// <summary>Counts and reports a primitive that a compiled program ran without binding it
    /// (so observers see compiled programs' kernels as they see eager ones).</summary>
    internal static void NotifyEvaluated(Primitive primitive)
    {
        _evaluations++;
        _observer?.Invoke(primitive);
    }

    /// <inheritdoc/>
    public override string TransformName => "eager evaluation";

    /// <inheritdoc/>
    protected override Tensor[] ProcessLifted(Primitive primitive, Tensor[] args, Params parameters) => Process(primitive, args, parameters);

    /// <inheritdoc/>
    protected override Tracer Lift(Tensor value) => throw new InvalidOperationException("Internal error: evaluation does not lift values");

    /// <inheritdoc/>
    public override Tensor[] Process(Primitive primitive, Tensor[] args, Params parameters)
    {
        _evaluations++;
        _observer?.Invoke(primitive);
        if (primitive.Impl != null) return primitive.Impl(args, parameters);
        var inTypes = new AbstractValue[args.Length];
        IBackend? backend = null;
        bool anyCommitted = false;
        // The committed operands decide the backend; uncommitted ones (from C# scalars) follow them.
        foreach (var a in args)
        {
            if (a.Buffer == null)
                throw new InvalidOperationException($"Internal error: {primitive.Name} reached eager evaluation with a traced operand");
            if (!a.Committed) continue;
            var b = a.Buffer.Backend;
            if (backend == null) { backend = b; anyCommitted = true; }
            else if (!ReferenceEquals(backend, b))
                throw new InvalidOperationException(
                    $"{primitive.Name}: operands live on different backends ('{backend.Name}' and '{b.Name}'); move them with Tensor.DevicePut first");
        }
        backend ??= args.Length > 0 ? args[0].Buffer!.Backend : BackendRegistry.Default; // nullary primitives such as iota
        for (int i = 0; i < args.Length; i++)
        {
            if (!ReferenceEquals(args[i].Buffer!.Backend, backend))
                args[i] = new Tensor(backend.Upload(args[i].ToBytes(), args[i].DType), args[i].Aval) { Committed = false };
            inTypes[i] = args[i].Aval;
        }
        var outTypes = primitive.AbstractEval(inTypes, parameters);
        foreach (var t in outTypes)
            if (!backend.Supports(t.DType))
                throw new NotSupportedException($"{primitive.Name}: dtype {t.DType.Name()} is not supported by backend '{backend.Name}'");
        var buffers = backend.Execute(primitive, parameters, args.Select(a => a.Buffer!).ToArray(), inTypes, outTypes);
        var outs = new Tensor[buffers.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = new Tensor(buffers[i], outTypes[i]) { Committed = anyCommitted };
        return outs;
    }
}
