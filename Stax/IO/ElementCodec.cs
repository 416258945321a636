using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Stax.IO;

/// <summary>Element types that checkpoint files can hold (a superset of <see cref="DType"/>).</summary>
internal enum WireKind
{
    F64, F32, F16, BF16, F8E5M2, F8E4M3, F8E8M0,
    I64, I32, I16, I8,
    U64, U32, U16, U8,
    Bool,
    /// <summary>A type the file format knows but Stax can neither load nor convert (sub-byte floats, complex).</summary>
    Opaque,
}

/// <summary>
/// Turns raw little-endian element bytes read from a file into tensors, converting on request.
/// Conversion goes through double: exact for every source type except 64-bit integers beyond 2^53.
/// </summary>
internal static class ElementCodec
{
    public static int Size(WireKind k) => k switch
    {
        WireKind.F64 or WireKind.I64 or WireKind.U64 => 8,
        WireKind.F32 or WireKind.I32 or WireKind.U32 => 4,
        WireKind.F16 or WireKind.BF16 or WireKind.I16 or WireKind.U16 => 2,
        WireKind.Opaque => throw new InvalidOperationException("Internal error: opaque element types have no byte size"),
        _ => 1,
    };

    /// <summary>The Stax dtype with the same bytes, if there is one.</summary>
    public static DType? Native(WireKind k) => k switch
    {
        WireKind.F64 => DType.Float64,
        WireKind.F32 => DType.Float32,
        WireKind.F16 => DType.Float16,
        WireKind.BF16 => DType.BFloat16,
        WireKind.I32 => DType.Int32,
        WireKind.U32 => DType.UInt32,
        WireKind.U8 => DType.UInt8,
        WireKind.Bool => DType.Bool,
        _ => null,
    };

    /// <summary>
    /// Checks, before any data is read, that a tensor stored as <paramref name="kind"/> can become
    /// <paramref name="target"/> (null: keep the stored type). Throws NotSupportedException otherwise.
    /// </summary>
    public static DType Plan(WireKind kind, string storedName, DType? target, string api, string where, string tensor)
    {
        if (kind == WireKind.Opaque)
            throw new NotSupportedException($"{api}: {where}: tensor '{tensor}' is stored as {storedName}, which Stax can neither load nor convert");
        var native = Native(kind);
        if (target is { } t) return t;
        if (native is { } n) return n;
        throw new NotSupportedException(
            $"{api}: {where}: tensor '{tensor}' is stored as {storedName}, which Stax has no dtype for; " +
            "load it with a conversion (e.g. convertTo: DType.Float32 or DType.Int32) to convert it");
    }

    /// <summary>Makes a tensor of dtype <paramref name="target"/> from little-endian bytes of <paramref name="kind"/>.</summary>
    public static Tensor ToTensor(byte[] data, WireKind kind, Shape shape, DType target, string api, string where, string tensor)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException($"{api}: big-endian hosts are not supported");
        if (kind == WireKind.Bool)
            foreach (var b in data)
                if (b > 1) throw new InvalidDataException($"{api}: {where}: bool tensor '{tensor}' holds the byte {b}; bool elements must be 0 or 1");
        if (Native(kind) == target) return Tensor.FromBytes(data, shape, target);
        var values = Decode(data, kind);
        return Tensor.FromBytes(Encode(values, target, api, where, tensor, kind), shape, target);
    }

    static double[] Decode(ReadOnlySpan<byte> b, WireKind k)
    {
        int n = b.Length / Size(k);
        var r = new double[n];
        switch (k)
        {
            case WireKind.F64: MemoryMarshal.Cast<byte, double>(b).CopyTo(r); break;
            case WireKind.F32: { var s = MemoryMarshal.Cast<byte, float>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.F16: { var s = MemoryMarshal.Cast<byte, Half>(b); for (int i = 0; i < n; i++) r[i] = (double)s[i]; break; }
            case WireKind.BF16: { var s = MemoryMarshal.Cast<byte, ushort>(b); for (int i = 0; i < n; i++) r[i] = (float)BFloat16.FromBits(s[i]); break; }
            case WireKind.F8E5M2: for (int i = 0; i < n; i++) r[i] = (double)BitConverter.UInt16BitsToHalf((ushort)(b[i] << 8)); break;
            case WireKind.F8E4M3: for (int i = 0; i < n; i++) r[i] = DecodeE4M3(b[i]); break;
            case WireKind.F8E8M0: for (int i = 0; i < n; i++) r[i] = b[i] == 0xFF ? double.NaN : Math.ScaleB(1.0, b[i] - 127); break;
            case WireKind.I64: { var s = MemoryMarshal.Cast<byte, long>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.I32: { var s = MemoryMarshal.Cast<byte, int>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.I16: { var s = MemoryMarshal.Cast<byte, short>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.I8: for (int i = 0; i < n; i++) r[i] = (sbyte)b[i]; break;
            case WireKind.U64: { var s = MemoryMarshal.Cast<byte, ulong>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.U32: { var s = MemoryMarshal.Cast<byte, uint>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.U16: { var s = MemoryMarshal.Cast<byte, ushort>(b); for (int i = 0; i < n; i++) r[i] = s[i]; break; }
            case WireKind.U8: case WireKind.Bool: for (int i = 0; i < n; i++) r[i] = b[i]; break;
            default: throw new InvalidOperationException($"Internal error: cannot decode {k}");
        }
        return r;
    }

    /// <summary>float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN.</summary>
    static double DecodeE4M3(byte v)
    {
        int e = (v >> 3) & 0xF, m = v & 7;
        double mag = e == 15 && m == 7 ? double.NaN : e == 0 ? Math.ScaleB(m / 8.0, -6) : Math.ScaleB(1 + m / 8.0, e - 7);
        return (v & 0x80) != 0 ? -mag : mag;
    }

    static byte[] Encode(double[] v, DType t, string api, string where, string tensor, WireKind from)
    {
        int n = v.Length;
        var bytes = new byte[n * t.SizeOf()];
        var span = bytes.AsSpan();
        switch (t)
        {
            case DType.Float64: MemoryMarshal.Cast<double, byte>(v).CopyTo(span); break;
            case DType.Float32: { var s = MemoryMarshal.Cast<byte, float>(span); for (int i = 0; i < n; i++) s[i] = (float)v[i]; break; }
            case DType.Float16: { var s = MemoryMarshal.Cast<byte, Half>(span); for (int i = 0; i < n; i++) s[i] = (Half)v[i]; break; }
            case DType.BFloat16: { var s = MemoryMarshal.Cast<byte, ushort>(span); for (int i = 0; i < n; i++) s[i] = ((BFloat16)(float)v[i]).Bits; break; }
            case DType.Int32: { var s = MemoryMarshal.Cast<byte, int>(span); for (int i = 0; i < n; i++) s[i] = (int)ToInteger(v[i], int.MinValue, int.MaxValue); break; }
            case DType.UInt32: { var s = MemoryMarshal.Cast<byte, uint>(span); for (int i = 0; i < n; i++) s[i] = (uint)ToInteger(v[i], 0, uint.MaxValue); break; }
            case DType.UInt8: for (int i = 0; i < n; i++) span[i] = (byte)ToInteger(v[i], 0, 255); break;
            case DType.Bool: for (int i = 0; i < n; i++) span[i] = v[i] != 0 ? (byte)1 : (byte)0; break;
            default: throw new ArgumentOutOfRangeException(nameof(t));
        }
        return bytes;

        double ToInteger(double x, double lo, double hi)
        {
            double r = Math.Truncate(x);
            if (double.IsNaN(r) || r < lo || r > hi)
                throw new OverflowException($"{api}: {where}: tensor '{tensor}' ({from}) holds the value {x} which does not fit {t.Name()}");
            return r;
        }
    }

    /// <summary>Reverses the byte order of every element in place (for big-endian .npy data).</summary>
    public static void SwapBytes(Span<byte> data, int size)
    {
        switch (size)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(data), MemoryMarshal.Cast<byte, ushort>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(data), MemoryMarshal.Cast<byte, uint>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(data), MemoryMarshal.Cast<byte, ulong>(data)); break;
        }
    }
}
