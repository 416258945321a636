using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterConversion()
    {
        Kernels[Prims.ConvertElementType] = (p, ins, outs, it, ot) => Convert(ins[0], outs[0]);
        Kernels[Prims.BitcastConvertType] = (p, ins, outs, it, ot) => ins[0].Data.AsSpan().CopyTo(outs[0].Data);
        Kernels[Prims.Iota] = (p, ins, outs, it, ot) => Iota((IotaParams)p, outs[0]);
    }

    // Conversion goes through double for floats (exact for every source type) and through
    // long for integers; float->int follows XLA's CPU (HostConvert.FloatToInt32 and friends).
    static void Convert(CpuBuffer src, CpuBuffer dst)
    {
        long n = src.Length;
        var from = src.DType;
        var to = dst.DType;
        if (from == to) { src.Data.AsSpan().CopyTo(dst.Data); return; }
        bool viaDouble = from.IsFloat() || to.IsFloat() || to == DType.Bool;
        CpuParallel.For(n, CpuParallel.ElementwiseGrain, (src, dst, viaDouble), static (st, s, e) =>
        {
            var (src, dst, viaDouble) = st;
            for (long i = s; i < e; i++)
            {
                if (viaDouble) WriteDouble(dst, i, ReadDouble(src, i));
                else WriteLong(dst, i, ReadLong(src, i));
            }
        });
    }

    internal static double ReadDouble(CpuBuffer b, long i) => b.DType switch
    {
        DType.Float32 => b.Span<float>()[(int)i],
        DType.Float64 => b.Span<double>()[(int)i],
        DType.Float16 => (double)b.Span<Half>()[(int)i],
        DType.BFloat16 => (float)BFloat16.FromBits(b.Span<ushort>()[(int)i]),
        DType.Int32 => b.Span<int>()[(int)i],
        DType.UInt32 => b.Span<uint>()[(int)i],
        _ => b.Data[i],
    };

    static long ReadLong(CpuBuffer b, long i) => b.DType switch
    {
        DType.Int32 => b.Span<int>()[(int)i],
        DType.UInt32 => b.Span<uint>()[(int)i],
        _ => b.Data[i],
    };

    static void WriteLong(CpuBuffer b, long i, long v)
    {
        switch (b.DType)
        {
            case DType.Int32: b.Span<int>()[(int)i] = unchecked((int)v); break;
            case DType.UInt32: b.Span<uint>()[(int)i] = unchecked((uint)v); break;
            default: b.Data[i] = unchecked((byte)v); break;
        }
    }

    static void WriteDouble(CpuBuffer b, long i, double v)
    {
        switch (b.DType)
        {
            case DType.Float32: b.Span<float>()[(int)i] = (float)v; break;
            case DType.Float64: b.Span<double>()[(int)i] = v; break;
            case DType.Float16: b.Span<Half>()[(int)i] = (Half)v; break;
            case DType.BFloat16: b.Span<ushort>()[(int)i] = ((BFloat16)(float)v).Bits; break;
            case DType.Bool: b.Data[i] = (byte)(v != 0 ? 1 : 0); break;
            case DType.Int32: b.Span<int>()[(int)i] = HostConvert.FloatToInt32(v); break;
            case DType.UInt32: b.Span<uint>()[(int)i] = HostConvert.FloatToUInt32(v); break;
            default: b.Data[i] = HostConvert.FloatToUInt8(v); break;
        }
    }

    static void Iota(IotaParams p, CpuBuffer dst)
    {
        var strides = p.Shape.Strides();
        long stride = strides[p.Dimension];
        int size = p.Shape[p.Dimension];
        for (long i = 0; i < dst.Length; i++)
        {
            long v = i / stride % size;
            if (dst.DType.IsFloat()) WriteDouble(dst, i, v); else WriteLong(dst, i, v);
        }
    }
}
