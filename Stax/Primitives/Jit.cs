using System.Collections.Concurrent;
using Stax.Backends;
using Stax.Tracing;

namespace Stax.Extend;

/// <summary>Parameters of the <c>jit</c> primitive: a closed-over-nothing program and its name.</summary>
public sealed record JitParams(string Name, Jaxpr Jaxpr) : Params
{
    // Shared with the donating copies made by `with` (one compiled program per backend).
    internal readonly ConcurrentDictionary<IBackend, IExecutable> Executables = new(ReferenceEqualityComparer.Instance);

    /// <summary>Per program input, whether this call donates its buffer (null: none). Set on the
    /// copy a jitted call binds (JAX's donated_invars), never on staged equations.</summary>
    internal bool[]? Donated { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"name={Name}";

    /// <summary>Reference equality on the program: one staged program, one parameter set.</summary>
    public bool Equals(JitParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

public static partial class Prims
{
    /// <summary>Calls a staged program. Jit is a primitive with every rule, so it nests under Grad and Vmap.</summary>
    public static readonly Primitive Jit = new("jit", PrimitiveFamily.Control, (ins, p) =>
    {
        var jp = (JitParams)p;
        var want = jp.Jaxpr.InVars;
        if (ins.Length != want.Length)
            throw new ArgumentException($"jit ({jp.Name}): the program takes {want.Length} inputs, got {ins.Length}");
        for (int i = 0; i < ins.Length; i++)
            if (ins[i].Shape != want[i].Aval.Shape || ins[i].DType != want[i].Aval.DType)
                throw new ArgumentException($"jit ({jp.Name}): input {i} has type {ins[i]}, the program expects {want[i].Aval}");
        return jp.Jaxpr.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            var jp = (JitParams)p;
            return JitExecutable(jp, args).Run(args, jp.Donated);
        },
    };

    /// <summary>The compiled program of <paramref name="jp"/> on the backend where <paramref name="args"/> run it.</summary>
    internal static IExecutable JitExecutable(JitParams jp, Tensor[] args)
    {
        // Captured constants come first and are often uncommitted scalars: the committed
        // arguments decide where the program runs.
        IBackend? backend = null;
        foreach (var a in args)
            if (a.Committed) { backend = a.Backend; break; }
        backend ??= args.Length > 0 ? args[0].Backend : BackendRegistry.Default;
        // The factory takes jp as an argument: a lambda capturing the parameter jp would allocate
        // its closure on entry to this method, on every call.
        return jp.Executables.TryGetValue(backend, out var exe)
            ? exe
            : jp.Executables.GetOrAdd(backend, static (b, p) => b.Compile(p.Jaxpr), jp);
    }
}
