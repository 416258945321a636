using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Silk.NET.Vulkan;
using Stax.Backends;

namespace Stax.Vulkan;

/// <summary>
/// The Vulkan compute backend. Tensors live in pooled device memory; primitives run as compute
/// shaders (GLSL in <c>shaders/*.comp</c>, embedded as SPIR-V) recorded into command buffers that
/// are submitted lazily, so execution is asynchronous and <see cref="Download"/> waits.
/// Use it with <c>STAX_BACKEND=vulkan</c> after calling <see cref="Register"/> once (or after
/// touching any Stax.Vulkan type, whose module initializer registers it), or explicitly with
/// <c>tensor.DevicePut(VulkanBackend.Shared)</c>. float64 is not supported (use the CPU).
/// </summary>
public sealed partial class VulkanBackend : IBackend, IMemoryStatistics, IDisposable
{
    static readonly object SharedGate = new();
    static VulkanBackend? _shared;
    static string? _unavailable;

    internal readonly VulkanContext Ctx;
    internal readonly MemoryPool Pool;
    internal readonly MemoryPool? Staging;
    internal readonly Pipelines Pipelines;
    internal readonly CommandStream Stream;
    internal readonly object Gate = new();
    readonly Chunk _dummy;
    bool _disposed;

    /// <summary>Registers the backend under the name <c>vulkan</c> (idempotent; creation is lazy).</summary>
    public static void Register() => BackendRegistry.Register("vulkan", () => Shared);

#pragma warning disable CA2255 // a library module initializer is intended: loading Stax.Vulkan registers "vulkan"
    [ModuleInitializer]
    internal static void AutoRegister() => Register();
#pragma warning restore CA2255

    /// <summary>The process-wide backend on the device chosen by <c>STAX_VULKAN_DEVICE</c>; throws
    /// <see cref="VulkanNotAvailableException"/> ("Vulkan not available: ...") when there is no loader or driver.</summary>
    public static VulkanBackend Shared
    {
        get
        {
            lock (SharedGate)
            {
                if (_shared != null) return _shared;
                if (_unavailable != null) throw new VulkanNotAvailableException(_unavailable);
                try { return _shared = new VulkanBackend(Environment.GetEnvironmentVariable("STAX_VULKAN_DEVICE")); }
                catch (VulkanNotAvailableException e) { _unavailable = e.Reason; throw; }
            }
        }
    }

    /// <summary>True when <see cref="Shared"/> can be created; otherwise <paramref name="reason"/> says why.</summary>
    public static bool IsAvailable(out string reason)
    {
        try { _ = Shared; reason = ""; return true; }
        catch (VulkanNotAvailableException e) { reason = e.Message; return false; }
    }

    /// <summary>Creates a backend on a device chosen by <paramref name="deviceSelector"/> (an index or a
    /// name substring; null for the default choice). Most code should use <see cref="Shared"/>.</summary>
    public VulkanBackend(string? deviceSelector = null) : this(deviceSelector, null) { }

    /// <summary>A backend whose shaders get the float-control modes <paramref name="floatModes"/>
    /// (null: from <c>STAX_VULKAN_FLOAT_CONTROLS</c>); tests use it to run the kernels without them.
    /// <paramref name="staging"/> (or <c>STAX_VULKAN_STAGING=1</c>) takes a discrete GPU's memory path on
    /// any device: device memory never mapped, uploads and downloads through staging copies.</summary>
    internal VulkanBackend(string? deviceSelector, FloatModes? floatModes, bool staging = false)
    {
        long? envRunAhead = MemoryPool.RunAheadFromEnvironment(); // a bad value throws before any Vulkan object exists
        staging |= Environment.GetEnvironmentVariable("STAX_VULKAN_STAGING") == "1";
        Ctx = new VulkanContext(deviceSelector, floatModes);
        var caps = Ctx.Capabilities;
        long runAhead = envRunAhead ?? MemoryPool.RunAheadFor(caps.DeviceType, caps.DeviceLocalBytes);
        if (caps.UnifiedMemory && !staging)
        {
            const MemoryPropertyFlags unified =
                MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
            Pool = new MemoryPool(Ctx, "device", unified, 0, runAhead);
        }
        else
        {
            // Never mapped, even where device memory is host-visible (resizable BAR): reads through the
            // PCIe window are slow, and the staging copies are the path every discrete GPU takes.
            Pool = new MemoryPool(Ctx, "device", MemoryPropertyFlags.DeviceLocalBit, 0, runAhead, map: false);
            // Staging chunks run ahead too: a program's first call uploads many small tables, and waiting for
            // one still in the open command buffer would submit that buffer each time.
            Staging = new MemoryPool(Ctx, "staging", MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit,
                                     MemoryPropertyFlags.HostCachedBit, runAheadBytes: 64L << 20);
        }
        Pipelines = new Pipelines(Ctx);
        Stream = new CommandStream(Ctx);
        _dummy = Pool.Allocate(256, () => Stream.Completed, _ => { });
    }

    /// <inheritdoc/>
    public string Name => "vulkan";

    /// <summary>The selected device's capabilities (print it for a summary).</summary>
    public VulkanCapabilities Capabilities => Ctx.Capabilities;

    /// <summary>Memory statistics of the device pool: live bytes, pooled bytes and the high-water mark.</summary>
    public (long LiveBytes, long PooledBytes, long HighWaterBytes) MemoryStats => (Pool.LiveBytes, Pool.PooledBytes, Pool.HighWaterBytes);

    /// <summary>Dispatches recorded and command buffers submitted so far.</summary>
    public (long Dispatches, long Submissions) CommandCounts { get { lock (Gate) return Stream.Counts; } }

    /// <inheritdoc/>
    public bool Supports(DType dtype) => dtype is DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Int32 or DType.UInt32 or DType.UInt8 or DType.Bool;

    internal static NotSupportedException DTypeNotSupported(string op, DType t)
        => t == DType.Float64
            ? new NotSupportedException($"{op}: float64 is not supported on Vulkan; use the CPU backend for float64")
            : new NotSupportedException($"{op}: {t.Name()} is not supported on Vulkan yet");

    long _largestAllocation;

    /// <summary>The largest device buffer (bytes) allocated since the last <see cref="ResetLargestAllocation"/> (a test hook).</summary>
    internal long LargestAllocationBytes => Interlocked.Read(ref _largestAllocation);

    /// <summary>Starts a new <see cref="LargestAllocationBytes"/> measurement.</summary>
    internal void ResetLargestAllocation() => Interlocked.Exchange(ref _largestAllocation, 0);

    /// <summary>The program plan being recorded, if any: kernels' scratch buffers come from it.</summary>
    internal ProgramPlan? Capturing;

    /// <summary>Allocates an uninitialised buffer (while a program is recorded: a scratch buffer of its plan).</summary>
    internal VulkanBuffer Allocate(DType dtype, long length)
    {
        if (!Supports(dtype)) throw DTypeNotSupported("allocate", dtype);
        if (length == 0) return new VulkanBuffer(this, dtype, 0, null, null);
        if (Capturing != null) return Capturing.Scratch(dtype, length);
        return new VulkanBuffer(this, dtype, length, AllocateChunk(dtype, length), Pool);
    }

    /// <summary>Pooled memory for <paramref name="length"/> elements of <paramref name="dtype"/>.</summary>
    internal Chunk AllocateChunk(DType dtype, long length)
    {
        ulong bytes = (ulong)(length * dtype.SizeOf());
        bytes = (bytes + 3) & ~3UL;
        if (bytes > Ctx.Capabilities.MaxStorageBufferRange)
            throw new NotSupportedException($"vulkan: a {dtype.Name()} buffer of {length} elements ({bytes} bytes) exceeds this device's maxStorageBufferRange of {Ctx.Capabilities.MaxStorageBufferRange} bytes; keep such data on the host and upload it in batches");
        var chunk = Pool.Allocate(bytes, PolledCompletion, Stream.WaitFor);
        long seen;
        while ((long)bytes > (seen = Interlocked.Read(ref _largestAllocation)) && Interlocked.CompareExchange(ref _largestAllocation, (long)bytes, seen) != seen) { }
        return chunk;
    }

    internal Binding Bind(VulkanBuffer? b)
    {
        var c = b?.Chunk ?? _dummy;
        // The size class may round past the largest range a descriptor may bind.
        return new Binding(c.Block.Buffer, c.Offset, Math.Min(c.Size, Capabilities.MaxStorageBufferRange));
    }

    // The last finished submission, after a look at the fences (pools reclaim up to it).
    long PolledCompletion()
    {
        Stream.Poll();
        return Stream.Completed;
    }

    VulkanBuffer Own(DeviceBuffer b, string op)
    {
        if (b is not VulkanBuffer v || !ReferenceEquals(v.Backend, this))
            throw new ArgumentException($"{op}: buffer belongs to backend '{b.Backend.Name}', not this 'vulkan' backend; move it with Tensor.DevicePut first");
        if (v.IsDisposed) throw new ObjectDisposedException(nameof(VulkanBuffer), $"{op}: the Vulkan buffer was disposed");
        return v;
    }

    /// <inheritdoc/>
    public unsafe DeviceBuffer Upload(ReadOnlySpan<byte> data, DType dtype)
    {
        if (!Supports(dtype)) throw DTypeNotSupported("Upload", dtype);
        lock (Gate)
        {
            CheckAlive();
            // While a program is recorded, uploads are kernel tables written once: they keep their memory.
            var b = Capturing != null && data.Length > 0 ? Capturing.Constant(dtype, data.Length / dtype.SizeOf()) : Allocate(dtype, data.Length / dtype.SizeOf());
            if (b.Chunk == null) return b;
            if (b.Chunk.Block.Mapped != null)
            {
                data.CopyTo(new Span<byte>(b.Chunk.Block.Mapped + b.Chunk.Offset, data.Length));
                return b;
            }
            var st = Staging!.Allocate((ulong)data.Length, PolledCompletion, Stream.WaitFor);
            data.CopyTo(new Span<byte>(st.Block.Mapped + st.Offset, data.Length));
            long serial = Stream.Copy(new Binding(st.Block.Buffer, st.Offset, st.Size), Bind(b), (ulong)((data.Length + 3) & ~3), uncaptured: true);
            b.LastUse = serial;
            Staging.Release(st, serial);
            return b;
        }
    }

    /// <inheritdoc/>
    public unsafe void Download(DeviceBuffer buffer, Span<byte> destination)
    {
        lock (Gate)
        {
            CheckAlive();
            var b = Own(buffer, "Download");
            if (b.Chunk == null) return;
            int n = (int)b.ByteLength;
            if (b.Chunk.Block.Mapped != null)
            {
                Stream.WaitFor(b.LastUse);
                new ReadOnlySpan<byte>(b.Chunk.Block.Mapped + b.Chunk.Offset, n).CopyTo(destination);
                return;
            }
            var st = Staging!.Allocate((ulong)n, PolledCompletion, Stream.WaitFor);
            long serial = Stream.Copy(Bind(b), new Binding(st.Block.Buffer, st.Offset, st.Size), (ulong)((n + 3) & ~3));
            b.LastUse = serial;
            Stream.WaitFor(serial);
            new ReadOnlySpan<byte>(st.Block.Mapped + st.Offset, n).CopyTo(destination);
            Staging.Release(st, serial);
        }
    }

    /// <summary>Waits until all queued work has finished.</summary>
    public void Synchronize()
    {
        lock (Gate) Stream.WaitAll();
    }

    /// <inheritdoc/>
    public DeviceBuffer[] Execute(Primitive primitive, Params parameters, ReadOnlySpan<DeviceBuffer> inputs,
        ReadOnlySpan<AbstractValue> inputTypes, ReadOnlySpan<AbstractValue> outputTypes)
    {
        lock (Gate)
        {
            CheckAlive();
            var ins = new VulkanBuffer[inputs.Length];
            for (int i = 0; i < ins.Length; i++)
            {
                ins[i] = Own(inputs[i], primitive.Name);
                if (!Supports(ins[i].DType)) throw DTypeNotSupported(primitive.Name, ins[i].DType);
            }
            foreach (var t in outputTypes)
                if (!Supports(t.DType)) throw DTypeNotSupported(primitive.Name, t.DType);
            if (primitive == Prims.Reshape) return new DeviceBuffer[] { ins[0] };
            if (!Kernels.ContainsKey(primitive))
                throw new NotSupportedException($"{primitive.Name}: the Vulkan backend has no kernel for this primitive yet");
            var outs = new VulkanBuffer[outputTypes.Length];
            for (int i = 0; i < outs.Length; i++) outs[i] = Allocate(outputTypes[i].DType, outputTypes[i].Size);
            RunKernel(primitive, parameters, ins, outs, inputTypes.ToArray(), outputTypes.ToArray());
            if (Capturing == null) Stream.SubmitIfIdle();
            return outs;
        }
    }

    /// <summary>Records <paramref name="primitive"/>'s kernel writing the given outputs (16-bit floats widened where the kernel needs it).</summary>
    internal void RunKernel(Primitive primitive, Params parameters, VulkanBuffer[] ins, VulkanBuffer[] outs, AbstractValue[] inputTypes, AbstractValue[] outputTypes)
    {
        var kernel = Kernels[primitive];
        bool widen = !Native16.Contains(primitive)
            && (ins.Any(x => Is16BitFloat(x.DType)) || outs.Any(x => Is16BitFloat(x.DType)));
        if (widen) ExecuteWidened(kernel, parameters, ins, outs, inputTypes, outputTypes);
        else kernel(this, parameters, ins, outs, inputTypes, outputTypes);
    }

    internal void CheckAlive()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(VulkanBackend));
    }

    /// <summary>Waits for the queue and releases every Vulkan object (buffers become unusable).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed) return;
            _disposed = true;
            Stream.Dispose();
            Pipelines.Dispose();
            Pool.Dispose();
            Staging?.Dispose();
            Ctx.Dispose();
        }
    }
}
