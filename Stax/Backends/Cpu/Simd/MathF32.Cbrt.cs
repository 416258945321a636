using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Simd;

internal static partial class MathF32
{
    /// <summary>
    /// Cube root: |x| = m·2^e (subnormals scaled by 2^24 first), e = 3q + r, so cbrt|x| = 2^q·cbrt(z)
    /// with z = m·2^r in [1, 8); a linear first guess (1% off) and three Newton steps
    /// y ← y - (y - z/y²)/3 (the last one gains the final bits), then the exact scaling by 2^q.
    /// ±0, ±inf and NaN return themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Cbrt<V>(V x) where V : struct, IVecF<V>
    {
        var a = V.Abs(x);
        var sub = V.Lt(a, V.C(1.17549435e-38f));
        var s = V.Select(sub, a * V.C(16777216f), a);
        var e = V.Exponent(s) - (sub & V.C(24f));
        var m = V.Mantissa(s);
        // floor((e + 0.5) / 3) is exact: (e + 0.5)/3 is at least 1/6 away from an integer.
        var q = V.Floor((e + V.C(0.5f)) * V.C(0.333333343f));
        var r = e - V.C(3f) * q;
        var r1 = V.Eq(r, V.C(1f));
        var r2 = V.Eq(r, V.C(2f));
        var z = m * V.Select(r1, V.C(2f), V.Select(r2, V.C(4f), V.C(1f)));
        var y = (V.C(0.74f) + V.C(0.26f) * m) * V.Select(r1, V.C(1.25992105f), V.Select(r2, V.C(1.58740105f), V.C(1f)));
        y = y - (y - z / (y * y)) * V.C(0.333333343f);
        y = y - (y - z / (y * y)) * V.C(0.333333343f);
        y = y - (y - z / (y * y)) * V.C(0.333333343f);
        var res = CopySign(y * V.Pow2i(q), x);
        // ±0, ±inf and NaN (x == x is false) are their own cube roots.
        var self = V.Eq(a, V.C(0f)) | V.Eq(a, V.C(Inf)) | V.AndNot(V.C(AllBits), V.Eq(x, x));
        return V.Select(self, x, res);
    }
}
