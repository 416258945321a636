using Stax.Backends;

namespace Stax.Vulkan;

/// <summary>
/// A tensor buffer in pooled Vulkan memory. It returns to its pool when disposed or finalized,
/// and the pool hands it out again only after the queue has finished the last submission that
/// used it (<see cref="LastUse"/>).
/// </summary>
public sealed class VulkanBuffer : DeviceBuffer, IDisposable
{
    internal readonly Chunk? Chunk;
    readonly MemoryPool? _pool;
    int _released;

    internal VulkanBuffer(VulkanBackend backend, DType dtype, long length, Chunk? chunk, MemoryPool? pool) : base(backend, dtype, length)
    {
        Chunk = chunk;
        _pool = pool;
    }

    /// <summary>Serial of the last queue submission that reads or writes this buffer.</summary>
    internal long LastUse;

    /// <summary>True once the memory went back to the pool.</summary>
    public bool IsDisposed => Volatile.Read(ref _released) != 0;

    /// <summary>Returns the memory to the pool (it is reused once queued work using it has finished).</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override void ReleaseNow() => Dispose();

    /// <summary>Returns the memory to the pool when the buffer is collected.</summary>
    ~VulkanBuffer() => Release();

    void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        if (Chunk != null && _pool != null) _pool.Release(Chunk, Interlocked.Read(ref LastUse));
    }
}
