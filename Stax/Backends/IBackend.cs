namespace Stax.Backends;

/// <summary>
/// The backend contract: memory (allocate, upload, download) and one kernel entry that runs a
/// primitive on buffers. Backends know only primitives, never transformations or modules.
/// A backend dispatches on <see cref="Primitive.Family"/> and then on the primitive.
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
}

/// <summary>Runs a program equation by equation through eager evaluation.</summary>
public sealed class InterpretedExecutable(Tracing.Jaxpr program) : IExecutable
{
    /// <inheritdoc/>
    public Tensor[] Run(Tensor[] args) => Tracing.JaxprEval.Eval(program, Array.Empty<Tensor>(), args);
}
