namespace Stax.Backends.Cpu;

/// <summary>
/// Reuses the byte arrays behind <see cref="CpuBuffer"/>s: a free list per exact byte length
/// (kernels view a buffer's whole array, so an array is only reused for a buffer of exactly its
/// size; a training step asks for the same sizes every step). Fresh large arrays page-fault on
/// every first touch on these VMs, reused ones do not. Thread-safe (finalizers return arrays).
/// </summary>
/// <remarks>
/// The free arrays are bounded by <see cref="MaxPooledBytes"/>. When a returned array would exceed
/// the bound, the arrays of the sizes used least recently are dropped first (to the GC), so a
/// program that keeps changing shapes holds at most the bound in arrays it will not ask for again,
/// while a fixed-shape loop keeps reusing its own sizes.
/// <para>Buffers are freed by finalizers, so the GC must run when dead buffers hold much memory. The
/// pool tells it through memory pressure, but only for memory that is actually new: an array
/// allocated on a miss adds its size, an array dropped to the GC removes it. A loop whose buffers
/// are recycled through the pool therefore adds no pressure and causes no collections of its own,
/// while one that keeps missing (dead buffers not yet finalized) soon makes the GC collect them.
/// A miss after 64 MiB were rented since the last collection also asks for an ephemeral (gen 0/1)
/// collection, which finds the dead buffers of recent steps cheaply; no full collection is forced.</para>
/// </remarks>
internal sealed class CpuMemoryPool
{
    /// <summary>Arrays from this size on count as memory pressure (smaller ones are cheap for the GC to see).</summary>
    internal const int PressureThreshold = 64 << 10;

    /// <summary>The default bound on free bytes (overridden by <c>STAX_CPU_POOL_MB</c>).</summary>
    public const long DefaultMaxPooledBytes = 256L << 20;

    sealed class FreeList
    {
        public readonly int Bytes;
        public readonly Stack<byte[]> Arrays = new();
        /// <summary>This size's node in the LRU order, allocated once and relinked on every use.</summary>
        public readonly LinkedListNode<FreeList> Node;
        public FreeList(int bytes) { Bytes = bytes; Node = new(this); }
    }

    readonly object _gate = new();
    readonly Dictionary<int, FreeList> _free = new();
    readonly LinkedList<FreeList> _lru = new(); // front: least recently used size that holds arrays
    readonly LinkedList<FreeList> _empty = new(); // sizes without arrays, front: emptied longest ago
    long _live, _pooled, _highWater, _allocations, _reuses;
    long _maxPooled = BoundFromEnvironment();
    long _rentedSinceCollect;
    const long CollectBudget = 64L << 20;

    /// <summary>Free bytes kept at most; beyond it the least recently used sizes go to the GC.</summary>
    public long MaxPooledBytes
    {
        get { lock (_gate) return _maxPooled; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                _maxPooled = value;
                EvictUntil(_maxPooled);
            }
        }
    }

    /// <summary>Bytes in buffers that are alive (including ones waiting for finalization).</summary>
    public long LiveBytes { get { lock (_gate) return _live; } }
    /// <summary>Bytes of free arrays held for reuse.</summary>
    public long PooledBytes { get { lock (_gate) return _pooled; } }
    /// <summary>Largest live + pooled bytes so far.</summary>
    public long HighWaterBytes { get { lock (_gate) return _highWater; } }
    /// <summary>Arrays handed out, and how many of them were reused.</summary>
    public (long Allocations, long Reuses) Counts { get { lock (_gate) return (_allocations, _reuses); } }

    static long BoundFromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("STAX_CPU_POOL_MB");
        if (string.IsNullOrWhiteSpace(env)) return DefaultMaxPooledBytes;
        if (!long.TryParse(env, out var mb) || mb < 0)
            throw new ArgumentException($"STAX_CPU_POOL_MB='{env}' must be a non-negative number of MiB");
        return mb << 20;
    }

    public byte[] Rent(int bytes)
    {
        if (bytes == 0) return Array.Empty<byte>();
        bool collect;
        lock (_gate)
        {
            _allocations++;
            _live += bytes;
            _rentedSinceCollect += bytes;
            if (_free.TryGetValue(bytes, out var list) && list.Arrays.Count > 0)
            {
                _reuses++;
                _pooled -= bytes;
                var a = list.Arrays.Pop();
                Touch(list);
                return a;
            }
            _highWater = Math.Max(_highWater, _live + _pooled);
            // A miss after the budget was rented since the last collection: dead buffers of recent
            // steps are likely waiting for finalization, and an ephemeral collection finds them
            // (their arrays come back through the finalizer thread). Full collections stay the
            // runtime's decision.
            collect = _rentedSinceCollect >= CollectBudget;
            if (collect) _rentedSinceCollect = 0;
        }
        if (bytes >= PressureThreshold) GC.AddMemoryPressure(bytes);
        if (collect) GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
        return GC.AllocateUninitializedArray<byte>(bytes);
    }

    public void Return(byte[] array)
    {
        int bytes = array.Length;
        if (bytes == 0) return;
        lock (_gate)
        {
            _live -= bytes;
            if (bytes > _maxPooled) { Dropped(bytes); return; }
            EvictUntil(_maxPooled - bytes);
            if (!_free.TryGetValue(bytes, out var list)) _free[bytes] = list = new FreeList(bytes);
            list.Arrays.Push(array);
            _pooled += bytes;
            Touch(list);
        }
    }

    // Moves a size to the most recently used end of its order: of the sizes holding arrays, or of the empty ones.
    void Touch(FreeList list)
    {
        list.Node.List?.Remove(list.Node);
        if (list.Arrays.Count > 0) { _lru.AddLast(list.Node); return; }
        _empty.AddLast(list.Node);
        if (_empty.Count > MaxEmptyKept) DropEmpty();
    }

    /// <summary>Empty lists stay (a step rents and returns the same sizes, so dropping the one a step has
    /// just emptied would allocate a new list on the next return, every step); past this many, the list
    /// emptied longest ago is dropped.</summary>
    const int MaxEmptyKept = 1024;

    void DropEmpty()
    {
        var oldest = _empty.First!.Value;
        _empty.RemoveFirst();
        _free.Remove(oldest.Bytes);
    }

    void EvictUntil(long bound)
    {
        while (_pooled > bound && _lru.First is { } node)
        {
            var list = node.Value;
            list.Arrays.Pop();
            _pooled -= list.Bytes;
            Dropped(list.Bytes);
            if (list.Arrays.Count == 0) Touch(list);
        }
    }

    static void Dropped(int bytes)
    {
        if (bytes >= PressureThreshold) GC.RemoveMemoryPressure(bytes);
    }

    /// <summary>Drops every free array (the GC reclaims them).</summary>
    public void Trim()
    {
        lock (_gate) EvictUntil(0);
    }
}
