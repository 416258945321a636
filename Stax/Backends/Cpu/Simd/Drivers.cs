using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Simd;

/// <summary>
/// The loops: each driver reads <see cref="Config.Isa"/> once, splits the work with
/// <see cref="CpuParallel.For"/>, runs the widest allowed vector loop and finishes the tail with the
/// operator's scalar form (every operator's scalar and vector forms agree bit for bit).
/// </summary>
internal static class Drivers
{
    static ref T At<T>(byte[] a, long i) where T : unmanaged
        => ref Unsafe.Add(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(a)), (nint)i);

    static Isa Pick(bool vectorizable) => vectorizable ? Config.Isa : Isa.Scalar;

    // ---------------------------------------------------------------- unary

    public static void Unary<TOp, T>(CpuBuffer x, CpuBuffer y) where TOp : IUnaryOp<T> where T : unmanaged
    {
        var isa = Pick(TOp.Vectorizable);
        byte[] xa = x.Data, ya = y.Data;
        CpuParallel.For(y.Length, CpuParallel.ElementwiseGrain, (isa, xa, ya),
            static (st, s, e) => UnaryRange<TOp, T>(st.isa, ref At<T>(st.xa, s), ref At<T>(st.ya, s), (int)(e - s)));
    }

    internal static void UnaryRange<TOp, T>(Isa isa, ref T x, ref T y, int n) where TOp : IUnaryOp<T> where T : unmanaged
    {
        int i = 0;
        if (isa == Isa.Vector512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        else if (isa == Isa.Vector256)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        else if (isa == Isa.Vector128)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Invoke(Vector128.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = TOp.Invoke(Unsafe.Add(ref x, i));
    }

    /// <summary>float16 / bfloat16: widen to float, apply the float operator's scalar form, round back.</summary>
    public static void UnaryViaFloat<TOp>(CpuBuffer x, CpuBuffer y) where TOp : IUnaryOp<float>
    {
        bool half = x.DType == DType.Float16;
        byte[] xa = x.Data, ya = y.Data;
        CpuParallel.For(y.Length, CpuParallel.ElementwiseGrain, (half, xa, ya), static (st, s, e) =>
        {
            for (long i = s; i < e; i++)
                Store16(st.ya, i, st.half, TOp.Invoke(Load16(st.xa, i, st.half)));
        });
    }

    internal static float Load16(byte[] a, long i, bool half)
    {
        ushort b = At<ushort>(a, i);
        return half ? (float)BitConverter.UInt16BitsToHalf(b) : BitConverter.UInt32BitsToSingle((uint)b << 16);
    }

    internal static void Store16(byte[] a, long i, bool half, float v)
        => At<ushort>(a, i) = half ? BitConverter.HalfToUInt16Bits((Half)v) : ((BFloat16)v).Bits;

    // ---------------------------------------------------------------- binary

    public static void Binary<TOp, T>(CpuBuffer x, CpuBuffer y, CpuBuffer z) where TOp : IBinaryOp<T> where T : unmanaged
    {
        var isa = Pick(TOp.Vectorizable);
        byte[] xa = x.Data, ya = y.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (isa, xa, ya, za), static (st, s, e) =>
            BinaryRange<TOp, T>(st.isa, ref At<T>(st.xa, s), ref At<T>(st.ya, s), ref At<T>(st.za, s), (int)(e - s)));
    }

    internal static void BinaryRange<TOp, T>(Isa isa, ref T x, ref T y, ref T z, int n) where TOp : IBinaryOp<T> where T : unmanaged
    {
        int i = 0;
        if (isa == Isa.Vector512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref z, (nuint)i);
        else if (isa == Isa.Vector256)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref z, (nuint)i);
        else if (isa == Isa.Vector128)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Invoke(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref z, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref z, i) = TOp.Invoke(Unsafe.Add(ref x, i), Unsafe.Add(ref y, i));
    }

    /// <summary>z = op(s, y) (<paramref name="scalarFirst"/>) or op(y, s) with a broadcast scalar s.</summary>
    internal static void BinaryRangeScalar<TOp, T>(Isa isa, T s, ref T y, ref T z, int n, bool scalarFirst) where TOp : IBinaryOp<T> where T : unmanaged
    {
        int i = 0;
        if (isa == Isa.Vector512)
        {
            var v = Vector512.Create(s);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var w = Vector512.LoadUnsafe(ref y, (nuint)i);
                (scalarFirst ? TOp.Invoke(v, w) : TOp.Invoke(w, v)).StoreUnsafe(ref z, (nuint)i);
            }
        }
        else if (isa == Isa.Vector256)
        {
            var v = Vector256.Create(s);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var w = Vector256.LoadUnsafe(ref y, (nuint)i);
                (scalarFirst ? TOp.Invoke(v, w) : TOp.Invoke(w, v)).StoreUnsafe(ref z, (nuint)i);
            }
        }
        else if (isa == Isa.Vector128)
        {
            var v = Vector128.Create(s);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var w = Vector128.LoadUnsafe(ref y, (nuint)i);
                (scalarFirst ? TOp.Invoke(v, w) : TOp.Invoke(w, v)).StoreUnsafe(ref z, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref z, i) = scalarFirst ? TOp.Invoke(s, Unsafe.Add(ref y, i)) : TOp.Invoke(Unsafe.Add(ref y, i), s);
    }

    /// <summary>float16 / bfloat16 binary operator computed in float.</summary>
    public static void BinaryViaFloat<TOp>(CpuBuffer x, CpuBuffer y, CpuBuffer z) where TOp : IBinaryOp<float>
    {
        bool half = x.DType == DType.Float16;
        byte[] xa = x.Data, ya = y.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (half, xa, ya, za), static (st, s, e) =>
        {
            for (long i = s; i < e; i++)
                Store16(st.za, i, st.half, TOp.Invoke(Load16(st.xa, i, st.half), Load16(st.ya, i, st.half)));
        });
    }

    // ---------------------------------------------------------------- predicates -> bool

    // Byte i of Spread[m] is bit i of m: turns 8 lane-mask bits into 8 bool bytes.
    static readonly ulong[] Spread = BuildSpread();

    static ulong[] BuildSpread()
    {
        var t = new ulong[256];
        for (int m = 0; m < 256; m++)
            for (int b = 0; b < 8; b++)
                if ((m >> b & 1) != 0) t[m] |= 1UL << (8 * b);
        return t;
    }

    static void WriteBools(ulong bits, int lanes, ref byte dst)
    {
        ref ulong spread = ref MemoryMarshal.GetArrayDataReference(Spread);
        if (lanes >= 8)
        {
            for (int k = 0; k < lanes; k += 8)
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, k), Unsafe.Add(ref spread, (nint)(bits >> k & 0xFF)));
            return;
        }
        ulong v = Unsafe.Add(ref spread, (nint)(bits & 0xFF));
        if (lanes == 4) Unsafe.WriteUnaligned(ref dst, (uint)v);
        else if (lanes == 2) Unsafe.WriteUnaligned(ref dst, (ushort)v);
        else for (int k = 0; k < lanes; k++) Unsafe.Add(ref dst, k) = (byte)(v >> (8 * k));
    }

    public static void Compare<TOp, T>(CpuBuffer x, CpuBuffer y, CpuBuffer z) where TOp : IComparison<T> where T : unmanaged
    {
        var isa = Config.Isa;
        byte[] xa = x.Data, ya = y.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (isa, xa, ya, za), static (st, s, e) =>
            CompareRange<TOp, T>(st.isa, ref At<T>(st.xa, s), ref At<T>(st.ya, s), ref At<byte>(st.za, s), (int)(e - s)));
    }

    static void CompareRange<TOp, T>(Isa isa, ref T x, ref T y, ref byte z, int n) where TOp : IComparison<T> where T : unmanaged
    {
        int i = 0;
        if (isa == Isa.Vector512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                WriteBools(TOp.Invoke(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i)).ExtractMostSignificantBits(), Vector512<T>.Count, ref Unsafe.Add(ref z, i));
        else if (isa == Isa.Vector256)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                WriteBools(TOp.Invoke(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).ExtractMostSignificantBits(), Vector256<T>.Count, ref Unsafe.Add(ref z, i));
        else if (isa == Isa.Vector128)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                WriteBools(TOp.Invoke(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref y, (nuint)i)).ExtractMostSignificantBits(), Vector128<T>.Count, ref Unsafe.Add(ref z, i));
        for (; i < n; i++) Unsafe.Add(ref z, i) = TOp.Invoke(Unsafe.Add(ref x, i), Unsafe.Add(ref y, i)) ? (byte)1 : (byte)0;
    }

    public static void CompareViaFloat<TOp>(CpuBuffer x, CpuBuffer y, CpuBuffer z) where TOp : IComparison<float>
    {
        bool half = x.DType == DType.Float16;
        byte[] xa = x.Data, ya = y.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (half, xa, ya, za), static (st, s, e) =>
        {
            for (long i = s; i < e; i++)
                st.za[i] = TOp.Invoke(Load16(st.xa, i, st.half), Load16(st.ya, i, st.half)) ? (byte)1 : (byte)0;
        });
    }

    public static void Predicate<TOp, T>(CpuBuffer x, CpuBuffer z) where TOp : IUnaryPredicate<T> where T : unmanaged
    {
        var isa = Config.Isa;
        byte[] xa = x.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (isa, xa, za), static (st, s, e) =>
        {
            var isa = st.isa;
            ref T xr = ref At<T>(st.xa, s);
            ref byte zr = ref At<byte>(st.za, s);
            int n = (int)(e - s), i = 0;
            if (isa == Isa.Vector512)
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    WriteBools(TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).ExtractMostSignificantBits(), Vector512<T>.Count, ref Unsafe.Add(ref zr, i));
            else if (isa == Isa.Vector256)
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    WriteBools(TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).ExtractMostSignificantBits(), Vector256<T>.Count, ref Unsafe.Add(ref zr, i));
            else if (isa == Isa.Vector128)
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    WriteBools(TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i)).ExtractMostSignificantBits(), Vector128<T>.Count, ref Unsafe.Add(ref zr, i));
            for (; i < n; i++) Unsafe.Add(ref zr, i) = TOp.Invoke(Unsafe.Add(ref xr, i)) ? (byte)1 : (byte)0;
        });
    }

    public static void PredicateViaFloat<TOp>(CpuBuffer x, CpuBuffer z) where TOp : IUnaryPredicate<float>
    {
        bool half = x.DType == DType.Float16;
        byte[] xa = x.Data, za = z.Data;
        CpuParallel.For(z.Length, CpuParallel.ElementwiseGrain, (half, xa, za), static (st, s, e) =>
        {
            for (long i = s; i < e; i++) st.za[i] = TOp.Invoke(Load16(st.xa, i, st.half)) ? (byte)1 : (byte)0;
        });
    }

    // ---------------------------------------------------------------- select

    /// <summary>select(pred, onTrue, onFalse) on elements of any size (pure data movement).</summary>
    public static void Select(CpuBuffer pred, CpuBuffer onTrue, CpuBuffer onFalse, CpuBuffer result)
    {
        switch (result.DType.SizeOf())
        {
            case 1: Select<byte>(pred, onTrue, onFalse, result); break;
            case 2: Select<ushort>(pred, onTrue, onFalse, result); break;
            case 4: Select<uint>(pred, onTrue, onFalse, result); break;
            default: Select<ulong>(pred, onTrue, onFalse, result); break;
        }
    }

    static void Select<T>(CpuBuffer pred, CpuBuffer onTrue, CpuBuffer onFalse, CpuBuffer result) where T : unmanaged
    {
        var isa = Config.Isa;
        byte[] pa = pred.Data, ta = onTrue.Data, fa = onFalse.Data, ra = result.Data;
        CpuParallel.For(result.Length, CpuParallel.ElementwiseGrain, (isa, pa, ta, fa, ra), static (st, s, e) =>
        {
            var isa = st.isa;
            ref byte p = ref At<byte>(st.pa, s);
            ref T t = ref At<T>(st.ta, s), f = ref At<T>(st.fa, s), r = ref At<T>(st.ra, s);
            int n = (int)(e - s), i = 0;
            if (isa == Isa.Vector512)
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    Vector512.ConditionalSelect(Mask512<T>(ref Unsafe.Add(ref p, i)), Vector512.LoadUnsafe(ref t, (nuint)i), Vector512.LoadUnsafe(ref f, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
            else if (isa == Isa.Vector256)
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    Vector256.ConditionalSelect(Mask256<T>(ref Unsafe.Add(ref p, i)), Vector256.LoadUnsafe(ref t, (nuint)i), Vector256.LoadUnsafe(ref f, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
            else if (isa == Isa.Vector128)
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    Vector128.ConditionalSelect(Mask128<T>(ref Unsafe.Add(ref p, i)), Vector128.LoadUnsafe(ref t, (nuint)i), Vector128.LoadUnsafe(ref f, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
            for (; i < n; i++) Unsafe.Add(ref r, i) = Unsafe.Add(ref p, i) != 0 ? Unsafe.Add(ref t, i) : Unsafe.Add(ref f, i);
        });
    }

    // Lane masks (all ones where the bool byte is nonzero) for Count<T> consecutive bool bytes.
    static Vector128<T> Mask128<T>(ref byte p) where T : unmanaged
    {
        Vector128<byte> b = Unsafe.SizeOf<T>() switch
        {
            1 => Vector128.LoadUnsafe(ref p),
            2 => Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref p)).AsByte(),
            4 => Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref p)).AsByte(),
            _ => Vector128.CreateScalar(Unsafe.ReadUnaligned<ushort>(ref p)).AsByte(),
        };
        if (Unsafe.SizeOf<T>() == 1) return ~Vector128.Equals(b, Vector128<byte>.Zero).As<byte, T>();
        var w = Vector128.WidenLower(b);
        if (Unsafe.SizeOf<T>() == 2) return ~Vector128.Equals(w, Vector128<ushort>.Zero).As<ushort, T>();
        var d = Vector128.WidenLower(w);
        if (Unsafe.SizeOf<T>() == 4) return ~Vector128.Equals(d, Vector128<uint>.Zero).As<uint, T>();
        return ~Vector128.Equals(Vector128.WidenLower(d), Vector128<ulong>.Zero).As<ulong, T>();
    }

    static Vector256<T> Mask256<T>(ref byte p) where T : unmanaged
    {
        Vector256<byte> b = Unsafe.SizeOf<T>() switch
        {
            1 => Vector256.LoadUnsafe(ref p),
            2 => Vector128.LoadUnsafe(ref p).ToVector256Unsafe(),
            4 => Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref p)).AsByte().ToVector256Unsafe(),
            _ => Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref p)).AsByte().ToVector256Unsafe(),
        };
        if (Unsafe.SizeOf<T>() == 1) return ~Vector256.Equals(b, Vector256<byte>.Zero).As<byte, T>();
        var w = Vector256.WidenLower(b);
        if (Unsafe.SizeOf<T>() == 2) return ~Vector256.Equals(w, Vector256<ushort>.Zero).As<ushort, T>();
        var d = Vector256.WidenLower(w);
        if (Unsafe.SizeOf<T>() == 4) return ~Vector256.Equals(d, Vector256<uint>.Zero).As<uint, T>();
        return ~Vector256.Equals(Vector256.WidenLower(d), Vector256<ulong>.Zero).As<ulong, T>();
    }

    static Vector512<T> Mask512<T>(ref byte p) where T : unmanaged
    {
        Vector512<byte> b = Unsafe.SizeOf<T>() switch
        {
            1 => Vector512.LoadUnsafe(ref p),
            2 => Vector256.LoadUnsafe(ref p).ToVector512Unsafe<byte>(),
            4 => Vector128.LoadUnsafe(ref p).ToVector256Unsafe<byte>().ToVector512Unsafe<byte>(),
            _ => Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref p)).AsByte().ToVector256Unsafe<byte>().ToVector512Unsafe<byte>(),
        };
        if (Unsafe.SizeOf<T>() == 1) return ~Vector512.Equals(b, Vector512<byte>.Zero).As<byte, T>();
        var w = Vector512.WidenLower(b);
        if (Unsafe.SizeOf<T>() == 2) return ~Vector512.Equals(w, Vector512<ushort>.Zero).As<ushort, T>();
        var d = Vector512.WidenLower(w);
        if (Unsafe.SizeOf<T>() == 4) return ~Vector512.Equals(d, Vector512<uint>.Zero).As<uint, T>();
        return ~Vector512.Equals(Vector512.WidenLower(d), Vector512<ulong>.Zero).As<ulong, T>();
    }
}
