using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Simd;

/// <summary>
/// The NaN a float32 algorithm returns for NaN operands: the first NaN operand, quieted (its sign and payload
/// kept, as x86 arithmetic and the Vulkan backend's functions return it). Left to the algorithm's arithmetic,
/// a NaN meeting another NaN (the input and one derived from it with its sign flipped, in erf_inv's p * x)
/// gives whichever operand the JIT placed first, and tiered compilation replaces a kernel's first code by
/// optimized code with other operand orders while the process runs: the same call then returned a NaN of
/// the other sign before and after the switch.
/// </summary>
internal static class NaNs
{
    /// <summary><paramref name="r"/>, or <paramref name="x"/> quieted where x is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Pass<V>(V x, V r) where V : struct, IVecF<V> => V.Select(V.Eq(x, x), r, x + x);

    /// <summary><paramref name="r"/>, or the first NaN of <paramref name="x"/>, <paramref name="y"/> quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Pass<V>(V x, V y, V r) where V : struct, IVecF<V> => Pass(x, Pass(y, r));
}

/// <summary>
/// For float max and min: the first NaN operand, quieted (as <see cref="NaNs"/> for the float32 functions). The
/// runtime's scalar float.Max returns the first NaN when it runs as written and another when the optimizing JIT
/// turns it into instructions, so the scalar tails' NaNs changed once a kernel was recompiled. Integers pass
/// through (the type tests are constants to the JIT).
/// </summary>
internal static class FirstNaN<T> where T : unmanaged, INumber<T>
{
    static bool IsFloat => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Pass(T x, T y, T r) => !IsFloat ? r : T.IsNaN(x) ? x + x : T.IsNaN(y) ? y + y : r;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Pass(Vector128<T> x, Vector128<T> y, Vector128<T> r) => !IsFloat ? r
        : Vector128.ConditionalSelect(Vector128.Equals(x, x),
            Vector128.ConditionalSelect(Vector128.Equals(y, y), r, y + y), x + x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Pass(Vector256<T> x, Vector256<T> y, Vector256<T> r) => !IsFloat ? r
        : Vector256.ConditionalSelect(Vector256.Equals(x, x),
            Vector256.ConditionalSelect(Vector256.Equals(y, y), r, y + y), x + x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Pass(Vector512<T> x, Vector512<T> y, Vector512<T> r) => !IsFloat ? r
        : Vector512.ConditionalSelect(Vector512.Equals(x, x),
            Vector512.ConditionalSelect(Vector512.Equals(y, y), r, y + y), x + x);
}
