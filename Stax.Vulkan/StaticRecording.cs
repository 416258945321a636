using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace Stax.Vulkan;

/// <summary>
/// A command buffer recorded once and submitted on every call of a compiled program (simultaneous
/// use: a call may be queued while the previous one still runs). Its descriptor sets live as long
/// as it does. Barriers are placed only where a command depends on an earlier one of this buffer
/// (it reads or writes a range written since the last barrier, or writes a range read since then);
/// one barrier at the start orders it after all earlier work on the queue.
/// Not thread-safe: the backend serialises access.
/// </summary>
internal sealed unsafe class StaticRecording : IDisposable
{
    const uint SetsPerPool = 256;
    const uint DescriptorsPerPool = SetsPerPool * 8;

    readonly VulkanContext _ctx;
    readonly CommandPool _cmdPool;
    readonly List<DescriptorPool> _pools = new();
    uint _setsLeft, _descriptorsLeft;
    readonly List<(VkBuffer Buffer, ulong Start, ulong End)> _written = new();
    readonly List<(VkBuffer Buffer, ulong Start, ulong End)> _read = new();
    bool _ended;

    /// <summary>The recorded command buffer.</summary>
    public readonly CommandBuffer Cmd;
    /// <summary>Dispatches, barriers and all commands (dispatches, copies, fills, updates) recorded.</summary>
    public int Dispatches, Barriers, Commands;

    /// <summary>Ranges the command being recorded only reads (the equation's inputs); every other binding counts as written.</summary>
    public readonly HashSet<(VkBuffer Buffer, ulong Offset)> ReadOnly = new();

    public StaticRecording(VulkanContext ctx, CommandPool cmdPool)
    {
        _ctx = ctx;
        _cmdPool = cmdPool;
        var ai = new CommandBufferAllocateInfo { SType = StructureType.CommandBufferAllocateInfo, CommandPool = cmdPool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1 };
        VulkanException.Check(ctx.Vk.AllocateCommandBuffers(ctx.Device, &ai, out Cmd), "vkAllocateCommandBuffers");
        var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.SimultaneousUseBit };
        VulkanException.Check(ctx.Vk.BeginCommandBuffer(Cmd, &bi), "vkBeginCommandBuffer");
        Barrier();
    }

    void Barrier()
    {
        var mb = new MemoryBarrier
        {
            SType = StructureType.MemoryBarrier,
            SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit | AccessFlags.HostWriteBit,
            DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit,
        };
        _ctx.Vk.CmdPipelineBarrier(Cmd,
            PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit | PipelineStageFlags.HostBit,
            PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            0, 1, &mb, 0, null, 0, null);
        _written.Clear();
        _read.Clear();
        Barriers++;
    }

    static bool Overlaps(List<(VkBuffer Buffer, ulong Start, ulong End)> set, Binding b)
    {
        ulong end = b.Offset + b.Range;
        foreach (var r in set)
            if (r.Buffer.Handle == b.Buffer.Handle && r.Start < end && b.Offset < r.End) return true;
        return false;
    }

    // Orders a command that reads `reads` and writes `writes` after the earlier commands it depends on.
    void Order(ReadOnlySpan<Binding> reads, ReadOnlySpan<Binding> writes)
    {
        bool need = false;
        foreach (var b in reads) need |= Overlaps(_written, b);
        foreach (var b in writes) need |= Overlaps(_written, b) || Overlaps(_read, b);
        if (need) Barrier();
        foreach (var b in reads) _read.Add((b.Buffer, b.Offset, b.Offset + b.Range));
        foreach (var b in writes) _written.Add((b.Buffer, b.Offset, b.Offset + b.Range));
    }

    void CheckOpen()
    {
        if (_ended) throw new InvalidOperationException("Internal error: recording into an ended static command buffer");
    }

    DescriptorSet AllocateSet(Kernel k)
    {
        if (_setsLeft == 0 || _descriptorsLeft < (uint)k.Bindings)
        {
            var size = new DescriptorPoolSize(DescriptorType.StorageBuffer, DescriptorsPerPool);
            var pi = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = SetsPerPool, PoolSizeCount = 1, PPoolSizes = &size };
            VulkanException.Check(_ctx.Vk.CreateDescriptorPool(_ctx.Device, &pi, null, out var pool), "vkCreateDescriptorPool");
            _pools.Add(pool);
            _setsLeft = SetsPerPool;
            _descriptorsLeft = DescriptorsPerPool;
        }
        var layout = k.SetLayout;
        var ai = new DescriptorSetAllocateInfo { SType = StructureType.DescriptorSetAllocateInfo, DescriptorPool = _pools[^1], DescriptorSetCount = 1, PSetLayouts = &layout };
        DescriptorSet set;
        VulkanException.Check(_ctx.Vk.AllocateDescriptorSets(_ctx.Device, &ai, &set), "vkAllocateDescriptorSets");
        _setsLeft--;
        _descriptorsLeft -= (uint)k.Bindings;
        return set;
    }

    /// <summary>Records one dispatch (see <see cref="CommandStream.Dispatch"/>).</summary>
    public void Dispatch(Kernel k, ReadOnlySpan<Binding> bindings, ReadOnlySpan<byte> push, uint gx, uint gy, uint gz)
    {
        CheckOpen();
        var vk = _ctx.Vk;
        var set = AllocateSet(k);
        DescriptorWrites.StorageBuffers(_ctx, set, bindings);
        var reads = new List<Binding>(bindings.Length);
        var written = new List<Binding>(bindings.Length);
        foreach (var b in bindings)
            (ReadOnly.Contains((b.Buffer, b.Offset)) ? reads : written).Add(b);
        Order(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(reads), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(written));
        vk.CmdBindPipeline(Cmd, PipelineBindPoint.Compute, k.Pipeline);
        vk.CmdBindDescriptorSets(Cmd, PipelineBindPoint.Compute, k.Layout, 0, 1, &set, 0, null);
        if (push.Length > 0)
            fixed (byte* p = push) vk.CmdPushConstants(Cmd, k.Layout, ShaderStageFlags.ComputeBit, 0, (uint)push.Length, p);
        vk.CmdDispatch(Cmd, gx, gy, gz);
        Dispatches++;
        Commands++;
    }

    /// <summary>Records a buffer-to-buffer copy.</summary>
    public void Copy(Binding src, Binding dst, ulong bytes)
    {
        CheckOpen();
        Order(new[] { src with { Range = bytes } }, new[] { dst with { Range = bytes } });
        var region = new BufferCopy(src.Offset, dst.Offset, bytes);
        _ctx.Vk.CmdCopyBuffer(Cmd, src.Buffer, dst.Buffer, 1, &region);
        Commands++;
    }

    /// <summary>Records a fill with a 32-bit pattern.</summary>
    public void Fill(Binding dst, ulong bytes, uint value)
    {
        CheckOpen();
        Order(default, new[] { dst with { Range = bytes } });
        _ctx.Vk.CmdFillBuffer(Cmd, dst.Buffer, dst.Offset, bytes, value);
        Commands++;
    }

    /// <summary>Records an inline write (replayed on every submission).</summary>
    public void Update(Binding dst, ReadOnlySpan<byte> data)
    {
        CheckOpen();
        Order(default, new[] { dst with { Range = (ulong)data.Length } });
        fixed (byte* p = data) _ctx.Vk.CmdUpdateBuffer(Cmd, dst.Buffer, dst.Offset, (ulong)data.Length, p);
        Commands++;
    }

    /// <summary>Ends recording; writes become visible to host reads after the submission's fence.</summary>
    public void End()
    {
        CheckOpen();
        var mb = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit, DstAccessMask = AccessFlags.HostReadBit | AccessFlags.ShaderReadBit | AccessFlags.TransferReadBit };
        _ctx.Vk.CmdPipelineBarrier(Cmd, PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            PipelineStageFlags.HostBit | PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit, 0, 1, &mb, 0, null, 0, null);
        VulkanException.Check(_ctx.Vk.EndCommandBuffer(Cmd), "vkEndCommandBuffer");
        _ended = true;
    }

    /// <summary>Frees the command buffer and descriptor pools; the caller waits for submissions using it first.</summary>
    public void Dispose()
    {
        var cmd = Cmd;
        _ctx.Vk.FreeCommandBuffers(_ctx.Device, _cmdPool, 1, &cmd);
        foreach (var p in _pools) _ctx.Vk.DestroyDescriptorPool(_ctx.Device, p, null);
        _pools.Clear();
    }
}
