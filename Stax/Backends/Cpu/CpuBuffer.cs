using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

/// <summary>
/// A CPU buffer: a managed byte array, rented from the backend's <see cref="CpuMemoryPool"/>,
/// viewed as typed spans. The array goes back to the pool when the library knows the buffer is
/// dead (intermediates of compiled programs, donated arguments) or else when the buffer is
/// finalized.
/// </summary>
public sealed class CpuBuffer : DeviceBuffer
{
    // Not readonly: a compiled program recycles dead buffer objects (Reacquire) instead of allocating new ones.
    internal byte[] Data;
    readonly CpuMemoryPool _pool;
    int _released;
    /// <summary>True while the buffer object sits in a compiled program's list of free buffer objects
    /// (at most one list).</summary>
    internal bool Listed;

    internal CpuBuffer(CpuBackend backend, DType dtype, long length) : base(backend, dtype, length)
    {
        long bytes = length * dtype.SizeOf();
        if (bytes > Array.MaxLength)
            throw new OutOfMemoryException(
                $"CPU backend: a buffer of {length} {dtype.Name()} elements exceeds the {Array.MaxLength}-byte limit");
        _pool = backend.Pool;
        Data = _pool.Rent((int)bytes);
    }

    /// <summary>The elements as a typed span.</summary>
    internal Span<T> Span<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data.AsSpan());

    /// <summary>True once the array went back to the pool (the buffer must not be used any more).</summary>
    internal bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>Returns the array to the pool now; the caller guarantees nothing reads the buffer again.</summary>
    public override void ReleaseNow() => Release();

    internal void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        GC.SuppressFinalize(this);
        Return();
    }

    /// <summary>Returns the array to the pool when the buffer is collected.</summary>
    ~CpuBuffer()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        Return();
    }

    void Return() => _pool.Return(Data);

    /// <summary>
    /// Gives a released buffer object a fresh array of the same size, so that a compiled program
    /// can reuse the object of a dead intermediate (or of a donated argument) for a new value
    /// instead of allocating one. The claim is atomic: of several holders that saw the buffer
    /// released, one gets it; false when it is live (or claimed by another holder).
    /// </summary>
    internal bool TryReacquire()
    {
        if (Interlocked.CompareExchange(ref _released, 2, 1) != 1) return false;
        Data = _pool.Rent((int)ByteLength);
        GC.ReRegisterForFinalize(this);
        Volatile.Write(ref _released, 0);
        return true;
    }
}
