using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

/// <summary>A CPU buffer: a managed byte array viewed as typed spans.</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    internal readonly byte[] Data;

    internal CpuBuffer(CpuBackend backend, DType dtype, long length) : base(backend, dtype, length)
    {
        long bytes = length * dtype.SizeOf();
        if (bytes > Array.MaxLength)
            throw new OutOfMemoryException($"CPU backend: a buffer of {length} {dtype.Name()} elements exceeds the {Array.MaxLength}-byte limit");
        Data = GC.AllocateUninitializedArray<byte>((int)bytes);
    }

    /// <summary>The elements as a typed span.</summary>
    internal Span<T> Span<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data.AsSpan());
}
