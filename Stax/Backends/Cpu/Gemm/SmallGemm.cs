using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// AVX-512 float32 products with one tiny dimension, computed without the packed, blocked GEMM
/// (whose packing and per-tile overheads dominate when a dimension is about 10, as in a
/// classifier head and its gradients):
/// <list type="bullet">
/// <item><see cref="SmallK"/>: K of at most 16 (an input gradient through the head,
/// [M x 10] @ [10 x N]): each C row is a sum of K scaled rows of B.</item>
/// <item><see cref="FewColumnsFromColumnMajorA"/>: N of at most 16 with A stored column-major (a
/// weight gradient, X^T @ dY): the long dimension M lies in the vector lanes, read from A in
/// place instead of packed.</item>
/// </list>
/// Every C element is accumulated from zero over k in order with fused multiply-adds, exactly as
/// the blocked GEMM does for K up to <see cref="Sgemm.KC"/>, so results are bit-identical to it and
/// do not depend on the thread count (threads take disjoint rows).
/// </summary>
internal static unsafe class SmallGemm
{
    /// <summary>Largest K handled by <see cref="SmallK"/>.</summary>
    public const int MaxSmallK = 16;
    /// <summary>Largest N handled by <see cref="FewColumnsFromColumnMajorA"/>.</summary>
    public const int MaxFewColumns = 16;

    // ---------------------------------------------------------------- small K

    /// <summary>
    /// C[M,N] = A[M,K] * B[K,N] for K &lt;= <see cref="MaxSmallK"/> (C overwritten); <paramref name="epilogue"/>, when
    /// given, runs on each group of finished rows.
    /// </summary>
    public static void SmallK(int M, int N, int K, float* A, long rsA, long csA, float* B, long rsB, long csB, float* C, long ldc,
        int threads, GemmEpilogue? epilogue = null)
    {
        // B as K contiguous rows (copied when its columns are strided: K x N is small).
        float* b = B;
        long ldb = rsB;
        if (csB != 1)
        {
            b = ThreadBuffers.B.Get<float>((long)K * N);
            int n0 = 0;
            if (rsB == 1)
                // Columns contiguous in k (a transposed weight): 8 at a time through register transposes.
                for (; n0 + 8 <= N; n0 += 8)
                {
                    float* c0 = B + n0 * csB;
                    Transpose8.Pack(c0, c0 + csB, c0 + 2 * csB, c0 + 3 * csB, c0 + 4 * csB, c0 + 5 * csB, c0 + 6 * csB,
                        c0 + 7 * csB, K, b + n0, N);
                }
            for (int n = n0; n < N; n++)
                for (int k = 0; k < K; k++) b[(long)k * N + n] = B[k * rsB + n * csB];
            ldb = N;
        }
        int units = (M + 3) / 4;
        if (threads > 1 && units >= 2 * threads && (long)M * N * K >= 64 * 64 * 64)
        {
            var work = (M, N, K, a: (nint)A, rsA, csA, b: (nint)b, ldb, c: (nint)C, ldc, threads, units, epilogue);
            CpuParallel.For(threads, 1, work,
                static (st, t0, t1) =>
            {
                for (long t = t0; t < t1; t++)
                {
                    int m0 = (int)(st.units * t / st.threads) * 4,
                        m1 = Math.Min(st.M, (int)(st.units * (t + 1) / st.threads) * 4);
                    if (m1 > m0)
                        SmallKRows(m0, m1, st.N, st.K, (float*)st.a, st.rsA, st.csA, (float*)st.b, st.ldb, (float*)st.c, st.ldc,
                            st.epilogue);
                }
            }, align: 1);
            return;
        }
        SmallKRows(0, M, N, K, A, rsA, csA, b, ldb, C, ldc, epilogue);
    }

    static void SmallKRows(int m0, int m1, int N, int K, float* A, long rsA, long csA, float* b, long ldb, float* C, long ldc,
        GemmEpilogue? epilogue)
    {
        int i = m0;
        for (; i + 4 <= m1; i += 4)
        {
            float* a0 = A + i * rsA, a1 = a0 + rsA, a2 = a1 + rsA, a3 = a2 + rsA;
            int j = 0;
            for (; j + 32 <= N; j += 32) SmallK4x32(K, a0, a1, a2, a3, csA, b + j, ldb, C + i * ldc + j, ldc);
            for (; j < N; j++)
                for (int r = 0; r < 4; r++) C[(i + r) * ldc + j] = Dot(K, A + (i + r) * rsA, csA, b + j, ldb);
            // Four finished rows (a few KiB, in L1).
            epilogue?.Run(i, 4, 0, N);
        }
        int tail = i;
        for (; i < m1; i++)
        {
            float* a0 = A + i * rsA;
            int j = 0;
            for (; j + 16 <= N; j += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int k = 0; k < K; k++)
                    acc = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k * csA]), Vector512.Load(b + k * ldb + j), acc);
                acc.Store(C + i * ldc + j);
            }
            for (; j < N; j++) C[i * ldc + j] = Dot(K, a0, csA, b + j, ldb);
        }
        if (m1 > tail) epilogue?.Run(tail, m1 - tail, 0, N);
    }

    // 4 rows x 32 columns: 8 accumulators, K steps.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SmallK4x32(int K, float* a0, float* a1, float* a2, float* a3, long csA, float* b, long ldb, float* c, long ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default,
            c31 = default;
        for (int k = 0; k < K; k++)
        {
            float* bk = b + k * ldb;
            var b0 = Vector512.Load(bk);
            var b1 = Vector512.Load(bk + 16);
            long ka = k * csA;
            var x0 = Vector512.Create(a0[ka]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(a1[ka]);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(a2[ka]);
            c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(a3[ka]);
            c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
        }
        c00.Store(c); c01.Store(c + 16); c += ldc;
        c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc;
        c30.Store(c); c31.Store(c + 16);
    }

    // One element: sum over k in order with scalar fused multiply-adds (the vector lanes' rounding).
    static float Dot(int K, float* a, long csA, float* b, long ldb)
    {
        float acc = 0;
        for (int k = 0; k < K; k++) acc = MathF.FusedMultiplyAdd(a[k * csA], b[k * ldb], acc);
        return acc;
    }

    // ---------------------------------------------------------------- few columns, column-major A

    /// <summary>
    /// C[M,N] = A[M,K] * B[K,N] for N &lt;= <see cref="MaxFewColumns"/> where A[i, k] = A[i + k * csA]
    /// (rows contiguous in memory: A is the transpose of a row-major matrix) and K &lt;= <see cref="Sgemm.KC"/>.
    /// </summary>
    public static void FewColumnsFromColumnMajorA(int M, int N, int K, float* A, long csA, float* B, long rsB, long csB, float* C,
        long ldc, int threads)
    {
        int units = (M + 31) / 32;
        if (threads > 1 && units >= 2 * threads && (long)M * N * K >= 64 * 64 * 64)
        {
            CpuParallel.For(threads, 1, (M, N, K, a: (nint)A, csA, b: (nint)B, rsB, csB, c: (nint)C, ldc, threads, units),
                static (st, t0, t1) =>
            {
                for (long t = t0; t < t1; t++)
                {
                    int m0 = (int)(st.units * t / st.threads) * 32,
                        m1 = Math.Min(st.M, (int)(st.units * (t + 1) / st.threads) * 32);
                    if (m1 > m0)
                        FewColumnsRows(m0, m1, st.N, st.K, (float*)st.a, st.csA, (float*)st.b, st.rsB, st.csB,
                            (float*)st.c, st.ldc);
                }
            }, align: 1);
            return;
        }
        FewColumnsRows(0, M, N, K, A, csA, B, rsB, csB, C, ldc);
    }

    static void FewColumnsRows(int m0, int m1, int N, int K, float* A, long csA, float* B, long rsB, long csB, float* C, long ldc)
    {
        // Tiles of 32 rows (two vectors along M) by 5 (or fewer) columns; the tile is written transposed into C.
        float* tile = stackalloc float[32 * 5];
        int i = m0;
        for (; i + 32 <= m1; i += 32)
        {
            int j = 0;
            for (; j + 5 <= N; j += 5)
            {
                Columns32x5(K, A + i, csA, B + j * csB, rsB, csB, tile);
                for (int q = 0; q < 5; q++)
                    for (int l = 0; l < 32; l++) C[(i + l) * ldc + j + q] = tile[q * 32 + l];
            }
            for (; j + 4 <= N; j += 4)
            {
                Columns32x4(K, A + i, csA, B + j * csB, rsB, csB, tile);
                for (int q = 0; q < 4; q++)
                    for (int l = 0; l < 32; l++) C[(i + l) * ldc + j + q] = tile[q * 32 + l];
            }
            for (; j < N; j++)
            {
                Columns32x1(K, A + i, csA, B + j * csB, rsB, tile);
                for (int l = 0; l < 32; l++) C[(i + l) * ldc + j] = tile[l];
            }
        }
        for (; i < m1; i++)
            for (int j = 0; j < N; j++)
            {
                float acc = 0;
                for (int k = 0; k < K; k++) acc = MathF.FusedMultiplyAdd(A[i + k * csA], B[k * rsB + j * csB], acc);
                C[i * ldc + j] = acc;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Columns32x5(int K, float* a, long csA, float* b, long rsB, long csB, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default,
            c31 = default, c40 = default, c41 = default;
        for (int k = 0; k < K; k++)
        {
            float* ak = a + k * csA;
            var a0 = Vector512.Load(ak);
            var a1 = Vector512.Load(ak + 16);
            float* bk = b + k * rsB;
            var y0 = Vector512.Create(bk[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, y0, c00); c01 = Vector512.FusedMultiplyAdd(a1, y0, c01);
            var y1 = Vector512.Create(bk[csB]);
            c10 = Vector512.FusedMultiplyAdd(a0, y1, c10); c11 = Vector512.FusedMultiplyAdd(a1, y1, c11);
            var y2 = Vector512.Create(bk[2 * csB]);
            c20 = Vector512.FusedMultiplyAdd(a0, y2, c20); c21 = Vector512.FusedMultiplyAdd(a1, y2, c21);
            var y3 = Vector512.Create(bk[3 * csB]);
            c30 = Vector512.FusedMultiplyAdd(a0, y3, c30); c31 = Vector512.FusedMultiplyAdd(a1, y3, c31);
            var y4 = Vector512.Create(bk[4 * csB]);
            c40 = Vector512.FusedMultiplyAdd(a0, y4, c40); c41 = Vector512.FusedMultiplyAdd(a1, y4, c41);
        }
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Columns32x4(int K, float* a, long csA, float* b, long rsB, long csB, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default,
            c31 = default;
        for (int k = 0; k < K; k++)
        {
            float* ak = a + k * csA;
            var a0 = Vector512.Load(ak);
            var a1 = Vector512.Load(ak + 16);
            float* bk = b + k * rsB;
            var y0 = Vector512.Create(bk[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, y0, c00); c01 = Vector512.FusedMultiplyAdd(a1, y0, c01);
            var y1 = Vector512.Create(bk[csB]);
            c10 = Vector512.FusedMultiplyAdd(a0, y1, c10); c11 = Vector512.FusedMultiplyAdd(a1, y1, c11);
            var y2 = Vector512.Create(bk[2 * csB]);
            c20 = Vector512.FusedMultiplyAdd(a0, y2, c20); c21 = Vector512.FusedMultiplyAdd(a1, y2, c21);
            var y3 = Vector512.Create(bk[3 * csB]);
            c30 = Vector512.FusedMultiplyAdd(a0, y3, c30); c31 = Vector512.FusedMultiplyAdd(a1, y3, c31);
        }
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Columns32x1(int K, float* a, long csA, float* b, long rsB, float* tile)
    {
        Vector512<float> c0 = default, c1 = default;
        for (int k = 0; k < K; k++)
        {
            float* ak = a + k * csA;
            var y = Vector512.Create(b[k * rsB]);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Load(ak), y, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Load(ak + 16), y, c1);
        }
        c0.Store(tile); c1.Store(tile + 16);
    }
}
