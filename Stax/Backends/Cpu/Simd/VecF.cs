using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Simd;

/// <summary>A scalar float function used to patch rare lanes (same function on every path).</summary>
internal interface IScalarFn
{
    static abstract float F(float x);
}

/// <summary>
/// The float32 operations the transcendental algorithms (MathF32) are written in, implemented for a
/// scalar (<see cref="F1"/>) and for 128/256/512-bit vectors. Every operation is exact IEEE single
/// arithmetic or pure bit manipulation, and there is no fused multiply-add anywhere, so one
/// algorithm gives bit-identical results at every width. Masks are all-ones / all-zeros lanes.
/// </summary>
internal interface IVecF<V> where V : struct, IVecF<V>
{
    static abstract V C(float c);
    static abstract V operator +(V a, V b);
    static abstract V operator -(V a, V b);
    static abstract V operator *(V a, V b);
    static abstract V operator /(V a, V b);
    static abstract V operator -(V a);
    static abstract V operator &(V a, V b);
    static abstract V operator |(V a, V b);
    static abstract V AndNot(V a, V b); // a & ~b
    static abstract V Select(V mask, V a, V b);
    static abstract V Eq(V a, V b);
    static abstract V Lt(V a, V b);
    static abstract V Le(V a, V b);
    static abstract V Gt(V a, V b);
    static abstract V Ge(V a, V b);
    static abstract V Abs(V a);
    static abstract V Floor(V a);
    static abstract V Ceil(V a);
    static abstract V RoundEven(V a);
    static abstract V Sqrt(V a);
    /// <summary>Mask of lanes whose sign bit is set (-0 and negative NaN included).</summary>
    static abstract V SignBit(V a);
    /// <summary>2^k for integral k in [-126, 127].</summary>
    static abstract V Pow2i(V k);
    /// <summary>Unbiased exponent field of a positive normal float, as a float.</summary>
    static abstract V Exponent(V a);
    /// <summary>The significand of a positive normal float, scaled into [1, 2).</summary>
    static abstract V Mantissa(V a);
    static abstract bool Any(V mask);
    /// <summary>Lanes of <paramref name="mask"/> get TF.F(x); others keep r.</summary>
    static abstract V Patch<TF>(V mask, V x, V r) where TF : IScalarFn;
}

internal readonly struct F1(float v) : IVecF<F1>
{
    public readonly float V = v;
    const uint SignMask = 0x8000_0000;
    static uint B(float f) => BitConverter.SingleToUInt32Bits(f);
    static float F(uint u) => BitConverter.UInt32BitsToSingle(u);
    static F1 M(bool b) => new(F(b ? 0xFFFF_FFFF : 0));

    public static F1 C(float c) => new(c);
    public static F1 operator +(F1 a, F1 b) => new(a.V + b.V);
    public static F1 operator -(F1 a, F1 b) => new(a.V - b.V);
    public static F1 operator *(F1 a, F1 b) => new(a.V * b.V);
    public static F1 operator /(F1 a, F1 b) => new(a.V / b.V);
    public static F1 operator -(F1 a) => new(F(B(a.V) ^ SignMask));
    public static F1 operator &(F1 a, F1 b) => new(F(B(a.V) & B(b.V)));
    public static F1 operator |(F1 a, F1 b) => new(F(B(a.V) | B(b.V)));
    public static F1 AndNot(F1 a, F1 b) => new(F(B(a.V) & ~B(b.V)));
    public static F1 Select(F1 m, F1 a, F1 b) => new(F((B(a.V) & B(m.V)) | (B(b.V) & ~B(m.V))));
    public static F1 Eq(F1 a, F1 b) => M(a.V == b.V);
    public static F1 Lt(F1 a, F1 b) => M(a.V < b.V);
    public static F1 Le(F1 a, F1 b) => M(a.V <= b.V);
    public static F1 Gt(F1 a, F1 b) => M(a.V > b.V);
    public static F1 Ge(F1 a, F1 b) => M(a.V >= b.V);
    public static F1 Abs(F1 a) => new(F(B(a.V) & ~SignMask));
    public static F1 Floor(F1 a) => new(MathF.Floor(a.V));
    public static F1 Ceil(F1 a) => new(MathF.Ceiling(a.V));
    public static F1 RoundEven(F1 a) => new(MathF.Round(a.V, MidpointRounding.ToEven));
    public static F1 Sqrt(F1 a) => new(MathF.Sqrt(a.V));
    public static F1 SignBit(F1 a) => M((B(a.V) & SignMask) != 0);
    public static F1 Pow2i(F1 k) => new(F((uint)((int)k.V + 127) << 23));
    public static F1 Exponent(F1 a) => new((int)((B(a.V) >> 23) & 0xFF) - 127);
    public static F1 Mantissa(F1 a) => new(F((B(a.V) & 0x007F_FFFF) | 0x3F80_0000));
    public static bool Any(F1 m) => B(m.V) != 0;
    public static F1 Patch<TF>(F1 m, F1 x, F1 r) where TF : IScalarFn => B(m.V) != 0 ? new(TF.F(x.V)) : r;
}

internal readonly struct F4(Vector128<float> v) : IVecF<F4>
{
    public readonly Vector128<float> V = v;
    static Vector128<float> SignMask => Vector128.Create(-0.0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 C(float c) => new(Vector128.Create(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator +(F4 a, F4 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator -(F4 a, F4 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator *(F4 a, F4 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator /(F4 a, F4 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator -(F4 a) => new(a.V ^ SignMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator &(F4 a, F4 b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 operator |(F4 a, F4 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 AndNot(F4 a, F4 b) => new(Vector128.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Select(F4 m, F4 a, F4 b) => new(Vector128.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Eq(F4 a, F4 b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Lt(F4 a, F4 b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Le(F4 a, F4 b) => new(Vector128.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Gt(F4 a, F4 b) => new(Vector128.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Ge(F4 a, F4 b) => new(Vector128.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Abs(F4 a) => new(Vector128.AndNot(a.V, SignMask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Floor(F4 a) => new(Vector128.Floor(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Ceil(F4 a) => new(Vector128.Ceiling(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 RoundEven(F4 a) => new(Vector128.Round(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Sqrt(F4 a) => new(Vector128.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 SignBit(F4 a) => new(Vector128.ShiftRightArithmetic(a.V.AsInt32(), 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Pow2i(F4 k) => new(Vector128.ShiftLeft(Vector128.ConvertToInt32(k.V) + Vector128.Create(127), 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Exponent(F4 a) => new(Vector128.ConvertToSingle((Vector128.ShiftRightLogical(a.V.AsInt32(), 23) & Vector128.Create(0xFF)) - Vector128.Create(127)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F4 Mantissa(F4 a) => new(((a.V.AsInt32() & Vector128.Create(0x007F_FFFF)) | Vector128.Create(0x3F80_0000)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(F4 m) => m.V.AsInt32() != Vector128<int>.Zero;
    public static F4 Patch<TF>(F4 m, F4 x, F4 r) where TF : IScalarFn
    {
        var v = r.V;
        for (int i = 0; i < Vector128<float>.Count; i++)
            if (m.V.AsInt32().GetElement(i) != 0) v = v.WithElement(i, TF.F(x.V.GetElement(i)));
        return new(v);
    }
}

internal readonly struct F8(Vector256<float> v) : IVecF<F8>
{
    public readonly Vector256<float> V = v;
    static Vector256<float> SignMask => Vector256.Create(-0.0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 C(float c) => new(Vector256.Create(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator +(F8 a, F8 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator -(F8 a, F8 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator *(F8 a, F8 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator /(F8 a, F8 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator -(F8 a) => new(a.V ^ SignMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator &(F8 a, F8 b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator |(F8 a, F8 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 AndNot(F8 a, F8 b) => new(Vector256.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Select(F8 m, F8 a, F8 b) => new(Vector256.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Eq(F8 a, F8 b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Lt(F8 a, F8 b) => new(Vector256.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Le(F8 a, F8 b) => new(Vector256.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Gt(F8 a, F8 b) => new(Vector256.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Ge(F8 a, F8 b) => new(Vector256.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Abs(F8 a) => new(Vector256.AndNot(a.V, SignMask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Floor(F8 a) => new(Vector256.Floor(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Ceil(F8 a) => new(Vector256.Ceiling(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 RoundEven(F8 a) => new(Vector256.Round(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Sqrt(F8 a) => new(Vector256.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 SignBit(F8 a) => new(Vector256.ShiftRightArithmetic(a.V.AsInt32(), 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Pow2i(F8 k) => new(Vector256.ShiftLeft(Vector256.ConvertToInt32(k.V) + Vector256.Create(127), 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Exponent(F8 a) => new(Vector256.ConvertToSingle((Vector256.ShiftRightLogical(a.V.AsInt32(), 23) & Vector256.Create(0xFF)) - Vector256.Create(127)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Mantissa(F8 a) => new(((a.V.AsInt32() & Vector256.Create(0x007F_FFFF)) | Vector256.Create(0x3F80_0000)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(F8 m) => m.V.AsInt32() != Vector256<int>.Zero;
    public static F8 Patch<TF>(F8 m, F8 x, F8 r) where TF : IScalarFn
    {
        var v = r.V;
        for (int i = 0; i < Vector256<float>.Count; i++)
            if (m.V.AsInt32().GetElement(i) != 0) v = v.WithElement(i, TF.F(x.V.GetElement(i)));
        return new(v);
    }
}

internal readonly struct F16(Vector512<float> v) : IVecF<F16>
{
    public readonly Vector512<float> V = v;
    static Vector512<float> SignMask => Vector512.Create(-0.0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 C(float c) => new(Vector512.Create(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator +(F16 a, F16 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator -(F16 a, F16 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator *(F16 a, F16 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator /(F16 a, F16 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator -(F16 a) => new(a.V ^ SignMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator &(F16 a, F16 b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator |(F16 a, F16 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 AndNot(F16 a, F16 b) => new(Vector512.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Select(F16 m, F16 a, F16 b) => new(Vector512.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Eq(F16 a, F16 b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Lt(F16 a, F16 b) => new(Vector512.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Le(F16 a, F16 b) => new(Vector512.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Gt(F16 a, F16 b) => new(Vector512.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Ge(F16 a, F16 b) => new(Vector512.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Abs(F16 a) => new(Vector512.AndNot(a.V, SignMask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Floor(F16 a) => new(Vector512.Floor(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Ceil(F16 a) => new(Vector512.Ceiling(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 RoundEven(F16 a) => new(Vector512.Round(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Sqrt(F16 a) => new(Vector512.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 SignBit(F16 a) => new(Vector512.ShiftRightArithmetic(a.V.AsInt32(), 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Pow2i(F16 k) => new(Vector512.ShiftLeft(Vector512.ConvertToInt32(k.V) + Vector512.Create(127), 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Exponent(F16 a) => new(Vector512.ConvertToSingle((Vector512.ShiftRightLogical(a.V.AsInt32(), 23) & Vector512.Create(0xFF)) - Vector512.Create(127)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Mantissa(F16 a) => new(((a.V.AsInt32() & Vector512.Create(0x007F_FFFF)) | Vector512.Create(0x3F80_0000)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(F16 m) => m.V.AsInt32() != Vector512<int>.Zero;
    public static F16 Patch<TF>(F16 m, F16 x, F16 r) where TF : IScalarFn
    {
        var v = r.V;
        for (int i = 0; i < Vector512<float>.Count; i++)
            if (m.V.AsInt32().GetElement(i) != 0) v = v.WithElement(i, TF.F(x.V.GetElement(i)));
        return new(v);
    }
}
