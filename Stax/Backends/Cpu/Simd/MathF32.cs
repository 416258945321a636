using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Simd;

/// <summary>
/// float32 transcendental functions, each written once over <see cref="IVecF{V}"/> so the scalar
/// and every vector width run the same operations in the same order (no FMA): results are
/// bit-identical across ISA paths. Accuracy is a few ulp. Polynomials are the classic Cephes-style
/// minimax fits (exp, log, tanh, sin/cos, atan), a Taylor series and a Chebyshev-fitted erfc for erf,
/// and Giles' single-precision erf_inv (the one XLA uses).
/// </summary>
internal static partial class MathF32
{
    const float Inf = float.PositiveInfinity;
    static readonly float AllBits = BitConverter.Int32BitsToSingle(-1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Exp<V>(V x) where V : struct, IVecF<V>
    {
        // Clamp (NaN passes: comparisons with NaN are false) so 2^k stays representable in two steps.
        x = V.Select(V.Gt(x, V.C(89f)), V.C(89f), x);
        x = V.Select(V.Lt(x, V.C(-104.5f)), V.C(-104.5f), x);
        // k = round(x / ln2) via the 1.5*2^23 trick (exact for |k| < 2^22).
        var k = (x * V.C(1.44269504f) + V.C(12582912f)) - V.C(12582912f);
        var r = (x - k * V.C(0.693359375f)) - k * V.C(-2.12194440e-4f);
        var p = V.C(1.9875691500e-4f);
        p = p * r + V.C(1.3981999507e-3f);
        p = p * r + V.C(8.3334519073e-3f);
        p = p * r + V.C(4.1665795894e-2f);
        p = p * r + V.C(1.6666665459e-1f);
        p = p * r + V.C(5.0000001201e-1f);
        var y = (p * (r * r) + r) + V.C(1f);
        // Scale by 2^k in two steps so subnormal results round once and large ones overflow to inf.
        var k1 = V.Floor(k * V.C(0.5f));
        var k2 = k - k1;
        return y * V.Pow2i(k1) * V.Pow2i(k2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Log<V>(V x) where V : struct, IVecF<V>
    {
        var sub = V.Lt(x, V.C(1.17549435e-38f));            // subnormal (or <= 0, fixed below)
        var xs = V.Select(sub, x * V.C(8388608f), x);       // * 2^23
        var e = V.Exponent(xs) - (sub & V.C(23f));
        var m = V.Mantissa(xs);                              // [1, 2)
        var big = V.Gt(m, V.C(1.41421356f));
        m = V.Select(big, m * V.C(0.5f), m);
        e = e + (big & V.C(1f));
        var f = m - V.C(1f);                                 // [-0.293, 0.414]
        var z = f * f;
        var y = V.C(7.0376836292e-2f);
        y = y * f - V.C(1.1514610310e-1f);
        y = y * f + V.C(1.1676998740e-1f);
        y = y * f - V.C(1.2420140846e-1f);
        y = y * f + V.C(1.4249322787e-1f);
        y = y * f - V.C(1.6668057665e-1f);
        y = y * f + V.C(2.0000714765e-1f);
        y = y * f - V.C(2.4999993993e-1f);
        y = y * f + V.C(3.3333331174e-1f);
        y = y * f * z;
        y = y + e * V.C(-2.12194440e-4f);
        y = y - V.C(0.5f) * z;
        var r = f + y;
        r = r + e * V.C(0.693359375f);
        r = V.Select(V.Eq(x, V.C(Inf)), V.C(Inf), r);
        r = V.Select(V.Eq(x, V.C(0f)), V.C(-Inf), r);
        // x < 0 or NaN (x >= 0 is false for both).
        return V.Select(V.Ge(x, V.C(0f)), r, V.C(float.NaN));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Log1p<V>(V x) where V : struct, IVecF<V>
    {
        // log(u) * x / (u - 1) with u = 1 + x corrects the rounding of u (Goldberg).
        var u = x + V.C(1f);
        var d = u - V.C(1f);
        var r = Log(u) * (x / d);
        r = V.Select(V.Eq(d, V.C(0f)), x, r);
        return V.Select(V.Eq(u, V.C(Inf)), u, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Expm1<V>(V x) where V : struct, IVecF<V>
    {
        var q = V.C(2.75573192e-6f);
        q = q * x + V.C(2.48015873e-5f);
        q = q * x + V.C(1.98412698e-4f);
        q = q * x + V.C(1.38888889e-3f);
        q = q * x + V.C(8.33333333e-3f);
        q = q * x + V.C(4.16666667e-2f);
        q = q * x + V.C(1.66666667e-1f);
        q = q * x + V.C(0.5f);
        var small = q * (x * x) + x;
        var big = Exp(x) - V.C(1f);
        var r = V.Select(V.Lt(V.Abs(x), V.C(0.5f)), small, big);
        return V.Select(V.Eq(x, V.C(0f)), x, r);             // keeps -0
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Tanh<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var z = x * x;
        var s = V.C(-5.70498872745e-3f);
        s = s * z + V.C(2.06390887954e-2f);
        s = s * z - V.C(5.37397155531e-2f);
        s = s * z + V.C(1.33314422036e-1f);
        s = s * z - V.C(3.33332819422e-1f);
        var small = s * z * x + x;
        var e = Exp(a + a);
        var big = CopySign(V.C(1f) - V.C(2f) / (e + V.C(1f)), x);
        var r = V.Select(V.Lt(a, V.C(0.625f)), small, big);
        return V.Select(V.Eq(x, V.C(0f)), x, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Logistic<V>(V x) where V : struct, IVecF<V>
    {
        var t = Exp(-V.Abs(x));
        var d = V.C(1f) + t;
        return V.Select(V.Ge(x, V.C(0f)), V.C(1f) / d, t / d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V CopySign<V>(V mag, V sign) where V : struct, IVecF<V>
        => V.Abs(mag) | (sign & V.C(-0.0f));

    struct SinFallback : IScalarFn { public static float F(float x) => (float)Math.Sin(x); }
    struct CosFallback : IScalarFn { public static float F(float x) => (float)Math.Cos(x); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V SinCos<V, TF>(V x, float quadrantOffset) where V : struct, IVecF<V> where TF : IScalarFn
    {
        // k = nearest integer to x * 2/pi; r = x - k*pi/2 with pi/2 split in three (Cody-Waite).
        var k = (x * V.C(0.636619772f) + V.C(12582912f)) - V.C(12582912f);
        var r = ((x - k * V.C(1.5703125f)) - k * V.C(4.837512969970703125e-4f)) - k * V.C(7.54978995489188216e-8f);
        var z = r * r;
        var t = V.C(-1.9515295891e-4f);
        t = t * z + V.C(8.3321608736e-3f);
        t = t * z - V.C(1.6666654611e-1f);
        var s = t * z * r + r;
        var u = V.C(2.443315711809948e-5f);
        u = u * z - V.C(1.388731625493765e-3f);
        u = u * z + V.C(4.166664568298827e-2f);
        var c = (u * z * z - V.C(0.5f) * z) + V.C(1f);
        var q = k + V.C(quadrantOffset);
        q = q - V.C(4f) * V.Floor(q * V.C(0.25f));        // 0..3
        var useCos = V.Eq(q, V.C(1f)) | V.Eq(q, V.C(3f));
        var res = V.Select(useCos, c, s);
        res = V.Select(V.Ge(q, V.C(2f)), -res, res);
        // Large |x|, inf and NaN: exact double fallback lane by lane (same on every path).
        var bad = V.AndNot(V.C(AllBits), V.Le(V.Abs(x), V.C(8192f)));
        return V.Any(bad) ? V.Patch<TF>(bad, x, res) : res;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Sin<V>(V x) where V : struct, IVecF<V>
    {
        var r = SinCos<V, SinFallback>(x, 0f);
        return V.Select(V.Eq(x, V.C(0f)), x, r);             // keeps -0
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Cos<V>(V x) where V : struct, IVecF<V> => SinCos<V, CosFallback>(x, 1f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Erf<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        // |x| < 0.75: Taylor series 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)).
        var z = x * x;
        var s = V.C(-1.0892221e-9f);        // -1/918086400
        s = s * z + V.C(1.3122532e-8f);     // 1/76204800
        s = s * z - V.C(1.4503853e-7f);     // -1/6894720
        s = s * z + V.C(1.4589169e-6f);     // 1/685440
        s = s * z - V.C(1.3227513e-5f);     // -1/75600
        s = s * z + V.C(1.0683761e-4f);     // 1/9360
        s = s * z - V.C(7.5757576e-4f);     // -1/1320
        s = s * z + V.C(4.6296296e-3f);     // 1/216
        s = s * z - V.C(2.3809524e-2f);     // -1/42
        s = s * z + V.C(0.1f);
        s = s * z - V.C(0.33333333f);
        s = s * z + V.C(1f);
        var small = x * (s * V.C(1.12837917f));
        // Otherwise 1 - erfc(|x|), erfc by a Chebyshev fit with relative error below 1.2e-7.
        var t = V.C(1f) / (V.C(1f) + V.C(0.5f) * a);
        var p = ErfcFit(t);
        var erfc = t * Exp(p - a * a);
        var big = CopySign(V.C(1f) - erfc, x);
        return V.Select(V.Lt(a, V.C(0.75f)), small, big);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V ErfInv<V>(V x) where V : struct, IVecF<V>
    {
        // Giles, "Approximating the erfinv function" (single precision), in XLA's order:
        // w = -log1p(-x*x); one Horner loop over the branch's coefficients (w < 5: w - 2.5,
        // else sqrt(w) - 3), each step c + p*w a fused multiply-add as XLA:CPU compiles it; p*x.
        static V Fma(V a, V b, V c)
        {
            if (typeof(V) == typeof(F16))
                { var f = new F16(System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Unsafe.As<V, F16>(ref a).V, Unsafe.As<V, F16>(ref b).V, Unsafe.As<V, F16>(ref c).V)); return Unsafe.As<F16, V>(ref f); }
            if (typeof(V) == typeof(F8))
                { var f = new F8(System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(Unsafe.As<V, F8>(ref a).V, Unsafe.As<V, F8>(ref b).V, Unsafe.As<V, F8>(ref c).V)); return Unsafe.As<F8, V>(ref f); }
            if (typeof(V) == typeof(F4))
                { var f = new F4(System.Runtime.Intrinsics.Vector128.FusedMultiplyAdd(Unsafe.As<V, F4>(ref a).V, Unsafe.As<V, F4>(ref b).V, Unsafe.As<V, F4>(ref c).V)); return Unsafe.As<F4, V>(ref f); }
            if (typeof(V) == typeof(F1))
                { var f = new F1(MathF.FusedMultiplyAdd(Unsafe.As<V, F1>(ref a).V, Unsafe.As<V, F1>(ref b).V, Unsafe.As<V, F1>(ref c).V)); return Unsafe.As<F1, V>(ref f); }
            throw new NotSupportedException($"ErfInv: no fused multiply-add for {typeof(V).Name}");
        }
        ReadOnlySpan<float> lo = [2.81022636e-08f, 3.43273939e-07f, -3.5233877e-06f, -4.39150654e-06f, 0.00021858087f,
            -0.00125372503f, -0.00417768164f, 0.246640727f, 1.50140941f];
        ReadOnlySpan<float> hi = [-0.000200214257f, 0.000100950558f, 0.00134934322f, -0.00367342844f, 0.00573950773f,
            -0.0076224613f, 0.00943887047f, 1.00167406f, 2.83297682f];
        var w = -Log1p(-(x * x));
        var lt = V.Lt(w, V.C(5f));
        var ww = V.Select(lt, w - V.C(2.5f), V.Sqrt(w) - V.C(3f));
        var p = V.Select(lt, V.C(lo[0]), V.C(hi[0]));
        for (int i = 1; i < 9; i++)
            p = Fma(p, ww, V.Select(lt, V.C(lo[i]), V.C(hi[i])));
        var r = p * x;
        return V.Select(V.Eq(V.Abs(x), V.C(1f)), x * V.C(Inf), r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Atan2<V>(V num, V den) where V : struct, IVecF<V>
    {
        var a = V.Abs(num);
        var b = V.Abs(den);
        var gt = V.Gt(a, b);
        var t = V.Select(gt, b / a, a / b);                  // in [0, 1] (NaN for NaN input)
        t = V.Select(V.Eq(a, V.C(0f)) & V.Eq(b, V.C(0f)), V.C(0f), t);
        t = V.Select(V.Eq(a, V.C(Inf)) & V.Eq(b, V.C(Inf)), V.C(1f), t);
        // atan(t), t in [0, 1]: reduce t > tan(pi/8) with atan(t) = pi/4 + atan((t-1)/(t+1)).
        var red = V.Gt(t, V.C(0.414213562f));
        var tt = V.Select(red, (t - V.C(1f)) / (t + V.C(1f)), t);
        var z = tt * tt;
        var p = V.C(8.05374449538e-2f);
        p = p * z - V.C(1.38776856032e-1f);
        p = p * z + V.C(1.99777106478e-1f);
        p = p * z - V.C(3.33329491539e-1f);
        var r = (red & V.C(0.785398163f)) + (p * z * tt + tt);
        r = V.Select(gt, V.C(1.57079633f) - r, r);
        r = V.Select(V.SignBit(den), V.C(3.14159265f) - r, r);
        return CopySign(r, num);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V RoundAway<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var f = V.Floor(a);
        f = f + (V.Ge(a - f, V.C(0.5f)) & V.C(1f));
        return CopySign(f, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Sign<V>(V x) where V : struct, IVecF<V>
        => V.Select(V.Gt(x, V.C(0f)), V.C(1f), V.Select(V.Lt(x, V.C(0f)), V.C(-1f), x));
}
