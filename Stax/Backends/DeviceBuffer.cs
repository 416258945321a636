namespace Stax.Backends;

/// <summary>
/// A dense, row-major block of elements owned by one backend. The core never reads it directly:
/// it goes through <see cref="IBackend.Download"/>. Buffers are immutable once a tensor owns them.
/// </summary>
public abstract class DeviceBuffer
{
    /// <summary>Creates a buffer description.</summary>
    protected DeviceBuffer(IBackend backend, DType dtype, long length)
    {
        Backend = backend;
        DType = dtype;
        Length = length;
    }

    /// <summary>The backend that owns the memory.</summary>
    public IBackend Backend { get; }
    /// <summary>Element type.</summary>
    public DType DType { get; }
    /// <summary>Number of elements.</summary>
    public long Length { get; }
    /// <summary>Size in bytes.</summary>
    public long ByteLength => Length * DType.SizeOf();

    /// <summary>
    /// Gives the memory back to the backend now instead of when the buffer is collected. Only for
    /// buffers nothing can read again (an executable's dead intermediates); the default does
    /// nothing and leaves the memory to the finalizer.
    /// </summary>
    public virtual void ReleaseNow() { }
}
