using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// Packing of 8 rows into a k-major panel, dst[k * 8 + i] = row_i[k], with 8 x 8 register
/// transposes (AVX) instead of 64 strided scalar stores per block. Pure data movement: the result is
/// the same on every path, so it is used whenever the CPU has AVX, whatever <see cref="Config.Isa"/> says.
/// </summary>
internal static unsafe class Transpose8
{
    /// <summary>dst[k * ldd + i] = rows[i][k] for k &lt; len.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(float* r0, float* r1, float* r2, float* r3, float* r4, float* r5, float* r6, float* r7, int len, float* dst, long ldd = 8)
    {
        int k = 0;
        if (Avx.IsSupported)
            for (; k <= len - 8; k += 8, dst += 8 * ldd)
            {
                var a0 = Avx.LoadVector256(r0 + k); var a1 = Avx.LoadVector256(r1 + k);
                var a2 = Avx.LoadVector256(r2 + k); var a3 = Avx.LoadVector256(r3 + k);
                var a4 = Avx.LoadVector256(r4 + k); var a5 = Avx.LoadVector256(r5 + k);
                var a6 = Avx.LoadVector256(r6 + k); var a7 = Avx.LoadVector256(r7 + k);
                var t0 = Avx.UnpackLow(a0, a1); var t1 = Avx.UnpackHigh(a0, a1);
                var t2 = Avx.UnpackLow(a2, a3); var t3 = Avx.UnpackHigh(a2, a3);
                var t4 = Avx.UnpackLow(a4, a5); var t5 = Avx.UnpackHigh(a4, a5);
                var t6 = Avx.UnpackLow(a6, a7); var t7 = Avx.UnpackHigh(a6, a7);
                var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
                var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
                var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
                var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
                Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
                Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
                Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
                Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
                Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
                Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
                Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
                Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
            }
        for (; k < len; k++, dst += ldd)
        {
            dst[0] = r0[k]; dst[1] = r1[k]; dst[2] = r2[k]; dst[3] = r3[k];
            dst[4] = r4[k]; dst[5] = r5[k]; dst[6] = r6[k]; dst[7] = r7[k];
        }
    }
}
