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
}
