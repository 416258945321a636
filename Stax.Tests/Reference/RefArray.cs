using System.Runtime.InteropServices;

namespace Stax.Tests.Reference;

/// <summary>
/// A value of the naive reference evaluator: elements as doubles (exact for every Stax dtype)
/// plus the logical dtype, so reference code can round/wrap results the way the dtype requires.
/// </summary>
public sealed record RefArray(int[] Shape, DType DType, double[] Data)
{
    public long Size => Data.Length;
    public int Rank => Shape.Length;

    public static RefArray From(Tensor t) => new(t.Shape.ToArray(), t.DType, t.ToDoubleArray());

    public static RefArray FromBytes(ReadOnlySpan<byte> bytes, int[] shape, DType dtype)
        => new(shape, dtype, ToDoubles(bytes, dtype));

    public Tensor ToTensor() => Tensor.FromBytes(ToBytes(), new Shape(Shape), DType);

    /// <summary>Strides in elements, row-major.</summary>
    public long[] Strides()
    {
        var s = new long[Rank];
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= Shape[i]; }
        return s;
    }

    /// <summary>Rounds/wraps a double to what the dtype can hold (float32 rounding, int32 wrap...).</summary>
    public static double Fit(double v, DType t) => t switch
    {
        DType.Float32 => (float)v,
        DType.Float16 => (double)(Half)v,
        DType.BFloat16 => (float)(BFloat16)(float)v,
        DType.Float64 => v,
        DType.Int32 => unchecked((int)(long)v),
        DType.UInt32 => unchecked((uint)(long)v),
        DType.UInt8 => unchecked((byte)(long)v),
        DType.Bool => v != 0 ? 1 : 0,
        _ => v,
    };

    public byte[] ToBytes()
    {
        int n = Data.Length;
        var bytes = new byte[n * DType.SizeOf()];
        switch (DType)
        {
            case DType.Float32: { var s = MemoryMarshal.Cast<byte, float>(bytes.AsSpan()); for (int i = 0; i < n; i++) s[i] = (float)Data[i]; break; }
            case DType.Float64: Data.AsSpan().CopyTo(MemoryMarshal.Cast<byte, double>(bytes.AsSpan())); break;
            case DType.Float16: { var s = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()); for (int i = 0; i < n; i++) s[i] = (Half)Data[i]; break; }
            case DType.BFloat16: { var s = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()); for (int i = 0; i < n; i++) s[i] = ((BFloat16)(float)Data[i]).Bits; break; }
            case DType.Int32: { var s = MemoryMarshal.Cast<byte, int>(bytes.AsSpan()); for (int i = 0; i < n; i++) s[i] = unchecked((int)(long)Data[i]); break; }
            case DType.UInt32: { var s = MemoryMarshal.Cast<byte, uint>(bytes.AsSpan()); for (int i = 0; i < n; i++) s[i] = unchecked((uint)(long)Data[i]); break; }
            default: for (int i = 0; i < n; i++) bytes[i] = DType == DType.Bool ? (byte)(Data[i] != 0 ? 1 : 0) : unchecked((byte)(long)Data[i]); break;
        }
        return bytes;
    }

    static double[] ToDoubles(ReadOnlySpan<byte> bytes, DType dtype)
    {
        int n = bytes.Length / dtype.SizeOf();
        var r = new double[n];
        switch (dtype)
        {
            case DType.Float32: { var s = MemoryMarshal.Cast<byte, float>(bytes); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case DType.Float64: MemoryMarshal.Cast<byte, double>(bytes).CopyTo(r); break;
            case DType.Float16: { var s = MemoryMarshal.Cast<byte, Half>(bytes); for (int i = 0; i < n; i++) r[i] = (double)s[i]; break; }
            case DType.BFloat16: { var s = MemoryMarshal.Cast<byte, ushort>(bytes); for (int i = 0; i < n; i++) r[i] = (float)BFloat16.FromBits(s[i]); break; }
            case DType.Int32: { var s = MemoryMarshal.Cast<byte, int>(bytes); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case DType.UInt32: { var s = MemoryMarshal.Cast<byte, uint>(bytes); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            default: for (int i = 0; i < n; i++) r[i] = bytes[i]; break;
        }
        return r;
    }
}
