namespace Stax.Backends.Cpu;

/// <summary>
/// Reuses the byte arrays behind <see cref="CpuBuffer"/>s: a free list per exact byte length
/// (kernels view a buffer's whole array, so an array is only reused for a buffer of exactly its
/// size; a training step asks for the same sizes every step). Fresh large arrays page-fault on
/// every first touch on these VMs, reused ones do not. Thread-safe (finalizers return arrays).
/// </summary>
internal sealed class CpuMemoryPool
{
    readonly object _gate = new();
    readonly Dictionary<int, Stack<byte[]>> _free = new();
    long _live, _pooled, _highWater, _allocations, _reuses;

    /// <summary>Free bytes kept at most; arrays returned beyond it are left to the GC.</summary>
    public long MaxPooledBytes { get; set; } = 2L << 30;

    /// <summary>Bytes in buffers that are alive (including ones waiting for finalization).</summary>
    public long LiveBytes { get { lock (_gate) return _live; } }
    /// <summary>Bytes of free arrays held for reuse.</summary>
    public long PooledBytes { get { lock (_gate) return _pooled; } }
    /// <summary>Largest live + pooled bytes so far.</summary>
    public long HighWaterBytes { get { lock (_gate) return _highWater; } }
    /// <summary>Arrays handed out, and how many of them were reused.</summary>
    public (long Allocations, long Reuses) Counts { get { lock (_gate) return (_allocations, _reuses); } }

    public byte[] Rent(int bytes)
    {
        if (bytes == 0) return Array.Empty<byte>();
        lock (_gate)
        {
            _allocations++;
            _live += bytes;
            if (_free.TryGetValue(bytes, out var s) && s.Count > 0)
            {
                _reuses++;
                _pooled -= bytes;
                return s.Pop();
            }
            _highWater = Math.Max(_highWater, _live + _pooled);
        }
        return GC.AllocateUninitializedArray<byte>(bytes);
    }

    public void Return(byte[] array)
    {
        int bytes = array.Length;
        if (bytes == 0) return;
        lock (_gate)
        {
            _live -= bytes;
            if (_pooled + bytes > MaxPooledBytes) return;
            if (!_free.TryGetValue(bytes, out var s)) _free[bytes] = s = new Stack<byte[]>();
            s.Push(array);
            _pooled += bytes;
        }
    }

    /// <summary>Drops every free array (the GC reclaims them).</summary>
    public void Trim()
    {
        lock (_gate)
        {
            _free.Clear();
            _pooled = 0;
        }
    }
}
