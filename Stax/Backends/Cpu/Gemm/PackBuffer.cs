using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// A grow-only, 64-byte aligned scratch buffer on the pinned object heap. Each thread keeps its own
/// (see <see cref="ThreadBuffers"/>), so GEMM packing and im2col reuse memory instead of allocating per call.
/// </summary>
internal sealed unsafe class PackBuffer
{
    byte[]? _array;
    byte* _aligned;
    long _capacity;

    /// <summary>An aligned pointer to at least <paramref name="bytes"/> bytes (contents undefined).</summary>
    public byte* Get(long bytes)
    {
        if (bytes > _capacity)
        {
            long cap = Math.Max(bytes, _capacity * 3 / 2);
            if (cap + 64 > Array.MaxLength) throw new OutOfMemoryException($"GEMM scratch buffer of {cap} bytes is too large");
            _array = GC.AllocateUninitializedArray<byte>((int)(cap + 64), pinned: true);
            byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
            _aligned = (byte*)(((nint)p + 63) & ~(nint)63);
            _capacity = cap;
        }
        return _aligned;
    }

    /// <summary>Typed view of <see cref="Get"/>.</summary>
    public T* Get<T>(long count) where T : unmanaged => (T*)Get(count * sizeof(T));
}

/// <summary>Per-thread scratch buffers: packed A, packed B and convolution columns.</summary>
internal static class ThreadBuffers
{
    [ThreadStatic] static PackBuffer? _a, _b, _cols, _tmp, _weights, _convTable, _zeros, _transposed;
    [ThreadStatic] static long _zeroBytes;

    /// <summary>Packed A panels (one per worker thread).</summary>
    public static PackBuffer A => _a ??= new PackBuffer();
    /// <summary>Packed B panels (owned by the thread that drives a GEMM).</summary>
    public static PackBuffer B => _b ??= new PackBuffer();
    /// <summary>Materialised convolution operands (float64/int32).</summary>
    public static PackBuffer Cols => _cols ??= new PackBuffer();
    /// <summary>Convolution kernels rearranged as a matrix.</summary>
    public static PackBuffer Weights => _weights ??= new PackBuffer();
    /// <summary>Input offsets per (kernel offset, row) while packing a convolution operand.</summary>
    public static PackBuffer ConvTable => _convTable ??= new PackBuffer();
    /// <summary>At least <paramref name="bytes"/> zero bytes (read-only: padding rows of convolution panels).</summary>
    public static unsafe byte* Zeros(long bytes)
    {
        var buf = _zeros ??= new PackBuffer();
        byte* p = buf.Get(bytes);
        if (bytes > _zeroBytes) { new Span<byte>(p, checked((int)bytes)).Clear(); _zeroBytes = bytes; }
        return p;
    }
    /// <summary>A product computed transposed before it is written in place.</summary>
    public static PackBuffer Transposed => _transposed ??= new PackBuffer();
    /// <summary>Other temporaries (converted operands).</summary>
    public static PackBuffer Tmp => _tmp ??= new PackBuffer();
}
