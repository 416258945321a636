namespace Stax.Tests.Reference;

public static partial class Ref
{
    static partial void RegisterRandom()
    {
        Rules[Prims.Threefry2x32] = (p, x, o) =>
        {
            var y0 = New(o[0]);
            var y1 = New(o[1]);
            for (int i = 0; i < y0.Data.Length; i++)
            {
                var (a, b) = Threefry2x32((uint)x[0].Data[i], (uint)x[1].Data[i], (uint)x[2].Data[i], (uint)x[3].Data[i]);
                y0.Data[i] = a;
                y1.Data[i] = b;
            }
            return new[] { y0, y1 };
        };
    }

    /// <summary>
    /// Threefry-2x32 with 20 rounds, straight from the description in DESIGN.md ("Random
    /// numbers"): key schedule [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]; inject ks0, ks1; five groups of four
    /// rounds with rotations alternating [13, 15, 26, 6] / [17, 29, 16, 24]; after group g inject
    /// ks[g % 3] and ks[(g + 1) % 3] + g.
    /// </summary>
    public static (uint, uint) Threefry2x32(uint k0, uint k1, uint x0, uint x1)
    {
        uint[] ks = { k0, k1, k0 ^ k1 ^ 0x1BD11BDAu };
        int[][] rotations = { new[] { 13, 15, 26, 6 }, new[] { 17, 29, 16, 24 } };
        unchecked
        {
            x0 += ks[0];
            x1 += ks[1];
            for (int g = 1; g <= 5; g++)
            {
                foreach (int r in rotations[(g - 1) % 2])
                {
                    x0 += x1;
                    x1 = (x1 << r) | (x1 >> (32 - r));
                    x1 ^= x0;
                }
                x0 += ks[g % 3];
                x1 += ks[(g + 1) % 3] + (uint)g;
            }
        }
        return (x0, x1);
    }

    // ---- Scalar models of jax.random's samplers (partitionable Threefry), one element at a time.

    /// <summary>The two threefry words for counter <paramref name="i"/> (hi32(i), lo32(i)).</summary>
    public static (uint, uint) RefHash(uint k0, uint k1, long i) => Threefry2x32(k0, k1, (uint)((ulong)i >> 32), (uint)i);

    /// <summary>32 random bits of element i: y0 ^ y1.</summary>
    public static uint RefBits(uint k0, uint k1, long i) { var (a, b) = RefHash(k0, k1, i); return a ^ b; }

    /// <summary>jax.random.uniform float32 element i: bitcast((bits &gt;&gt; 9) | 0x3F800000) - 1, scaled
    /// by u * (hi - lo) + lo rounded once (XLA:CPU fuses the multiply-add).</summary>
    public static float RefUniform32(uint k0, uint k1, long i, float lo = 0, float hi = 1)
    {
        float u = BitConverter.UInt32BitsToSingle((RefBits(k0, k1, i) >> 9) | 0x3F800000u) - 1f;
        float span = hi - lo;
        return MathF.Max(lo, MathF.FusedMultiplyAdd(u, span, lo));
    }

    /// <summary>jax.random.uniform float64 element i: 64 bits (y0 &lt;&lt; 32 | y1), bitcast((bits &gt;&gt; 12) | 0x3FF0...) - 1, scaled.</summary>
    public static double RefUniform64(uint k0, uint k1, long i, double lo = 0, double hi = 1)
    {
        var (a, b) = RefHash(k0, k1, i);
        ulong bits = ((ulong)a << 32) | b;
        double u = BitConverter.UInt64BitsToDouble((bits >> 12) | 0x3FF0000000000000UL) - 1.0;
        return Math.Max(lo, u * (hi - lo) + lo);
    }
}
