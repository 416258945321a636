namespace Stax.Backends.Cpu;

/// <summary>
/// The SIMD CPU backend. Kernels are registered per primitive family (one file each under
/// Backends/Cpu) and choose their vector width from <see cref="Config.Isa"/> at entry.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The process-wide CPU backend.</summary>
    public static readonly CpuBackend Instance = new();

    static readonly Dictionary<Primitive, CpuKernel> Kernels = new();

    static CpuBackend()
    {
        RegisterUnary();
        RegisterBinary();
        RegisterConversion();
        RegisterMovement();
        RegisterIndexing();
        RegisterReduction();
        RegisterSorting();
        RegisterDot();
        RegisterWindow();
        RegisterRandom();
    }

    // Each family file implements its registration; an unimplemented one compiles to nothing.
    static partial void RegisterUnary();
    static partial void RegisterBinary();
    static partial void RegisterConversion();
    static partial void RegisterMovement();
    static partial void RegisterIndexing();
    static partial void RegisterReduction();
    static partial void RegisterSorting();
    static partial void RegisterDot();
    static partial void RegisterWindow();
    static partial void RegisterRandom();

    CpuBackend() { }

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
        => Own(buffer, "Download").Data.AsSpan().CopyTo(destination);

    internal CpuBuffer Allocate(DType dtype, long length) => new(this, dtype, length);

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
        return outs;
    }
}
