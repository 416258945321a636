using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Simd;

/// <summary>A float32 algorithm written once over <see cref="IVecF{V}"/>.</summary>
internal interface IFloatAlgo1
{
    static abstract V Run<V>(V x) where V : struct, IVecF<V>;
    /// <summary>True for operations on the sign bit alone (neg, abs), which change a NaN's sign by definition;
    /// every other algorithm returns a NaN input as that NaN, quieted (<see cref="NaNs"/>).</summary>
    static virtual bool SignBitOnly => false;
}
/// <summary>A binary float32 algorithm written once over <see cref="IVecF{V}"/>.</summary>
internal interface IFloatAlgo2 { static abstract V Run<V>(V x, V y) where V : struct, IVecF<V>; }

/// <summary>Turns an <see cref="IFloatAlgo1"/> into a float32 unary operator (all widths share the algorithm).</summary>
internal readonly struct VecUnary<TA> : IUnaryOp<float> where TA : IFloatAlgo1
{
    const MethodImplOptions Inline = MethodImplOptions.AggressiveInlining;
    public static bool Vectorizable => true;
    [MethodImpl(Inline)] public static float Invoke(float x) => Run(new F1(x)).V;
    [MethodImpl(Inline)] public static Vector128<float> Invoke(Vector128<float> x) => Run(new F4(x)).V;
    [MethodImpl(Inline)] public static Vector256<float> Invoke(Vector256<float> x) => Run(new F8(x)).V;
    [MethodImpl(Inline)] public static Vector512<float> Invoke(Vector512<float> x) => Run(new F16(x)).V;

    [MethodImpl(Inline)]
    static V Run<V>(V x) where V : struct, IVecF<V> => TA.SignBitOnly ? TA.Run(x) : NaNs.Pass(x, TA.Run(x));
}

/// <summary>Turns an <see cref="IFloatAlgo2"/> into a float32 binary operator.</summary>
internal readonly struct VecBinary<TA> : IBinaryOp<float> where TA : IFloatAlgo2
{
    const MethodImplOptions Inline = MethodImplOptions.AggressiveInlining;
    public static bool Vectorizable => true;
    [MethodImpl(Inline)] public static float Invoke(float x, float y) => Run(new F1(x), new F1(y)).V;
    [MethodImpl(Inline)]
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => Run(new F4(x), new F4(y)).V;
    [MethodImpl(Inline)]
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Run(new F8(x), new F8(y)).V;
    [MethodImpl(Inline)]
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Run(new F16(x), new F16(y)).V;

    [MethodImpl(Inline)]
    static V Run<V>(V x, V y) where V : struct, IVecF<V> => NaNs.Pass(x, y, TA.Run(x, y));
}

internal struct ExpAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Exp(x); }
internal struct LogAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Log(x); }
internal struct Log1pAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Log1p(x); }
internal struct Expm1Algo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Expm1(x); }
internal struct TanhAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Tanh(x); }
internal struct LogisticAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Logistic(x); }
internal struct SinAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Sin(x); }
internal struct CosAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Cos(x); }
internal struct ErfAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Erf(x); }
internal struct ErfcAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Erfc(x); }
internal struct ErfInvAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.ErfInv(x); }
internal struct SqrtAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.Sqrt(x); }
internal struct RsqrtAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.C(1f) / V.Sqrt(x); }
internal struct NegAlgo : IFloatAlgo1
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => -x;
    public static bool SignBitOnly => true;
}
internal struct AbsAlgo : IFloatAlgo1
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.Abs(x);
    public static bool SignBitOnly => true;
}
internal struct SignAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Sign(x); }
internal struct FloorAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.Floor(x); }
internal struct CeilAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.Ceil(x); }
internal struct RoundEvenAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => V.RoundEven(x); }
internal struct RoundAwayAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.RoundAway(x); }
internal struct TanAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Tan(x); }
internal struct AtanAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Atan(x); }
internal struct AsinAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Asin(x); }
internal struct AcosAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Acos(x); }
internal struct SinhAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Sinh(x); }
internal struct CoshAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Cosh(x); }
internal struct AsinhAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Asinh(x); }
internal struct AcoshAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Acosh(x); }
internal struct AtanhAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Atanh(x); }
internal struct CbrtAlgo : IFloatAlgo1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x) where V : struct, IVecF<V> => MathF32.Cbrt(x); }
internal struct Atan2Algo : IFloatAlgo2 { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V Run<V>(V x, V y) where V : struct, IVecF<V> => MathF32.Atan2(x, y); }

/// <summary>pow for float32: computed per element in double and rounded once (correctly rounded in
/// practice, identical on every path; a float-only polynomial pow loses ~|y log x| ulp).</summary>
internal struct PowF : IBinaryOp<float> { public static float Invoke(float x, float y) => (float)Math.Pow(x, y); }
/// <summary>fmod for float32 (exact).</summary>
internal struct RemF : IBinaryOp<float> { public static float Invoke(float x, float y) => x % y; }

// ---------------------------------------------------------------- float64

internal struct ExpD : IUnaryOp<double> { public static double Invoke(double x) => Math.Exp(x); }
internal struct LogD : IUnaryOp<double> { public static double Invoke(double x) => Math.Log(x); }
internal struct Log1pD : IUnaryOp<double> { public static double Invoke(double x) => MathF64.Log1p(x); }
internal struct Expm1D : IUnaryOp<double> { public static double Invoke(double x) => MathF64.Expm1(x); }
internal struct TanhD : IUnaryOp<double> { public static double Invoke(double x) => Math.Tanh(x); }
internal struct LogisticD : IUnaryOp<double> { public static double Invoke(double x) => MathF64.Logistic(x); }
internal struct SinD : IUnaryOp<double> { public static double Invoke(double x) => Math.Sin(x); }
internal struct CosD : IUnaryOp<double> { public static double Invoke(double x) => Math.Cos(x); }
internal struct ErfD : IUnaryOp<double> { public static double Invoke(double x) => MathF64.Erf(x); }
internal struct ErfcD : IUnaryOp<double> { public static double Invoke(double x) => MathF64.Erfc(x); }
internal struct ErfInvD : IUnaryOp<double> { public static double Invoke(double x) => MathF64.ErfInv(x); }
internal struct RoundAwayD : IUnaryOp<double> { public static double Invoke(double x) => Math.Round(x, MidpointRounding.AwayFromZero); }
internal struct SignD : IUnaryOp<double> { public static double Invoke(double x) => x > 0 ? 1 : x < 0 ? -1 : x; }
internal struct TanD : IUnaryOp<double> { public static double Invoke(double x) => Math.Tan(x); }
internal struct AtanD : IUnaryOp<double> { public static double Invoke(double x) => Math.Atan(x); }
internal struct AsinD : IUnaryOp<double> { public static double Invoke(double x) => Math.Asin(x); }
internal struct AcosD : IUnaryOp<double> { public static double Invoke(double x) => Math.Acos(x); }
internal struct SinhD : IUnaryOp<double> { public static double Invoke(double x) => Math.Sinh(x); }
internal struct CoshD : IUnaryOp<double> { public static double Invoke(double x) => Math.Cosh(x); }
internal struct AsinhD : IUnaryOp<double> { public static double Invoke(double x) => Math.Asinh(x); }
internal struct AcoshD : IUnaryOp<double> { public static double Invoke(double x) => Math.Acosh(x); }
internal struct AtanhD : IUnaryOp<double> { public static double Invoke(double x) => Math.Atanh(x); }
internal struct CbrtD : IUnaryOp<double> { public static double Invoke(double x) => Math.Cbrt(x); }
/// <summary>nextafter for float32: one step of the bit pattern toward y; y where x == y; a NaN operand, quieted.</summary>
internal struct NextAfterF : IBinaryOp<float>
{
    public static float Invoke(float x, float y)
    {
        if (float.IsNaN(x) || float.IsNaN(y))
            return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(float.IsNaN(x) ? x : y) | 0x0040_0000);
        if (x == y) return y;
        return x < y ? MathF.BitIncrement(x) : MathF.BitDecrement(x);
    }
}
internal struct NextAfterD : IBinaryOp<double>
{
    public static double Invoke(double x, double y)
    {
        if (double.IsNaN(x) || double.IsNaN(y))
            return BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(double.IsNaN(x) ? x : y) | 0x0008_0000_0000_0000);
        if (x == y) return y;
        return x < y ? Math.BitIncrement(x) : Math.BitDecrement(x);
    }
}
internal struct PowD : IBinaryOp<double> { public static double Invoke(double x, double y) => Math.Pow(x, y); }
internal struct RemD : IBinaryOp<double> { public static double Invoke(double x, double y) => x % y; }
internal struct Atan2D : IBinaryOp<double> { public static double Invoke(double x, double y) => Math.Atan2(x, y); }

internal struct NegD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => -x;
    public static Vector128<double> Invoke(Vector128<double> x) => x ^ Vector128.Create(-0.0);
    public static Vector256<double> Invoke(Vector256<double> x) => x ^ Vector256.Create(-0.0);
    public static Vector512<double> Invoke(Vector512<double> x) => x ^ Vector512.Create(-0.0);
}
internal struct AbsD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => Math.Abs(x);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128.AndNot(x, Vector128.Create(-0.0));
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256.AndNot(x, Vector256.Create(-0.0));
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512.AndNot(x, Vector512.Create(-0.0));
}
internal struct SqrtD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => Math.Sqrt(x);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128.Sqrt(x);
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256.Sqrt(x);
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512.Sqrt(x);
}
internal struct RsqrtD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => 1.0 / Math.Sqrt(x);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128<double>.One / Vector128.Sqrt(x);
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256<double>.One / Vector256.Sqrt(x);
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512<double>.One / Vector512.Sqrt(x);
}
internal struct FloorD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => Math.Floor(x);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128.Floor(x);
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256.Floor(x);
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512.Floor(x);
}
internal struct CeilD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => Math.Ceiling(x);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128.Ceiling(x);
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256.Ceiling(x);
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512.Ceiling(x);
}
internal struct RoundEvenD : IUnaryOp<double>
{
    public static bool Vectorizable => true;
    public static double Invoke(double x) => Math.Round(x, MidpointRounding.ToEven);
    public static Vector128<double> Invoke(Vector128<double> x) => Vector128.Round(x);
    public static Vector256<double> Invoke(Vector256<double> x) => Vector256.Round(x);
    public static Vector512<double> Invoke(Vector512<double> x) => Vector512.Round(x);
}

/// <summary>x / y for float32 and float64 (IEEE division).</summary>
internal struct DivF<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => x / y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x / y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x / y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x / y;
}

/// <summary>is_finite: |x| &lt; inf (false for NaN).</summary>
internal struct IsFiniteOp<T> : IUnaryPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T x) => T.IsFinite(x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.LessThan(Vector128.Abs(x), Vector128.Create(T.PositiveInfinity));
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.LessThan(Vector256.Abs(x), Vector256.Create(T.PositiveInfinity));
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.LessThan(Vector512.Abs(x), Vector512.Create(T.PositiveInfinity));
}
