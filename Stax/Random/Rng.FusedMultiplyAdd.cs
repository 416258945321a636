namespace Stax;

public static partial class Rng
{
    // XLA:CPU compiles with LLVM's FP-op fusion enabled, so JAX's `floats * (maxval - minval) + minval`
    // runs as one fused multiply-add (a single rounding). Stax has no FMA primitive, so the float32
    // path below composes a correctly rounded a·b + c from IEEE float32 operations that every
    // backend performs exactly as written (Boldo and Melquiond's emulation: an exact product, an
    // exact sum, one addition rounded to odd, one final rounding to nearest).

    /// <summary>
    /// a·b + c rounded once, as JAX's compiled multiply-add. float32 operands of one shape; other
    /// dtypes (and float32 where plain arithmetic is provably already exact, see
    /// <see cref="PlainMulAddIsFused"/>) use a multiply and an add.
    /// </summary>
    static Tensor MulAdd(Tensor a, Tensor b, Tensor c, bool plainIsExact)
    {
        if (a.DType != DType.Float32 || plainIsExact) return Lax.Add(Lax.Mul(a, b), c);
        return FusedMulAddF32(a, b, c);
    }

    /// <summary>
    /// True when u·(hi - lo) + lo with u in [0, 1) on 23 mantissa bits needs no fusion: bounds are
    /// concrete and, for every element, lo is zero (one rounding: the product) or the float32 span
    /// is a power of two or zero (the product is exact, one rounding: the sum).
    /// </summary>
    static bool PlainMulAddIsFused(Tensor lo, Tensor hi)
    {
        if (!lo.IsConcrete || !hi.IsConcrete || lo.DType != DType.Float32 || hi.DType != DType.Float32) return false;
        if (lo.Size > 4096 || hi.Size > 4096) return false;
        var l = lo.ToArray<float>();
        var h = hi.ToArray<float>();
        int n = Math.Max(l.Length, h.Length);
        for (int i = 0; i < n; i++)
        {
            float a = l[l.Length == 1 ? 0 : i], b = h[h.Length == 1 ? 0 : i];
            float span = b - a;
            if (a == 0 || span == 0 || !float.IsFinite(span)) continue;
            uint bits = BitConverter.SingleToUInt32Bits(Math.Abs(span));
            bool pow2 = (bits & 0x007FFFFF) == 0 && bits >= 0x00800000;
            if (!pow2) return false;
        }
        return true;
    }

    static Tensor F32Like(Tensor x, double v) => Lax.BroadcastInDim(Tensor.Scalar(v, DType.Float32), x.Shape);

    /// <summary>Veltkamp's split: x = hi + lo exactly, each half on at most 12 significant bits.</summary>
    static (Tensor Hi, Tensor Lo) SplitF32(Tensor x)
    {
        var t = Lax.Mul(F32Like(x, 4097.0), x);
        var hi = Lax.Sub(t, Lax.Sub(t, x));
        return (hi, Lax.Sub(x, hi));
    }

    /// <summary>Knuth's TwoSum: s = RN(a + b) and e with s + e = a + b exactly.</summary>
    static (Tensor S, Tensor E) TwoSum(Tensor a, Tensor b)
    {
        var s = Lax.Add(a, b);
        var bb = Lax.Sub(s, a);
        var e = Lax.Add(Lax.Sub(a, Lax.Sub(s, bb)), Lax.Sub(b, bb));
        return (s, e);
    }

    /// <summary>
    /// a·b + c correctly rounded to float32, from float32 operations only. The product is split
    /// exactly into p + q (Dekker), c + p exactly into s + t (TwoSum), t + q is rounded to odd
    /// (sticky last bit, so the final rounding cannot be a double rounding), then s + that is
    /// rounded to nearest. Exact except when the product's error term underflows (|a·b| below
    /// about 2^-100) or the split overflows (|a|, |b| above 2^115): those elements fall back to a
    /// multiply and an add.
    /// </summary>
    internal static Tensor FusedMulAddF32(Tensor a, Tensor b, Tensor c)
    {
        var p = Lax.Mul(a, b);
        var (ah, al) = SplitF32(a);
        var (bh, bl) = SplitF32(b);
        var q = Lax.Add(Lax.Add(Lax.Add(Lax.Sub(Lax.Mul(ah, bh), p), Lax.Mul(ah, bl)), Lax.Mul(al, bh)), Lax.Mul(al, bl));
        var (s, t) = TwoSum(c, p);
        // v = RO(t + q): round to nearest, then, when inexact and the last bit is even, step to the
        // neighbour on the side of the exact value (which has an odd last bit).
        var (v, e) = TwoSum(t, q);
        var vb = Lax.BitcastConvertType(v, DType.Int32);
        var zero = F32Like(v, 0);
        var one = Lax.BroadcastInDim(Tensor.Scalar(1, DType.Int32), v.Shape);
        var even = Lax.Eq(Lax.And(vb, one), Lax.BroadcastInDim(Tensor.Scalar(0, DType.Int32), v.Shape));
        var inexact = Lax.Ne(e, zero);
        var away = Lax.Eq(Lax.Lt(e, zero), Lax.Lt(v, zero));   // the exact value is farther from zero than v
        var stepped = Lax.BitcastConvertType(Lax.Select(away, Lax.Add(vb, one), Lax.Sub(vb, one)), DType.Float32);
        var vOdd = Lax.Select(Lax.And(inexact, even), stepped, v);
        var fused = Lax.Add(s, vOdd);
        // Out of the exact range: the plain two-rounding result (also keeps infinities and NaNs).
        var big = F32Like(a, Math.Pow(2, 100));
        var tiny = F32Like(a, Math.Pow(2, -100));
        var absP = Lax.Abs(p);
        var ok = Lax.And(Lax.And(Lax.Lt(Lax.Abs(a), big), Lax.Lt(Lax.Abs(b), big)),
                         Lax.And(Lax.Or(Lax.Gt(absP, tiny), Lax.Eq(p, zero)), Lax.Lt(Lax.Abs(c), big)));
        ok = Lax.And(ok, Lax.Eq(fused, fused));
        return Lax.Select(ok, fused, Lax.Add(p, c));
    }
}
