using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// Register-tiled float32 micro-kernels. Each computes one MR x NR tile of C from a packed A
/// micro-panel (kc steps of MR values) and a packed B micro-panel (kc steps of NR values):
/// products are accumulated from zero in registers over k in order, then either stored or added to C
/// (so a tile computed into a temporary and added later gives identical bits).
/// </summary>
internal static unsafe class SgemmKernels
{
    // ---- Vector512: 8 x 32 (16 zmm accumulators) ----
    public const int MR512 = 8, NR512 = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += MR512; b += NR512;
        }
        Store512(c, c00, c01, accumulate); c += ldc;
        Store512(c, c10, c11, accumulate); c += ldc;
        Store512(c, c20, c21, accumulate); c += ldc;
        Store512(c, c30, c31, accumulate); c += ldc;
        Store512(c, c40, c41, accumulate); c += ldc;
        Store512(c, c50, c51, accumulate); c += ldc;
        Store512(c, c60, c61, accumulate); c += ldc;
        Store512(c, c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate)
    {
        if (accumulate) { v0 = Vector512.Load(c) + v0; v1 = Vector512.Load(c + 16) + v1; }
        v0.Store(c); v1.Store(c + 16);
    }

    // ---- Vector512, the last rows of a panel: 4, 2 or 1 rows x 32 (A panels keep their MR = 8
    // stride); only `rows` rows are stored, so partial panels need no temporary tile.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512Rows4(int kc, float* a, float* b, float* c, long ldc, bool accumulate, int rows)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            a += MR512; b += NR512;
        }
        Store512(c, c00, c01, accumulate);
        if (rows > 1) Store512(c + ldc, c10, c11, accumulate);
        if (rows > 2) Store512(c + 2 * ldc, c20, c21, accumulate);
        if (rows > 3) Store512(c + 3 * ldc, c30, c31, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512Rows2(int kc, float* a, float* b, float* c, long ldc, bool accumulate, int rows)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            a += MR512; b += NR512;
        }
        Store512(c, c00, c01, accumulate);
        if (rows > 1) Store512(c + ldc, c10, c11, accumulate);
    }

    // ---- Vector512, narrow: 8 x 16 (8 zmm accumulators), for products with at most 16 columns ----
    public const int NR512Narrow = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512Narrow(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += MR512; b += NR512Narrow;
        }
        Store512(c, c0, accumulate); c += ldc;
        Store512(c, c1, accumulate); c += ldc;
        Store512(c, c2, accumulate); c += ldc;
        Store512(c, c3, accumulate); c += ldc;
        Store512(c, c4, accumulate); c += ldc;
        Store512(c, c5, accumulate); c += ldc;
        Store512(c, c6, accumulate); c += ldc;
        Store512(c, c7, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store512(float* c, Vector512<float> v, bool accumulate)
    {
        if (accumulate) v = Vector512.Load(c) + v;
        v.Store(c);
    }

    // ---- Vector256: 6 x 16 (12 ymm accumulators) ----
    public const int MR256 = 6, NR256 = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel256(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += MR256; b += NR256;
        }
        Store256(c, c00, c01, accumulate); c += ldc;
        Store256(c, c10, c11, accumulate); c += ldc;
        Store256(c, c20, c21, accumulate); c += ldc;
        Store256(c, c30, c31, accumulate); c += ldc;
        Store256(c, c40, c41, accumulate); c += ldc;
        Store256(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate) { v0 = Vector256.Load(c) + v0; v1 = Vector256.Load(c + 8) + v1; }
        v0.Store(c); v1.Store(c + 8);
    }

    // ---- Vector128: 6 x 8 (12 xmm accumulators) ----
    public const int MR128 = 6, NR128 = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel128(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]); c00 = Madd128(a0, b0, c00); c01 = Madd128(a0, b1, c01);
            var a1 = Vector128.Create(a[1]); c10 = Madd128(a1, b0, c10); c11 = Madd128(a1, b1, c11);
            var a2 = Vector128.Create(a[2]); c20 = Madd128(a2, b0, c20); c21 = Madd128(a2, b1, c21);
            var a3 = Vector128.Create(a[3]); c30 = Madd128(a3, b0, c30); c31 = Madd128(a3, b1, c31);
            var a4 = Vector128.Create(a[4]); c40 = Madd128(a4, b0, c40); c41 = Madd128(a4, b1, c41);
            var a5 = Vector128.Create(a[5]); c50 = Madd128(a5, b0, c50); c51 = Madd128(a5, b1, c51);
            a += MR128; b += NR128;
        }
        Store128(c, c00, c01, accumulate); c += ldc;
        Store128(c, c10, c11, accumulate); c += ldc;
        Store128(c, c20, c21, accumulate); c += ldc;
        Store128(c, c30, c31, accumulate); c += ldc;
        Store128(c, c40, c41, accumulate); c += ldc;
        Store128(c, c50, c51, accumulate);
    }

    // Fused where the CPU has FMA; a separate multiply and add otherwise. Without hardware FMA (a
    // NativeAOT build for baseline x64) FusedMultiplyAdd is emulated in software, about 30x slower.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> Madd128(Vector128<float> a, Vector128<float> b, Vector128<float> c)
        => System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported
            ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store128(float* c, Vector128<float> v0, Vector128<float> v1, bool accumulate)
    {
        if (accumulate) { v0 = Vector128.Load(c) + v0; v1 = Vector128.Load(c + 4) + v1; }
        v0.Store(c); v1.Store(c + 4);
    }

    // ---- Scalar: 4 x 4 (16 scalar accumulators, separate multiply and add) ----
    public const int MRScalar = 4, NRScalar = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KernelScalar(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k = 0; k < kc; k++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0]; c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            float a1 = a[1]; c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            float a2 = a[2]; c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            float a3 = a[3]; c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += MRScalar; b += NRScalar;
        }
        StoreS(c, c00, c01, c02, c03, accumulate); c += ldc;
        StoreS(c, c10, c11, c12, c13, accumulate); c += ldc;
        StoreS(c, c20, c21, c22, c23, accumulate); c += ldc;
        StoreS(c, c30, c31, c32, c33, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreS(float* c, float v0, float v1, float v2, float v3, bool accumulate)
    {
        if (accumulate) { v0 = c[0] + v0; v1 = c[1] + v1; v2 = c[2] + v2; v3 = c[3] + v3; }
        c[0] = v0; c[1] = v1; c[2] = v2; c[3] = v3;
    }
}
