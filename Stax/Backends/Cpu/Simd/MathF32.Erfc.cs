using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Simd;

internal static partial class MathF32
{
    // |x| with the low 12 significand bits cleared: its square is exact in float32.
    static readonly float High12 = BitConverter.Int32BitsToSingle(unchecked((int)0xFFFFF000));

    /// <summary>The Chebyshev fit shared by <see cref="Erf{V}"/> and <see cref="Erfc{V}"/>:
    /// erfc(a) = t·e^(p(t) - a²) with t = 1/(1 + a/2), relative error below 1.2e-7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V ErfcFit<V>(V t) where V : struct, IVecF<V>
    {
        var p = V.C(0.17087277f);
        p = p * t - V.C(0.82215223f);
        p = p * t + V.C(1.48851587f);
        p = p * t - V.C(1.13520398f);
        p = p * t + V.C(0.27886807f);
        p = p * t - V.C(0.18628806f);
        p = p * t + V.C(0.09678418f);
        p = p * t + V.C(0.37409196f);
        p = p * t + V.C(1.00002368f);
        p = p * t - V.C(1.26551223f);
        return p;
    }

    /// <summary>
    /// erfc(x) = 1 - erf(x) with relative accuracy in the tail (no cancellation): 1 - erf's series
    /// for |x| &lt; 0.5; beyond, erfc(|x|) = t·e^(p(t) - x²) with the same Chebyshev fit as
    /// <see cref="Erf{V}"/>, where e^(-x²) is split as e^(-h²)·e^(-(|x|-h)(|x|+h)) with h² exact, so
    /// the rounding of x² (up to 50 ulp of the result near x = 9) never reaches the result; negative
    /// x use erfc(x) = 2 - erfc(-x). The right tail's subnormal results round twice (one ulp of the
    /// smallest subnormal at most).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Erfc<V>(V x) where V : struct, IVecF<V>
    {
        var small = V.C(1f) - Erf(x);
        // Beyond 10.5 erfc is below half the smallest subnormal (and inf must not meet inf - inf).
        var a = V.Abs(x);
        a = V.Select(V.Gt(a, V.C(10.5f)), V.C(10.5f), a);
        var t = V.C(1f) / (V.C(1f) + V.C(0.5f) * a);
        var p = ErfcFit(t);
        var h = a & V.C(High12);
        var tail = (t * Exp(p - (a - h) * (a + h))) * Exp(-(h * h));
        var big = V.Select(V.SignBit(x), V.C(2f) - tail, tail);
        return V.Select(V.Lt(a, V.C(0.5f)), small, big);
    }
}
