using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Conv;

/// <summary>A compile-time count of 16-float vectors per row of a <see cref="WinogradKernel"/> tile.</summary>
internal interface IVectorCount
{
    /// <summary>1 to 4.</summary>
    static abstract int N { get; }
}

internal struct One : IVectorCount { public static int N => 1; }
internal struct Two : IVectorCount { public static int N => 2; }
internal struct Three : IVectorCount { public static int N => 3; }
internal struct Four : IVectorCount { public static int N => 4; }

/// <summary>
/// The Winograd kernels' products: C[6 x 16N] (=, or += when accumulating) A[6 x K] * B[K x 16N],
/// A[r, k] at a[r * aRow + k * aK] (row-major, or k-major for the weight gradient's sums over
/// tiles), B row-major with leading dimension ldb. Each output is a sum over k in
/// order from zero (then added to C), so the bits depend only on the shapes, never on threading.
/// </summary>
internal static unsafe class WinogradKernel
{
    /// <summary>Row blocking of <see cref="Tile{TN}"/>.</summary>
    public const int Rows = 6;

    /// <summary>
    /// A stride (in floats) for the 16 transform slabs at least <paramref name="floats"/> apart: an
    /// odd number of cache lines, so the slabs' same offsets fall in different L1 sets (a stride of
    /// a multiple of 4 KB puts all 16 in one 8-way set and every transform store misses).
    /// </summary>
    public static long SlabStride(long floats)
    {
        long lines = (floats + 15) / 16;
        return (lines | 1) * 16;
    }

    /// <summary>C[rows x n] op= A[rows x K] * B[K x n] for rows a multiple of <see cref="Rows"/>
    /// and n a multiple of 16.</summary>
    public static void Multiply(float* a, long aRow, long aK, float* b, long ldb, float* c, long ldc, int rows, int n, int K,
        bool accumulate)
    {
        int r = 0;
        // 32 columns: 12-row tiles, for as many accumulators (and as few loads per FMA) as 6 x 64.
        if (n == 32)
            for (; r + 2 * Rows <= rows; r += 2 * Rows)
                Tile12x32(a + r * aRow, aRow, aK, b, ldb, c + r * ldc, ldc, K, accumulate);
        for (; r < rows; r += Rows)
        {
            float* ar = a + r * aRow;
            int j = 0;
            for (; j + 64 <= n; j += 64) Tile<Four>(ar, aRow, aK, b + j, ldb, c + r * ldc + j, ldc, K, accumulate);
            switch ((n - j) / 16)
            {
                case 3: Tile<Three>(ar, aRow, aK, b + j, ldb, c + r * ldc + j, ldc, K, accumulate); break;
                case 2: Tile<Two>(ar, aRow, aK, b + j, ldb, c + r * ldc + j, ldc, K, accumulate); break;
                case 1: Tile<One>(ar, aRow, aK, b + j, ldb, c + r * ldc + j, ldc, K, accumulate); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile<TN>(float* a, long aRow, long aK, float* b, long ldb, float* c, long ldc, int K, bool accumulate)
        where TN : struct, IVectorCount
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        for (int k = 0; k < K; k++, a += aK)
        {
            float* bk = b + k * ldb;
            var b0 = Vector512.Load(bk);
            var b1 = TN.N > 1 ? Vector512.Load(bk + 16) : default;
            var b2 = TN.N > 2 ? Vector512.Load(bk + 32) : default;
            var b3 = TN.N > 3 ? Vector512.Load(bk + 48) : default;
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            if (TN.N > 1) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (TN.N > 2) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            if (TN.N > 3) c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a[1 * aRow]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            if (TN.N > 1) c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            if (TN.N > 2) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            if (TN.N > 3) c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a[2 * aRow]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            if (TN.N > 1) c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            if (TN.N > 2) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            if (TN.N > 3) c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a[3 * aRow]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            if (TN.N > 1) c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            if (TN.N > 2) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            if (TN.N > 3) c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            x = Vector512.Create(a[4 * aRow]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            if (TN.N > 1) c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            if (TN.N > 2) c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
            if (TN.N > 3) c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            x = Vector512.Create(a[5 * aRow]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            if (TN.N > 1) c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            if (TN.N > 2) c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
            if (TN.N > 3) c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
        }
        Store<TN>(c, c00, c01, c02, c03, accumulate); c += ldc;
        Store<TN>(c, c10, c11, c12, c13, accumulate); c += ldc;
        Store<TN>(c, c20, c21, c22, c23, accumulate); c += ldc;
        Store<TN>(c, c30, c31, c32, c33, accumulate); c += ldc;
        Store<TN>(c, c40, c41, c42, c43, accumulate); c += ldc;
        Store<TN>(c, c50, c51, c52, c53, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile12x32(float* a, long aRow, long aK, float* b, long ldb, float* c, long ldc, int K, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default,
            c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default, c90 = default,
            c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;
        for (int k = 0; k < K; k++, a += aK)
        {
            float* bk = b + k * ldb;
            var b0 = Vector512.Load(bk);
            var b1 = Vector512.Load(bk + 16);
            Vector512<float> x;
            x = Vector512.Create(a[0 * aRow]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1 * aRow]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2 * aRow]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3 * aRow]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4 * aRow]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5 * aRow]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6 * aRow]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7 * aRow]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8 * aRow]);
            c80 = Vector512.FusedMultiplyAdd(x, b0, c80); c81 = Vector512.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9 * aRow]);
            c90 = Vector512.FusedMultiplyAdd(x, b0, c90); c91 = Vector512.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10 * aRow]);
            c100 = Vector512.FusedMultiplyAdd(x, b0, c100); c101 = Vector512.FusedMultiplyAdd(x, b1, c101);
            x = Vector512.Create(a[11 * aRow]);
            c110 = Vector512.FusedMultiplyAdd(x, b0, c110); c111 = Vector512.FusedMultiplyAdd(x, b1, c111);
        }
        Store<Two>(c + 0 * ldc, c00, c01, default, default, accumulate);
        Store<Two>(c + 1 * ldc, c10, c11, default, default, accumulate);
        Store<Two>(c + 2 * ldc, c20, c21, default, default, accumulate);
        Store<Two>(c + 3 * ldc, c30, c31, default, default, accumulate);
        Store<Two>(c + 4 * ldc, c40, c41, default, default, accumulate);
        Store<Two>(c + 5 * ldc, c50, c51, default, default, accumulate);
        Store<Two>(c + 6 * ldc, c60, c61, default, default, accumulate);
        Store<Two>(c + 7 * ldc, c70, c71, default, default, accumulate);
        Store<Two>(c + 8 * ldc, c80, c81, default, default, accumulate);
        Store<Two>(c + 9 * ldc, c90, c91, default, default, accumulate);
        Store<Two>(c + 10 * ldc, c100, c101, default, default, accumulate);
        Store<Two>(c + 11 * ldc, c110, c111, default, default, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TN>(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        bool accumulate)
        where TN : struct, IVectorCount
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            if (TN.N > 1) v1 += Vector512.Load(c + 16);
            if (TN.N > 2) v2 += Vector512.Load(c + 32);
            if (TN.N > 3) v3 += Vector512.Load(c + 48);
        }
        v0.Store(c);
        if (TN.N > 1) v1.Store(c + 16);
        if (TN.N > 2) v2.Store(c + 32);
        if (TN.N > 3) v3.Store(c + 48);
    }
}
