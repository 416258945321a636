using System.Runtime.InteropServices;

namespace Stax;

/// <summary>Host-side conversions of raw element bytes (printing, tests, I/O).</summary>
internal static class HostConvert
{
    public static double[] ToDoubles(ReadOnlySpan<byte> bytes, DType dtype)
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

    // Float -> integer conversion as XLA's CPU backend computes it today: its emitters lower
    // convert to LLVM's fptosi/fptoui (xla/codegen/emitters and the tiled CPU emitter; older
    // elemental emitters saturated), whose out-of-range results x86-64 defines: cvttss2si gives
    // the "integer indefinite" INT_MIN, and fptoui to 8 or 32 bits is a signed conversion to 32 or
    // 64 bits whose low bits are kept. NaN and +-Inf are out of range.

    /// <summary>float -> int32: truncates toward zero; NaN, +-Inf and values outside int32 give int.MinValue.</summary>
    public static int FloatToInt32(double v)
    {
        double t = Math.Truncate(v);
        return t >= -2147483648.0 && t < 2147483648.0 ? (int)t : int.MinValue;
    }

    /// <summary>float -> uint32: the low 32 bits of the truncated value (modulo 2^32); NaN, +-Inf and |v| &gt;= 2^63 give 0.</summary>
    public static uint FloatToUInt32(double v)
    {
        double t = Math.Truncate(v);
        return t > -9223372036854775808.0 && t < 9223372036854775808.0 ? unchecked((uint)(long)t) : 0u;
    }

    /// <summary>float -> uint8: the low 8 bits of <see cref="FloatToInt32"/> (modulo 256 inside int32's range, else 0).</summary>
    public static byte FloatToUInt8(double v) => unchecked((byte)FloatToInt32(v));
}
