namespace Stax.Backends.Cpu;

/// <summary>
/// The SIMD CPU backend. Kernels are registered per primitive family (one file each under
/// Backends/Cpu) and choose their vector width from <see cref="Config.Isa"/> at entry.
/// </summary>
public sealed partial class CpuBackend : IBackend, IMemoryStatistics
{
    /// <summary>The process-wide CPU backend.</summary>
    public static readonly CpuBackend Instance = new();

    static readonly Dictionary<Primitive, CpuKernel> Kernels = new();

    static CpuBackend()
    {
        RegisterElementwise();
        RegisterConversion();
        RegisterReshaping();
        RegisterSlicing();
        RegisterIndexing();
        RegisterReduction();
        RegisterSorting();
        RegisterDot();
        RegisterWindow();
        RegisterRandom();
    }

    // Each family file implements its registration; an unimplemented one compiles to nothing.
    static partial void RegisterElementwise();
    static partial void RegisterConversion();
    static partial void RegisterReshaping();
    static partial void RegisterSlicing();
    static partial void RegisterIndexing();
    static partial void RegisterReduction();
    static partial void RegisterSorting();
    static partial void RegisterDot();
    static partial void RegisterWindow();
    static partial void RegisterRandom();

    CpuBackend() { }

    internal readonly CpuMemoryPool Pool = new();

    /// <summary>
    /// Memory of this backend's buffers: bytes in live buffers, bytes of free arrays kept for
    /// reuse, and the largest live + pooled total so far (the same shape as the Vulkan backend's).
    /// </summary>
    public (long LiveBytes, long PooledBytes, long HighWaterBytes) MemoryStats
        => (Pool.LiveBytes, Pool.PooledBytes, Pool.HighWaterBytes);

    /// <summary>Arrays handed out by the buffer pool, and how many of them were reused.</summary>
    public (long Allocations, long Reuses) MemoryCounts => Pool.Counts;

    /// <summary>Hands the pool's free arrays back to the GC.</summary>
    public void TrimMemoryPool() => Pool.Trim();

    /// <summary>
    /// Compiles a staged program: per-equation kernels, parameters and types resolved once,
    /// intermediates returned to the pool after their last use, donated arguments reused, and
    /// chains of float32 elementwise equations fused into one pass over memory.
    /// </summary>
    public IExecutable Compile(Tracing.Jaxpr program) => CpuExecutable.Create(this, program);

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <inheritdoc/>
    public bool Supports(DType dtype) => true;

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<byte> data, DType dtype)
    {
        var b = new CpuBuffer(this, dtype, data.Length / dtype.SizeOf());
        data.CopyTo(b.Data);
        return b;
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer buffer, Span<byte> destination)
    {
        Own(buffer, "Download").Data.AsSpan().CopyTo(destination);
        GC.KeepAlive(buffer); // the finalizer must not return the array while it is read
    }

    internal CpuBuffer Allocate(DType dtype, long length) => new(this, dtype, length);

    /// <summary>
    /// A new tensor on this backend whose contents are not initialized, for code that writes a
    /// native call's result (e.g. an MPI receive buffer) straight into its memory through
    /// <see cref="HostBytes"/> instead of staging it in a host array and copying it in with
    /// <see cref="Tensor.FromBytes"/>. The memory comes from the backend's buffer pool.
    /// </summary>
    public Tensor AllocateUninitialized(Shape shape, DType dtype)
    {
        dtype.Checked("CpuBackend.AllocateUninitialized");
        return new Tensor(Allocate(dtype, shape.Size), new AbstractValue(shape, dtype));
    }

    /// <summary>
    /// The bytes of a concrete tensor of this backend, in place (no copy), for native calls that
    /// read tensor memory, or write the memory of a tensor from <see cref="AllocateUninitialized"/>
    /// (other tensors are values that may share their buffer: do not write them). The memory is
    /// managed: pin it (<c>fixed</c>) for the duration of a native call, and keep
    /// <paramref name="tensor"/> reachable (<c>GC.KeepAlive</c>) until the call has returned, since
    /// a collected tensor's memory goes back to the pool. Throws for a traced tensor or one held
    /// by another backend.
    /// </summary>
    public Span<byte> HostBytes(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Buffer is not CpuBuffer b || !ReferenceEquals(b.Backend, this))
            throw new ArgumentException(
                $"CpuBackend.HostBytes: the tensor {tensor.Aval} is " +
                $"{(tensor.IsConcrete ? $"held by backend '{tensor.Backend.Name}'" : "traced")}, not a concrete CPU tensor");
        if (b.IsReleased)
            throw new InvalidOperationException(
                $"CpuBackend.HostBytes: the buffer of the tensor {tensor.Aval} was already released");
        return b.Data.AsSpan(0, checked((int)b.ByteLength));
    }

    internal static bool TryGetKernel(Primitive primitive, out CpuKernel kernel) => Kernels.TryGetValue(primitive, out kernel!);

    CpuBuffer Own(DeviceBuffer b, string op)
        => b as CpuBuffer is { } c && ReferenceEquals(c.Backend, this)
            ? c : throw new ArgumentException($"{op}: buffer belongs to backend '{b.Backend.Name}', not 'cpu'");

    /// <inheritdoc/>
    public DeviceBuffer[] Execute(Primitive primitive, Params parameters, ReadOnlySpan<DeviceBuffer> inputs,
        ReadOnlySpan<AbstractValue> inputTypes, ReadOnlySpan<AbstractValue> outputTypes)
    {
        if (!Kernels.TryGetValue(primitive, out var kernel))
            throw new NotSupportedException($"{primitive.Name}: the CPU backend has no kernel for this primitive");
        var ins = new CpuBuffer[inputs.Length];
        for (int i = 0; i < ins.Length; i++) ins[i] = Own(inputs[i], primitive.Name);
        var outs = new CpuBuffer[outputTypes.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = Allocate(outputTypes[i].DType, outputTypes[i].Size);
        kernel(parameters, ins, outs, inputTypes.ToArray(), outputTypes.ToArray());
        // Kernels hold the arrays, not the buffers: keep the buffers (and so their arrays, which
        // the finalizer would return to the pool) alive until the kernel has finished.
        GC.KeepAlive(ins);
        GC.KeepAlive(outs);
        return outs;
    }
}
