namespace Stax.Backends;

/// <summary>
/// The backend contract: memory (allocate, upload, download) and one kernel entry that runs a
/// primitive on buffers. Backends know only primitives, never transformations or modules.
/// Each backend looks its kernel up per primitive.
/// </summary>
public interface IBackend
{
    /// <summary>Short name (<c>cpu</c>, <c>vulkan</c>, ...), used in errors and <c>STAX_BACKEND</c>.</summary>
    string Name { get; }

    /// <summary>True when the backend can store and compute with <paramref name="dtype"/>.</summary>
    bool Supports(DType dtype);

    /// <summary>Copies host bytes (row-major elements of <paramref name="dtype"/>) into a new buffer.</summary>
    DeviceBuffer Upload(ReadOnlySpan<byte> data, DType dtype);

    /// <summary>Copies a buffer's bytes to the host; waits for queued work that writes it.</summary>
    void Download(DeviceBuffer buffer, Span<byte> destination);

    /// <summary>
    /// Runs one primitive. <paramref name="inputs"/> belong to this backend; the result holds one
    /// new buffer per output, matching <paramref name="outputTypes"/>. Abstract evaluation has
    /// already checked shapes and dtypes, so a backend may trust them.
    /// </summary>
    DeviceBuffer[] Execute(Primitive primitive, Params parameters, ReadOnlySpan<DeviceBuffer> inputs,
        ReadOnlySpan<AbstractValue> inputTypes, ReadOnlySpan<AbstractValue> outputTypes);

    /// <summary>
    /// Prepares a staged program for repeated execution on this backend. The default interprets it
    /// equation by equation; backends override it to fuse and plan memory.
    /// </summary>
    IExecutable Compile(Tracing.Jaxpr program) => new InterpretedExecutable(program);
}

/// <summary>A compiled program: runs on concrete tensors of its backend.</summary>
public interface IExecutable
{
    /// <summary>Runs the program on concrete inputs (one per input variable).</summary>
    Tensor[] Run(Tensor[] args);

    /// <summary>
    /// Runs the program; <paramref name="donated"/>[i] (when given) says that argument i's buffer is
    /// the program's to reuse or release (the caller will not read it again). By default donation
    /// is ignored.
    /// </summary>
    Tensor[] Run(Tensor[] args, bool[]? donated) => Run(args);
}

/// <summary>
/// Runs a program equation by equation through eager evaluation. An intermediate's buffer goes
/// back to its backend right after the last equation that reads it (unless a live value, an
/// argument or a result shares it), so a call needs memory for its live values only, not for
/// every intermediate until the next garbage collection.
/// </summary>
public sealed class InterpretedExecutable : IExecutable
{
    readonly Tracing.Jaxpr _program;
    readonly Tracing.Var[][] _dieAfter; // per equation: the variables it reads or writes for the last time

    /// <summary>Prepares <paramref name="program"/> for repeated runs.</summary>
    public InterpretedExecutable(Tracing.Jaxpr program)
    {
        _program = program;
        _dieAfter = Compiler.ProgramAnalysis.DyingAfter(program.Eqns, program.OutVars, program.ConstVars);
    }

    /// <inheritdoc/>
    public Tensor[] Run(Tensor[] args) => Run(args, null);

    /// <inheritdoc/>
    public Tensor[] Run(Tensor[] args, bool[]? donated)
    {
        if (args.Length != _program.InVars.Length)
            throw new ArgumentException($"program expects {_program.InVars.Length} inputs, got {args.Length}");
        var env = new Dictionary<Tracing.Var, Tensor>();
        var refs = new Dictionary<DeviceBuffer, int>(ReferenceEqualityComparer.Instance);
        const int Pinned = int.MaxValue / 2; // arguments the caller keeps are never released here
        for (int i = 0; i < args.Length; i++)
        {
            env[_program.InVars[i]] = args[i];
            if (args[i].Buffer is not { } b) continue;
            int n = refs.GetValueOrDefault(b);
            refs[b] = donated != null && donated[i] && n < Pinned ? n + 1 : Pinned;
        }
        var eqns = _program.Eqns;
        for (int k = 0; k < eqns.Length; k++)
        {
            var e = eqns[k];
            var ins = new Tensor[e.Inputs.Length];
            for (int i = 0; i < ins.Length; i++) ins[i] = env[e.Inputs[i]];
            Tensor[] outs;
            using (e.Scope != null ? Tracing.NameScope.Push(e.Scope, replace: true) : null) outs = e.Primitive.Bind(e.Params, ins);
            for (int i = 0; i < outs.Length; i++)
            {
                env[e.Outputs[i]] = outs[i];
                if (outs[i].Buffer is { } b) refs[b] = refs.GetValueOrDefault(b) + 1;
            }
            foreach (var v in _dieAfter[k])
                if (env.Remove(v, out var t) && t.Buffer is { } b && refs.TryGetValue(b, out int n) && --n >= 0)
                {
                    refs[b] = n;
                    if (n == 0) b.ReleaseNow();
                }
        }
        return _program.OutVars.Select(v => env[v]).ToArray();
    }
}
