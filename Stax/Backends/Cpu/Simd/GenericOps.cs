using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stax.Backends.Cpu.Simd;

// Operators that are one Vector API call for every element type that has them (float32,
// float64, int32, uint32, uint8, bool as bytes). Integer + - * wrap; max/min propagate NaN.

internal struct AddOp<T> : IAggregation<T> where T : unmanaged, INumberBase<T>
{
    public static T Identity => T.Zero;
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => unchecked(x + y);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}

internal struct SubOp<T> : IBinaryOp<T> where T : unmanaged, INumberBase<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => unchecked(x - y);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x - y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x - y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
}

internal struct MulOp<T> : IAggregation<T> where T : unmanaged, INumberBase<T>
{
    public static T Identity => T.One;
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => unchecked(x * y);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x * y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x * y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
}

internal struct MaxOp<T> : IAggregation<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.NegativeInfinity);
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => FirstNaN<T>.Pass(x, y, T.Max(x, y));
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => FirstNaN<T>.Pass(x, y, Vector128.Max(x, y));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => FirstNaN<T>.Pass(x, y, Vector256.Max(x, y));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => FirstNaN<T>.Pass(x, y, Vector512.Max(x, y));
}

internal struct MinOp<T> : IAggregation<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.PositiveInfinity);
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => FirstNaN<T>.Pass(x, y, T.Min(x, y));
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => FirstNaN<T>.Pass(x, y, Vector128.Min(x, y));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => FirstNaN<T>.Pass(x, y, Vector256.Min(x, y));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => FirstNaN<T>.Pass(x, y, Vector512.Min(x, y));
}

internal struct AndOp<T> : IBinaryOp<T> where T : unmanaged, IBitwiseOperators<T, T, T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => x & y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x & y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x & y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x & y;
}

internal struct OrOp<T> : IBinaryOp<T> where T : unmanaged, IBitwiseOperators<T, T, T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => x | y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x | y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x | y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x | y;
}

internal struct XorOp<T> : IBinaryOp<T> where T : unmanaged, IBitwiseOperators<T, T, T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T y) => x ^ y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x ^ y;
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x ^ y;
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x ^ y;
}

/// <summary>Bitwise not (integers).</summary>
internal struct NotOp<T> : IUnaryOp<T> where T : unmanaged, IBitwiseOperators<T, T, T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => ~x;
    public static Vector128<T> Invoke(Vector128<T> x) => ~x;
    public static Vector256<T> Invoke(Vector256<T> x) => ~x;
    public static Vector512<T> Invoke(Vector512<T> x) => ~x;
}

/// <summary>Logical not of bool bytes (0/1).</summary>
internal struct NotBoolOp : IUnaryOp<byte>
{
    public static bool Vectorizable => true;
    public static byte Invoke(byte x) => (byte)(x ^ 1);
    public static Vector128<byte> Invoke(Vector128<byte> x) => x ^ Vector128<byte>.One;
    public static Vector256<byte> Invoke(Vector256<byte> x) => x ^ Vector256<byte>.One;
    public static Vector512<byte> Invoke(Vector512<byte> x) => x ^ Vector512<byte>.One;
}

/// <summary>Integer negation, wrapping (INT_MIN stays INT_MIN; unsigned wraps modulo 2^n).</summary>
internal struct NegInt<T> : IUnaryOp<T> where T : unmanaged, INumberBase<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => unchecked(T.Zero - x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128<T>.Zero - x;
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.Zero - x;
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.Zero - x;
}

/// <summary>|x| for int32, wrapping (abs(INT_MIN) = INT_MIN).</summary>
internal struct AbsInt : IUnaryOp<int>
{
    public static bool Vectorizable => true;
    public static int Invoke(int x) => x < 0 ? unchecked(-x) : x;
    public static Vector128<int> Invoke(Vector128<int> x) => Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<int>.Zero), Vector128<int>.Zero - x, x);
    public static Vector256<int> Invoke(Vector256<int> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<int>.Zero), Vector256<int>.Zero - x, x);
    public static Vector512<int> Invoke(Vector512<int> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<int>.Zero), Vector512<int>.Zero - x, x);
}

/// <summary>The identity (abs of unsigned integers).</summary>
internal struct IdentityOp<T> : IUnaryOp<T> where T : unmanaged
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => x;
    public static Vector128<T> Invoke(Vector128<T> x) => x;
    public static Vector256<T> Invoke(Vector256<T> x) => x;
    public static Vector512<T> Invoke(Vector512<T> x) => x;
}

/// <summary>sign for integers: -1, 0 or 1 (unsigned: 0 or 1).</summary>
internal struct SignInt<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? unchecked(T.Zero - T.One) : T.Zero;
    public static Vector128<T> Invoke(Vector128<T> x) => (Vector128.GreaterThan(x, Vector128<T>.Zero) & Vector128<T>.One) | Vector128.LessThan(x, Vector128<T>.Zero);
    public static Vector256<T> Invoke(Vector256<T> x) => (Vector256.GreaterThan(x, Vector256<T>.Zero) & Vector256<T>.One) | Vector256.LessThan(x, Vector256<T>.Zero);
    public static Vector512<T> Invoke(Vector512<T> x) => (Vector512.GreaterThan(x, Vector512<T>.Zero) & Vector512<T>.One) | Vector512.LessThan(x, Vector512<T>.Zero);
}

// ---------------------------------------------------------------- comparisons

internal struct EqOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x == y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Equals(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Equals(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Equals(x, y);
}

internal struct NeOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x != y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => ~Vector128.Equals(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => ~Vector256.Equals(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => ~Vector512.Equals(x, y);
}

internal struct LtOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x < y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.LessThan(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.LessThan(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.LessThan(x, y);
}

internal struct LeOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x <= y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.LessThanOrEqual(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.LessThanOrEqual(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.LessThanOrEqual(x, y);
}

internal struct GtOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x > y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.GreaterThan(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThan(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThan(x, y);
}

internal struct GeOp<T> : IComparison<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x >= y;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.GreaterThanOrEqual(x, y);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThanOrEqual(x, y);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThanOrEqual(x, y);
}

// ---------------------------------------------------------------- integer division and shifts

internal struct DivI32 : IBinaryOp<int>
{
    public static int Invoke(int x, int y) => y == 0 ? -1 : (x == int.MinValue && y == -1) ? int.MinValue : x / y;
}
internal struct RemI32 : IBinaryOp<int>
{
    public static int Invoke(int x, int y) => y == 0 ? x : y == -1 ? 0 : x % y;
}
internal struct DivU32 : IBinaryOp<uint> { public static uint Invoke(uint x, uint y) => y == 0 ? uint.MaxValue : x / y; }
internal struct RemU32 : IBinaryOp<uint> { public static uint Invoke(uint x, uint y) => y == 0 ? x : x % y; }
internal struct DivU8 : IBinaryOp<byte> { public static byte Invoke(byte x, byte y) => y == 0 ? byte.MaxValue : (byte)(x / y); }
internal struct RemU8 : IBinaryOp<byte> { public static byte Invoke(byte x, byte y) => y == 0 ? x : (byte)(x % y); }

// Shifts act on the 32-bit pattern; a count outside [0, 32) gives 0 (logical) or the sign fill
// (arithmetic), which is exactly what the AVX2/AVX-512 variable shifts do with an unsigned count.
// Vectorizable says only that those instructions exist; the vector width is Config.Isa's, which
// the drivers and fused chains pass down (STAX_ISA=scalar runs the scalar form).

internal struct ShlI32 : IBinaryOp<int>
{
    public static bool Vectorizable => Avx2.IsSupported;
    public static int Invoke(int x, int y) => (uint)y >= 32 ? 0 : x << y;
    public static Vector128<int> Invoke(Vector128<int> x, Vector128<int> y) => Avx2.ShiftLeftLogicalVariable(x, y.AsUInt32());
    public static Vector256<int> Invoke(Vector256<int> x, Vector256<int> y) => Avx2.ShiftLeftLogicalVariable(x, y.AsUInt32());
    public static Vector512<int> Invoke(Vector512<int> x, Vector512<int> y) => Avx512F.ShiftLeftLogicalVariable(x, y.AsUInt32());
}
internal struct ShrLI32 : IBinaryOp<int>
{
    public static bool Vectorizable => Avx2.IsSupported;
    public static int Invoke(int x, int y) => (uint)y >= 32 ? 0 : (int)((uint)x >> y);
    public static Vector128<int> Invoke(Vector128<int> x, Vector128<int> y) => Avx2.ShiftRightLogicalVariable(x, y.AsUInt32());
    public static Vector256<int> Invoke(Vector256<int> x, Vector256<int> y) => Avx2.ShiftRightLogicalVariable(x, y.AsUInt32());
    public static Vector512<int> Invoke(Vector512<int> x, Vector512<int> y) => Avx512F.ShiftRightLogicalVariable(x, y.AsUInt32());
}
internal struct ShrAI32 : IBinaryOp<int>
{
    public static bool Vectorizable => Avx2.IsSupported;
    public static int Invoke(int x, int y) => x >> ((uint)y >= 32 ? 31 : y);
    public static Vector128<int> Invoke(Vector128<int> x, Vector128<int> y) => Avx2.ShiftRightArithmeticVariable(x, y.AsUInt32());
    public static Vector256<int> Invoke(Vector256<int> x, Vector256<int> y) => Avx2.ShiftRightArithmeticVariable(x, y.AsUInt32());
    public static Vector512<int> Invoke(Vector512<int> x, Vector512<int> y) => Avx512F.ShiftRightArithmeticVariable(x, y.AsUInt32());
}

internal struct ShlU8 : IBinaryOp<byte> { public static byte Invoke(byte x, byte y) => y >= 8 ? (byte)0 : (byte)(x << y); }
internal struct ShrLU8 : IBinaryOp<byte> { public static byte Invoke(byte x, byte y) => y >= 8 ? (byte)0 : (byte)(x >> y); }
internal struct ShrAU8 : IBinaryOp<byte> { public static byte Invoke(byte x, byte y) => (byte)((sbyte)x >> (y >= 8 ? 7 : y)); }
