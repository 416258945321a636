using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace Stax.Vulkan;

/// <summary>A storage-buffer binding: a range of a pooled block.</summary>
internal readonly record struct Binding(VkBuffer Buffer, ulong Offset, ulong Range);

/// <summary>
/// Records dispatches and copies into an open command buffer and submits it lazily: when it holds
/// <see cref="MaxCommands"/> commands, when someone waits (a download), or, after an eager operation,
/// when the queue has run everything submitted before (<see cref="SubmitIfIdle"/>). Each submission has a
/// serial and a fence; <see cref="Completed"/> is the last serial known finished. A global memory
/// barrier precedes every command, which orders it after all earlier work on the queue (also in
/// earlier submissions). The recorder is the unit a jitted program will record whole.
/// Not thread-safe: the backend serialises access.
/// </summary>
internal sealed unsafe class CommandStream : IDisposable
{
    public const int MaxCommands = 1024;
    const int SetsPerPool = MaxCommands;
    const int DescriptorsPerPool = MaxCommands * 8;

    sealed class Recording
    {
        public CommandBuffer Cmd;
        public Fence Fence;
        public DescriptorPool Pool;
        public long Serial;
        public int Commands;
        public CommandBuffer Tail; // commands after a compiled program's recording, in the same submission
        public bool TailUsed;
    }

    readonly VulkanContext _ctx;
    readonly CommandPool _cmdPool;
    readonly Queue<Recording> _inFlight = new();
    readonly Stack<Recording> _spare = new();
    Recording? _open;
    StaticRecording? _capture;
    long _submitted, _completed;
    long _dispatches, _submissions;

    public CommandStream(VulkanContext ctx)
    {
        _ctx = ctx;
        var ci = new CommandPoolCreateInfo
        {
            SType = StructureType.CommandPoolCreateInfo,
            Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
            QueueFamilyIndex = ctx.QueueFamily,
        };
        CommandPool pool;
        VulkanException.Check(ctx.Vk.CreateCommandPool(ctx.Device, &ci, null, &pool), "vkCreateCommandPool");
        _cmdPool = pool;
    }

    /// <summary>The serial of the last submission known to have finished.</summary>
    public long Completed => _completed;
    /// <summary>The serial commands recorded now will carry.</summary>
    public long CurrentSerial => _open?.Serial ?? _submitted + 1;
    /// <summary>Dispatches recorded and submissions made so far.</summary>
    public (long Dispatches, long Submissions) Counts => (_dispatches, _submissions);

    Recording Open()
    {
        if (_open != null) return _open;
        var r = _spare.Count > 0 ? _spare.Pop() : NewRecording();
        r.Serial = _submitted + 1;
        r.Commands = 0;
        var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
        VulkanException.Check(_ctx.Vk.BeginCommandBuffer(r.Cmd, &bi), "vkBeginCommandBuffer");
        _open = r;
        return r;
    }

    Recording NewRecording()
    {
        var vk = _ctx.Vk;
        var r = new Recording();
        var ai = new CommandBufferAllocateInfo { SType = StructureType.CommandBufferAllocateInfo, CommandPool = _cmdPool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1 };
        VulkanException.Check(vk.AllocateCommandBuffers(_ctx.Device, &ai, out r.Cmd), "vkAllocateCommandBuffers");
        var fi = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        VulkanException.Check(vk.CreateFence(_ctx.Device, &fi, null, out r.Fence), "vkCreateFence");
        var size = new DescriptorPoolSize(DescriptorType.StorageBuffer, DescriptorsPerPool);
        var pi = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = SetsPerPool, PoolSizeCount = 1, PPoolSizes = &size };
        VulkanException.Check(vk.CreateDescriptorPool(_ctx.Device, &pi, null, out r.Pool), "vkCreateDescriptorPool");
        return r;
    }

    void Barrier(Recording r)
    {
        var mb = new MemoryBarrier
        {
            SType = StructureType.MemoryBarrier,
            SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit | AccessFlags.HostWriteBit,
            DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit,
        };
        _ctx.Vk.CmdPipelineBarrier(r.Cmd,
            PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit | PipelineStageFlags.HostBit,
            PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            0, 1, &mb, 0, null, 0, null);
    }

    /// <summary>
    /// Starts recording into a new <see cref="StaticRecording"/>: dispatches, copies, fills and
    /// updates go there (not into the stream) until <see cref="EndCapture"/>.
    /// </summary>
    public StaticRecording BeginCapture()
    {
        if (_capture != null) throw new InvalidOperationException("Internal error: nested program recordings");
        return _capture = new StaticRecording(_ctx, _cmdPool);
    }

    /// <summary>Ends the capture begun by <see cref="BeginCapture"/>.</summary>
    public void EndCapture() => _capture = null;

    /// <summary>Records one dispatch; returns the serial of the submission that will run it.</summary>
    public long Dispatch(Kernel k, ReadOnlySpan<Binding> bindings, ReadOnlySpan<byte> push, uint gx, uint gy = 1, uint gz = 1)
    {
        if (bindings.Length != k.Bindings)
            throw new InvalidOperationException($"Internal error: {k.Shader} expects {k.Bindings} bindings, got {bindings.Length}");
        if (push.Length > Pipelines.PushBytes)
            throw new InvalidOperationException($"Internal error: {k.Shader} push constants of {push.Length} bytes");
        if (_capture != null)
        {
            _capture.Dispatch(k, bindings, push, gx, gy, gz);
            return CurrentSerial;
        }
        if (_open != null && _open.Commands >= MaxCommands) Flush();
        var r = Open();
        var vk = _ctx.Vk;
        var layout = k.SetLayout;
        var ai = new DescriptorSetAllocateInfo { SType = StructureType.DescriptorSetAllocateInfo, DescriptorPool = r.Pool, DescriptorSetCount = 1, PSetLayouts = &layout };
        DescriptorSet set;
        VulkanException.Check(vk.AllocateDescriptorSets(_ctx.Device, &ai, &set), "vkAllocateDescriptorSets");
        DescriptorWrites.StorageBuffers(_ctx, set, bindings);
        Barrier(r);
        vk.CmdBindPipeline(r.Cmd, PipelineBindPoint.Compute, k.Pipeline);
        vk.CmdBindDescriptorSets(r.Cmd, PipelineBindPoint.Compute, k.Layout, 0, 1, &set, 0, null);
        if (push.Length > 0)
            fixed (byte* p = push) vk.CmdPushConstants(r.Cmd, k.Layout, ShaderStageFlags.ComputeBit, 0, (uint)push.Length, p);
        vk.CmdDispatch(r.Cmd, gx, gy, gz);
        r.Commands++;
        _dispatches++;
        return r.Serial;
    }

    /// <summary>Records a buffer-to-buffer copy (into the stream even while capturing when <paramref name="uncaptured"/>: a one-time upload).</summary>
    public long Copy(Binding src, Binding dst, ulong bytes, bool uncaptured = false)
    {
        if (_capture != null && !uncaptured)
        {
            _capture.Copy(src, dst, bytes);
            return CurrentSerial;
        }
        if (_open != null && _open.Commands >= MaxCommands) Flush();
        var r = Open();
        Barrier(r);
        var region = new BufferCopy(src.Offset, dst.Offset, bytes);
        _ctx.Vk.CmdCopyBuffer(r.Cmd, src.Buffer, dst.Buffer, 1, &region);
        r.Commands++;
        return r.Serial;
    }

    /// <summary>Records a fill of <paramref name="bytes"/> (a multiple of 4) with a 32-bit pattern.</summary>
    public long Fill(Binding dst, ulong bytes, uint value)
    {
        if (_capture != null)
        {
            _capture.Fill(dst, bytes, value);
            return CurrentSerial;
        }
        if (_open != null && _open.Commands >= MaxCommands) Flush();
        var r = Open();
        Barrier(r);
        _ctx.Vk.CmdFillBuffer(r.Cmd, dst.Buffer, dst.Offset, bytes, value);
        r.Commands++;
        return r.Serial;
    }

    /// <summary>Records an inline write of <paramref name="data"/> (a multiple of 4 bytes, at most 65536) into <paramref name="dst"/>.</summary>
    public long Update(Binding dst, ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0 || data.Length > 65536 || (ulong)data.Length > dst.Range)
            throw new InvalidOperationException($"Internal error: vkCmdUpdateBuffer of {data.Length} bytes into a {dst.Range}-byte binding");
        if (_capture != null)
        {
            _capture.Update(dst, data);
            return CurrentSerial;
        }
        if (_open != null && _open.Commands >= MaxCommands) Flush();
        var r = Open();
        Barrier(r);
        fixed (byte* p = data) _ctx.Vk.CmdUpdateBuffer(r.Cmd, dst.Buffer, dst.Offset, (ulong)data.Length, p);
        r.Commands++;
        return r.Serial;
    }

    /// <summary>
    /// Whether <see cref="SubmitIfIdle"/> submits (tests turn it off to keep work open on the host).
    /// </summary>
    public bool SubmitWhenIdle { get; set; } = true;

    /// <summary>
    /// Submits the open command buffer if the queue has finished everything submitted before: an idle
    /// device starts on eager work at once, and while it is busy the host gathers the next operations
    /// into one submission (a fence query per call, no wait).
    /// </summary>
    public void SubmitIfIdle()
    {
        if (!SubmitWhenIdle || _open == null || _capture != null) return;
        Poll();
        if (_inFlight.Count == 0) Flush();
    }

    /// <summary>Submits the open command buffer, if any.</summary>
    public void Flush()
    {
        var r = _open;
        if (r == null) return;
        Submit(r, null, default);
    }

    /// <summary>
    /// Submits the open command buffer (earlier work and this call's argument copies), then
    /// <paramref name="program"/>, then the copies <paramref name="after"/> (of results into fresh
    /// buffers), as one queue submission; returns its serial.
    /// </summary>
    public long SubmitProgram(StaticRecording program, IReadOnlyList<(Binding Src, Binding Dst, ulong Bytes)> after)
    {
        var r = Open();
        Submit(r, program, after);
        _dispatches += program.Dispatches;
        return r.Serial;
    }

    void Submit(Recording r, StaticRecording? program, IReadOnlyList<(Binding Src, Binding Dst, ulong Bytes)>? after)
    {
        _open = null;
        var vk = _ctx.Vk;
        // Make shader/transfer writes visible to host reads after the fence.
        var mb = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit, DstAccessMask = AccessFlags.HostReadBit };
        vk.CmdPipelineBarrier(r.Cmd, PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit, PipelineStageFlags.HostBit, 0, 1, &mb, 0, null, 0, null);
        VulkanException.Check(vk.EndCommandBuffer(r.Cmd), "vkEndCommandBuffer");
        var cmds = stackalloc CommandBuffer[3];
        uint n = 0;
        cmds[n++] = r.Cmd;
        if (program != null)
        {
            cmds[n++] = program.Cmd;
            if (after is { Count: > 0 })
            {
                if (r.Tail.Handle == 0)
                {
                    var ai = new CommandBufferAllocateInfo { SType = StructureType.CommandBufferAllocateInfo, CommandPool = _cmdPool, Level = CommandBufferLevel.Primary, CommandBufferCount = 1 };
                    VulkanException.Check(vk.AllocateCommandBuffers(_ctx.Device, &ai, out r.Tail), "vkAllocateCommandBuffers");
                }
                var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
                VulkanException.Check(vk.BeginCommandBuffer(r.Tail, &bi), "vkBeginCommandBuffer");
                var tb = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit, DstAccessMask = AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit };
                vk.CmdPipelineBarrier(r.Tail, PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit, PipelineStageFlags.TransferBit, 0, 1, &tb, 0, null, 0, null);
                foreach (var (src, dst, bytes) in after)
                {
                    var region = new BufferCopy(src.Offset, dst.Offset, bytes);
                    vk.CmdCopyBuffer(r.Tail, src.Buffer, dst.Buffer, 1, &region);
                }
                vk.CmdPipelineBarrier(r.Tail, PipelineStageFlags.TransferBit, PipelineStageFlags.HostBit, 0, 1, &mb, 0, null, 0, null);
                VulkanException.Check(vk.EndCommandBuffer(r.Tail), "vkEndCommandBuffer");
                r.TailUsed = true;
                cmds[n++] = r.Tail;
            }
        }
        var si = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = n, PCommandBuffers = cmds };
        VulkanException.Check(vk.QueueSubmit(_ctx.Queue, 1, &si, r.Fence), "vkQueueSubmit");
        _submitted = r.Serial;
        _submissions++;
        _inFlight.Enqueue(r);
    }

    /// <summary>Advances <see cref="Completed"/> over finished submissions without waiting.</summary>
    public void Poll()
    {
        while (_inFlight.Count > 0)
        {
            var r = _inFlight.Peek();
            var s = _ctx.Vk.GetFenceStatus(_ctx.Device, r.Fence);
            if (s == Result.NotReady) return;
            VulkanException.Check(s, "vkGetFenceStatus");
            Retire(_inFlight.Dequeue());
        }
    }

    /// <summary>Waits until the submission with <paramref name="serial"/> (and all before it) has finished.</summary>
    public void WaitFor(long serial)
    {
        if (serial <= _completed) return;
        if (_open != null && serial >= _open.Serial) Flush();
        while (_inFlight.Count > 0 && _inFlight.Peek().Serial <= serial)
        {
            var r = _inFlight.Peek();
            var f = r.Fence;
            VulkanException.Check(_ctx.Vk.WaitForFences(_ctx.Device, 1, &f, true, ulong.MaxValue), "vkWaitForFences");
            Retire(_inFlight.Dequeue());
        }
    }

    /// <summary>Submits everything and waits for the queue to drain.</summary>
    public void WaitAll()
    {
        Flush();
        WaitFor(_submitted);
    }

    void Retire(Recording r)
    {
        var vk = _ctx.Vk;
        var f = r.Fence;
        VulkanException.Check(vk.ResetFences(_ctx.Device, 1, &f), "vkResetFences");
        VulkanException.Check(vk.ResetCommandBuffer(r.Cmd, 0), "vkResetCommandBuffer");
        if (r.TailUsed) VulkanException.Check(vk.ResetCommandBuffer(r.Tail, 0), "vkResetCommandBuffer");
        r.TailUsed = false;
        VulkanException.Check(vk.ResetDescriptorPool(_ctx.Device, r.Pool, 0), "vkResetDescriptorPool");
        _completed = Math.Max(_completed, r.Serial);
        _spare.Push(r);
    }

    public void Dispose()
    {
        try { WaitAll(); } catch (VulkanException) { }
        var vk = _ctx.Vk;
        foreach (var r in _spare)
        {
            vk.DestroyFence(_ctx.Device, r.Fence, null);
            vk.DestroyDescriptorPool(_ctx.Device, r.Pool, null);
        }
        _spare.Clear();
        vk.DestroyCommandPool(_ctx.Device, _cmdPool, null);
    }
}
