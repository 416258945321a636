using Stax.Backends;

namespace Stax.Vulkan;

/// <summary>
/// A tensor buffer in pooled Vulkan memory. It returns to its pool when disposed or finalized,
/// and the pool hands it out again only after the queue has finished the last submission that
/// used it (<see cref="LastUse"/>).
/// </summary>
public sealed class VulkanBuffer : DeviceBuffer, IDisposable
{
    internal Chunk? Chunk { get; private set; }
    MemoryPool? _pool;
    int _released;

    internal VulkanBuffer(VulkanBackend backend, DType dtype, long length, Chunk? chunk, MemoryPool? pool) : base(backend, dtype, length)
    {
        Chunk = chunk;
        _pool = pool;
    }

    /// <summary>
    /// Moves this buffer to <paramref name="chunk"/> of <paramref name="pool"/> (its contents were
    /// copied there): a compiled program's result leaves the program's slot before the next call
    /// overwrites it. The old chunk stays the program's.
    /// </summary>
    internal void Retarget(Chunk chunk, MemoryPool pool)
    {
        Chunk = chunk;
        _pool = pool;
    }

    /// <summary>Gives a buffer made over someone else's chunk (a program's slot) the chunk itself:
    /// released to <paramref name="pool"/> with the buffer. False when it already has a pool.</summary>
    internal bool Adopt(MemoryPool pool)
    {
        if (_pool != null) return false;
        _pool = pool;
        return true;
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
