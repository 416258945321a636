using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Simd;

// tan, the inverse trigonometric and the hyperbolic functions, built from the exp/log1p/atan2/sin/cos
// kernels above in forms without cancellation; shaders/math.glsl mirrors each step.
internal static partial class MathF32
{
    const float Ln2 = 0.693147181f;

    /// <summary>tan = sin / cos (both reduced the same way; a few ulp, exact signs of zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Tan<V>(V x) where V : struct, IVecF<V> => Sin(x) / Cos(x);

    /// <summary>atan(x) = atan2(x, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Atan<V>(V x) where V : struct, IVecF<V> => Atan2(x, V.C(1f));

    /// <summary>asin(x) = atan2(x, sqrt((1 - x)(1 + x))); NaN outside [-1, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Asin<V>(V x) where V : struct, IVecF<V> => Atan2(x, V.Sqrt((V.C(1f) - x) * (V.C(1f) + x)));

    /// <summary>acos(x) = atan2(sqrt((1 - x)(1 + x)), x): 0 at 1, pi at -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Acos<V>(V x) where V : struct, IVecF<V> => Atan2(V.Sqrt((V.C(1f) - x) * (V.C(1f) + x)), x);

    /// <summary>sinh: an odd polynomial below 1 (Cephes), else s - 1/(4s) with s = e^|x|/2 computed as (e^(|x|/2)/2)·e^(|x|/2), so it overflows only where sinh does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Sinh<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var z = x * x;
        var small = ((V.C(2.03721912945e-4f) * z + V.C(8.33028376239e-3f)) * z + V.C(1.66667160211e-1f)) * z * x + x;
        var e = Exp(a * V.C(0.5f));
        var s = (e * V.C(0.5f)) * e;
        var big = CopySign(s - V.C(0.25f) / s, x);
        return V.Select(V.Lt(a, V.C(1f)), small, big);
    }

    /// <summary>cosh = s + 1/(4s) with s = e^|x|/2 as in <see cref="Sinh{V}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Cosh<V>(V x) where V : struct, IVecF<V>
    {
        var e = Exp(V.Abs(x) * V.C(0.5f));
        var s = (e * V.C(0.5f)) * e;
        return s + V.C(0.25f) / s;
    }

    /// <summary>asinh(x) = sign(x) log1p(a + a²/(1 + sqrt(1 + a²))), a = |x|; log(a) + ln 2 beyond 2^12.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Asinh<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var a2 = a * a;
        var mid = Log1p(a + a2 / (V.C(1f) + V.Sqrt(V.C(1f) + a2)));
        var big = Log(a) + V.C(Ln2);
        return CopySign(V.Select(V.Gt(a, V.C(4096f)), big, mid), x);
    }

    /// <summary>acosh(x) = log1p(t + sqrt(t (t + 2))), t = x - 1; log(x) + ln 2 beyond 2^12; NaN below 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Acosh<V>(V x) where V : struct, IVecF<V>
    {
        var t = x - V.C(1f);
        var mid = Log1p(t + V.Sqrt(t * (t + V.C(2f))));
        var big = Log(x) + V.C(Ln2);
        var r = V.Select(V.Gt(x, V.C(4096f)), big, mid);
        return V.Select(V.Lt(x, V.C(1f)), V.C(float.NaN), r);
    }

    /// <summary>atanh(x) = sign(x) log1p(2a / (1 - a)) / 2, a = |x|: ±inf at ±1, NaN beyond.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Atanh<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var r = Log1p((a + a) / (V.C(1f) - a)) * V.C(0.5f);
        return CopySign(r, x);
    }
}
