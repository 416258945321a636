using Silk.NET.Vulkan;
using System.Collections.Concurrent;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace Stax.Vulkan;

/// <summary>One large VkDeviceMemory with a VkBuffer over all of it; chunks are sub-ranges.</summary>
internal sealed unsafe class MemoryBlock
{
    public DeviceMemory Memory;
    public VkBuffer Buffer;
    public ulong Size;
    public ulong Used;      // bump pointer
    public byte* Mapped;    // null unless host-visible
}

/// <summary>A sub-allocated range of a block. Sizes are size classes (multiples of 256 bytes).</summary>
internal sealed class Chunk(MemoryBlock block, ulong offset, ulong size)
{
    public readonly MemoryBlock Block = block;
    public readonly ulong Offset = offset;
    public readonly ulong Size = size;
}

/// <summary>
/// Pooled, sub-allocated memory of one kind (device or staging). Requests are rounded to a size
/// class (four classes per power of two, so at most 25% waste); freed chunks go to that class's
/// free list once the queue has finished the last submission that used them (the serial given to
/// <see cref="Release"/>), and are reused before any new block is allocated. Blocks are never
/// returned to the driver while the pool lives, so the high-water mark is the pool's size; the GC
/// is told about each block's memory (pressure is added once per block, not per buffer, so
/// recycling chunks adds none and causes no collections).
/// On a GPU the pool may also run ahead of the queue: a miss whose only candidates are still in use by
/// queued work takes new memory instead of stalling the host, while the released chunks that queued
/// work still holds stay under <see cref="RunAheadBytes"/> (see <see cref="RunAheadFor"/>).
/// </summary>
internal sealed unsafe class MemoryPool : IDisposable
{
    const ulong DefaultBlock = 64UL << 20;
    const long MinCollectBudget = 64L << 20;
    readonly VulkanContext _ctx;
    readonly MemoryPropertyFlags _flags;
    readonly MemoryPropertyFlags _preferred;
    readonly string _name;
    readonly bool _map; // map host-visible blocks (Mapped); false: the owner copies through staging
    readonly object _gate = new();
    readonly List<MemoryBlock> _blocks = new();
    readonly Dictionary<ulong, Stack<Chunk>> _free = new();
    readonly List<(Chunk Chunk, long Serial)> _pending = new();
    readonly ConcurrentQueue<(Chunk Chunk, long Serial)> _released = new();
    MemoryBlock? _current;
    long _live, _pooled, _highWater, _allocations, _reuses, _handedSinceCollect, _waits, _inFlightBytes;

    public MemoryPool(VulkanContext ctx, string name, MemoryPropertyFlags required, MemoryPropertyFlags preferred,
                      long runAheadBytes = 0, bool map = true)
    {
        _map = map;
        _ctx = ctx;
        _name = name;
        _flags = required;
        _preferred = preferred;
        RunAheadBytes = runAheadBytes;
    }

    /// <summary>
    /// How far the device pool of a device of <paramref name="deviceType"/> with <paramref name="deviceLocalBytes"/>
    /// may run ahead of the queue: none on a CPU driver (its queue runs on the same cores, so waiting costs
    /// nothing and keeps memory low), else 1/32 of the device-local memory, between 64 MiB and 4 GiB. A
    /// GPU then keeps working while the host records the next operations, as with a caching allocator.
    /// </summary>
    public static long RunAheadFor(string deviceType, ulong deviceLocalBytes) =>
        deviceType == "Cpu" ? 0 : Math.Clamp((long)Math.Min(deviceLocalBytes / 32, long.MaxValue), 64L << 20, 4L << 30);

    /// <summary>The run-ahead <c>STAX_VULKAN_RUN_AHEAD_MB</c> sets, in bytes; null when it is unset.</summary>
    public static long? RunAheadFromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("STAX_VULKAN_RUN_AHEAD_MB") is not { Length: > 0 } v) return null;
        if (long.TryParse(v.Trim(), System.Globalization.CultureInfo.InvariantCulture, out long mb) && mb is >= 0 and <= 1L << 30)
            return mb << 20;
        throw new ArgumentException($"STAX_VULKAN_RUN_AHEAD_MB={v}: expected a size in MiB (0: always wait for queued work)");
    }

    /// <summary>
    /// Bytes of released chunks still held by queued work below which a miss allocates instead of waiting;
    /// also the allocation budget between forced collections (at least 64 MiB). 0: always wait.
    /// </summary>
    public long RunAheadBytes { get; set; }
    /// <summary>How many allocations waited for queued work to finish.</summary>
    public long Waits { get { lock (_gate) return _waits; } }
    long CollectBudget => Math.Max(MinCollectBudget, RunAheadBytes);

    /// <summary>Bytes handed out and not yet released.</summary>
    public long LiveBytes => Interlocked.Read(ref _live);
    /// <summary>Bytes of device memory held by the pool (live + free).</summary>
    public long PooledBytes { get { lock (_gate) return _pooled; } }
    /// <summary>Largest <see cref="PooledBytes"/> so far.</summary>
    public long HighWaterBytes { get { lock (_gate) return _highWater; } }
    /// <summary>Number of allocations served, and how many of them reused a freed chunk.</summary>
    public (long Allocations, long Reuses) Counts { get { lock (_gate) return (_allocations, _reuses); } }

    public static ulong SizeClass(ulong bytes)
    {
        if (bytes <= 256) return 256;
        ulong p = 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(bytes - 1)); // largest pow2 < bytes (bytes > 256)
        ulong step = Math.Max(256, p / 4);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>Returns a chunk to the pool once <paramref name="serial"/> has completed. Thread-safe, lock-free (finalizers call it).</summary>
    public void Release(Chunk chunk, long serial)
    {
        Interlocked.Add(ref _live, -(long)chunk.Size);
        _released.Enqueue((chunk, serial));
    }

    /// <summary>Moves released chunks whose work has completed onto the free lists.</summary>
    void Reclaim(long completed)
    {
        while (_released.TryDequeue(out var r))
        {
            _pending.Add(r);
            _inFlightBytes += (long)r.Chunk.Size;
        }
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            if (_pending[i].Serial > completed) continue;
            var c = _pending[i].Chunk;
            _inFlightBytes -= (long)c.Size;
            if (!_free.TryGetValue(c.Size, out var s)) _free[c.Size] = s = new Stack<Chunk>();
            s.Push(c);
            _pending[i] = _pending[^1];
            _pending.RemoveAt(_pending.Count - 1);
        }
    }

    /// <summary>A chunk of at least <paramref name="bytes"/> that no queued work uses.</summary>
    /// <remarks>
    /// <paramref name="waitFor"/> must return once the given serial has completed (submitting the
    /// open command buffer only if that serial is still being recorded). The pool waits only for
    /// the earliest serial that frees a chunk of the wanted size, so a miss neither stalls on
    /// unrelated work nor splits the commands being recorded into an extra submission.
    /// </remarks>
    public Chunk Allocate(ulong bytes, Func<long> completedSerial, Action<long> waitFor)
    {
        ulong size = SizeClass(Math.Max(bytes, 4));
        lock (_gate)
        {
            _allocations++;
            Reclaim(completedSerial());
            if (TryFree(size, out var c)) return c;
            if (!RunAhead && WaitForPending(size, completedSerial, waitFor, out c)) return c;
            // Dead tensors hold chunks until their finalizers run. On a miss after the budget has
            // been handed out since the last look, collect: first the young generations (the
            // buffers of the last steps), and only if that frees nothing of this size, everything.
            // So the pool stays near live + budget, collections happen at most once per budget of
            // allocation (never per miss), and code whose buffers are released (compiled programs,
            // Dispose) never triggers one.
            if (_handedSinceCollect >= CollectBudget)
            {
                _handedSinceCollect = 0;
                foreach (int generation in new[] { 1, 2 })
                {
                    GC.Collect(generation, GCCollectionMode.Forced, blocking: true, compacting: false);
                    GC.WaitForPendingFinalizers();
                    Reclaim(completedSerial());
                    if (TryFree(size, out c) || (!RunAhead && WaitForPending(size, completedSerial, waitFor, out c))) return c;
                }
            }
            try { return Fresh(size); }
            catch (OutOfMemoryException)
            {
                // The device is short of memory: stop running ahead, collect dead tensors, let all queued work
                // finish, give idle blocks of their own back to the driver, and try once more.
                RunAheadBytes = 0;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
                GC.WaitForPendingFinalizers();
                _waits++;
                waitFor(long.MaxValue);
                Reclaim(completedSerial());
                if (TryFree(size, out c)) return c;
                FreeIdleDedicatedBlocks();
                return Fresh(size);
            }
        }
    }

    // Returns the blocks of free large chunks (one chunk per block) to the driver.
    void FreeIdleDedicatedBlocks()
    {
        foreach (var (size, stack) in _free)
        {
            if (size <= DefaultBlock / 4) continue;
            while (stack.Count > 0) Destroy(stack.Pop().Block);
        }
    }

    // A chunk of new memory: a block of its own for large sizes, else the next range of the current block.
    Chunk Fresh(ulong size)
    {
        if (size > DefaultBlock / 4)
        {
            var dedicated = NewBlock(size);
            dedicated.Used = size;
            return Hand(new Chunk(dedicated, 0, size));
        }
        if (_current == null || _current.Size - _current.Used < size) _current = NewBlock(DefaultBlock);
        var chunk = new Chunk(_current, _current.Used, size);
        _current.Used += size;
        return Hand(chunk);
    }

    /// <summary>Most bytes the pool may hold before new memory fails as if the device were out of it (tests).</summary>
    internal long LimitBytes { get; set; } = long.MaxValue;

    // Whether a miss may take new memory rather than wait for queued work to free a chunk.
    bool RunAhead => _inFlightBytes < RunAheadBytes;

    /// <summary>
    /// Waits for the earliest queued work that holds a released chunk of <paramref name="size"/>, then takes it.
    /// </summary>
    bool WaitForPending(ulong size, Func<long> completedSerial, Action<long> waitFor, out Chunk c)
    {
        long earliest = long.MaxValue;
        foreach (var (chunk, serial) in _pending)
            if (chunk.Size == size) earliest = Math.Min(earliest, serial);
        c = null!;
        if (earliest == long.MaxValue) return false;
        _waits++;
        waitFor(earliest);
        Reclaim(completedSerial());
        return TryFree(size, out c);
    }

    bool TryFree(ulong size, out Chunk c)
    {
        if (_free.TryGetValue(size, out var s) && s.Count > 0)
        {
            c = s.Pop();
            _reuses++;
            Hand(c);
            return true;
        }
        c = null!;
        return false;
    }

    Chunk Hand(Chunk c)
    {
        Interlocked.Add(ref _live, (long)c.Size);
        _handedSinceCollect += (long)c.Size;
        return c;
    }

    MemoryBlock NewBlock(ulong size)
    {
        if (_pooled + (long)size > LimitBytes)
            throw new OutOfMemoryException($"vulkan: the {_name} pool's test limit of {LimitBytes} bytes is reached");
        var vk = _ctx.Vk;
        var bci = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = size,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
            SharingMode = SharingMode.Exclusive,
        };
        VkBuffer buf;
        VulkanException.Check(vk.CreateBuffer(_ctx.Device, &bci, null, &buf), "vkCreateBuffer");
        MemoryRequirements req;
        vk.GetBufferMemoryRequirements(_ctx.Device, buf, &req);
        int type = _ctx.FindMemoryType(req.MemoryTypeBits, _flags | _preferred);
        if (type < 0) type = _ctx.FindMemoryType(req.MemoryTypeBits, _flags);
        if (type < 0)
        {
            vk.DestroyBuffer(_ctx.Device, buf, null);
            throw new NotSupportedException($"vulkan: no memory type with {_flags} for the {_name} pool");
        }
        var mai = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = (uint)type };
        DeviceMemory mem;
        var r = vk.AllocateMemory(_ctx.Device, &mai, null, &mem);
        if (r is Result.ErrorOutOfDeviceMemory or Result.ErrorOutOfHostMemory)
        {
            vk.DestroyBuffer(_ctx.Device, buf, null);
            throw new OutOfMemoryException($"vulkan: out of memory allocating a {size}-byte {_name} block ({VulkanException.Name(r)}); pool holds {_pooled} bytes, {LiveBytes} live");
        }
        VulkanException.Check(r, "vkAllocateMemory");
        VulkanException.Check(vk.BindBufferMemory(_ctx.Device, buf, mem, 0), "vkBindBufferMemory");
        var block = new MemoryBlock { Memory = mem, Buffer = buf, Size = size };
        if (_map && (_ctx.MemoryProperties.MemoryTypes[type].PropertyFlags & MemoryPropertyFlags.HostVisibleBit) != 0)
        {
            void* p;
            VulkanException.Check(vk.MapMemory(_ctx.Device, mem, 0, size, 0, &p), "vkMapMemory");
            block.Mapped = (byte*)p;
        }
        _blocks.Add(block);
        _pooled += (long)size;
        GC.AddMemoryPressure((long)size);
        _highWater = Math.Max(_highWater, _pooled);
        return block;
    }

    void Destroy(MemoryBlock b)
    {
        _ctx.Vk.DestroyBuffer(_ctx.Device, b.Buffer, null);
        _ctx.Vk.FreeMemory(_ctx.Device, b.Memory, null);
        GC.RemoveMemoryPressure((long)b.Size);
        _blocks.Remove(b);
        _pooled -= (long)b.Size;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var b in _blocks.ToArray()) Destroy(b);
            _free.Clear();
            _pending.Clear();
            _inFlightBytes = 0;
            _current = null;
        }
    }
}
