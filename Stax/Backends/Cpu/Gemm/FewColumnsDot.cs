using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// AVX-512 float32 product with at most 16 columns and a row-major A (a classifier head's forward
/// pass, [128 x 512] @ [512 x 10]): every C element is a dot product of a row of A with a column of
/// B, vectorised along K. The blocked GEMM would pad 10 columns to a 16-wide tile, or, through
/// C^T = B^T A^T, repack all of A; here A is read once in place and B^T (N x K, copied once per call
/// when B is row-major) stays in L1.
/// <para>Tiles of 4 rows x 4 columns (8 x 2 for the last columns) keep 16 accumulators of 16 partial
/// sums each (8 or 10 loads per 16 fused multiply-adds); a fixed shuffle tree then sums all 16
/// accumulators into one vector. The
/// order of additions depends only on K (16 lanes over k mod 16, the fixed tree, then the k past the
/// last full vector in order), so results do not depend on the thread count (threads take disjoint
/// rows). They differ from the blocked GEMM's sequential-k sums within float32 rounding.</para>
/// </summary>
internal static unsafe class FewColumnsDot
{
    /// <summary>Largest N handled.</summary>
    public const int MaxColumns = 16;
    /// <summary>Smallest K handled: below two vectors, most of each dot product is the scalar tail.</summary>
    public const int MinK = 32;

    /// <summary>
    /// True when the kernel applies: AVX-512, N &lt;= <see cref="MaxColumns"/>, K &gt;= <see cref="MinK"/>, A rows contiguous.
    /// </summary>
    public static bool Applies(int N, int K, long csA) => Avx512F.IsSupported && N <= MaxColumns && K >= MinK && csA == 1;

    /// <summary>C[M,N] = A[M,K] * B[K,N] with A[i, k] = A[i * rsA + k] (C overwritten).</summary>
    public static void Multiply(int M, int N, int K, float* A, long rsA, float* B, long rsB, long csB, float* C, long ldc,
        int threads)
    {
        // B^T: N rows of K contiguous values.
        float* bt = B;
        long ldbt = csB;
        if (rsB != 1)
        {
            bt = ThreadBuffers.B.Get<float>((long)N * K);
            ldbt = K;
            for (int j = 0; j < N; j++)
            {
                float* col = B + j * csB, dst = bt + (long)j * K;
                for (int k = 0; k < K; k++) dst[k] = col[k * rsB];
            }
        }
        int units = (M + 7) / 8;
        if (threads > 1 && units >= 2 * threads && (long)M * N * K >= 64 * 64 * 64)
        {
            CpuParallel.For(threads, 1, (M, N, K, a: (nint)A, rsA, b: (nint)bt, ldbt, c: (nint)C, ldc, threads, units),
                static (st, t0, t1) =>
            {
                for (long t = t0; t < t1; t++)
                {
                    int m0 = (int)(st.units * t / st.threads) * 8,
                        m1 = Math.Min(st.M, (int)(st.units * (t + 1) / st.threads) * 8);
                    if (m1 > m0) Rows(m0, m1, st.N, st.K, (float*)st.a, st.rsA, (float*)st.b, st.ldbt, (float*)st.c, st.ldc);
                }
            }, align: 1);
            return;
        }
        Rows(0, M, N, K, A, rsA, bt, ldbt, C, ldc);
    }

    // Groups of 8 rows: 4 x 4 tiles over groups of 4 columns (two per group of rows), then an 8 x 2
    // tile for 1 or 2 columns left. Rows and columns past the end repeat the last one (computed,
    // not stored).
    static void Rows(int m0, int m1, int N, int K, float* A, long rsA, float* bt, long ldbt, float* C, long ldc)
    {
        float* tile = stackalloc float[16];
        float** a = stackalloc float*[8];
        float** b = stackalloc float*[4];
        for (int i = m0; i < m1; i += 8)
        {
            int mr = Math.Min(8, m1 - i);
            for (int r = 0; r < 8; r++) a[r] = A + (i + Math.Min(r, mr - 1)) * rsA;
            for (int j = 0; j < N; j += 4)
            {
                int nr = Math.Min(4, N - j);
                for (int c = 0; c < 4; c++) b[c] = bt + (j + Math.Min(c, nr - 1)) * ldbt;
                if (nr <= 2)
                {
                    Tile8x2(K, a, b, tile);
                    Store(tile, 8, 2, mr, nr, C + i * ldc + j, ldc);
                    continue;
                }
                for (int r0 = 0; r0 < mr; r0 += 4)
                {
                    Tile4x4(K, a + r0, b, tile);
                    Store(tile, 4, 4, Math.Min(4, mr - r0), nr, C + (i + r0) * ldc + j, ldc);
                }
            }
        }
    }

    // Tile element v = rows x columns (row-major, 16 in all) sits in tile[4 * (v mod 4) + v / 4].
    static void Store(float* tile, int rows, int cols, int mr, int nr, float* c, long ldc)
    {
        for (int r = 0; r < mr; r++)
            for (int q = 0; q < nr; q++)
            {
                int v = r * cols + q;
                c[r * ldc + q] = tile[4 * (v & 3) + (v >> 2)];
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile4x4(int K, float** a, float** b, float* tile)
    {
        float* a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default,
            c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default,
            c32 = default, c33 = default;
        int k = 0;
        for (; k + 16 <= K; k += 16)
        {
            var x0 = Vector512.Load(a0 + k);
            var x1 = Vector512.Load(a1 + k);
            var x2 = Vector512.Load(a2 + k);
            var x3 = Vector512.Load(a3 + k);
            var y = Vector512.Load(b0 + k);
            c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector512.FusedMultiplyAdd(x2, y, c20); c30 = Vector512.FusedMultiplyAdd(x3, y, c30);
            y = Vector512.Load(b1 + k);
            c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector512.FusedMultiplyAdd(x2, y, c21); c31 = Vector512.FusedMultiplyAdd(x3, y, c31);
            y = Vector512.Load(b2 + k);
            c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector512.FusedMultiplyAdd(x2, y, c22); c32 = Vector512.FusedMultiplyAdd(x3, y, c32);
            y = Vector512.Load(b3 + k);
            c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector512.FusedMultiplyAdd(x2, y, c23); c33 = Vector512.FusedMultiplyAdd(x3, y, c33);
        }
        Sum16(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33).Store(tile);
        if (k < K) Tail(k, K, a, b, 4, tile);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile8x2(int K, float** a, float** b, float* tile)
    {
        float* a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], b0 = b[0], b1 = b[1];
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default,
            c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default,
            c70 = default, c71 = default;
        int k = 0;
        for (; k + 16 <= K; k += 16)
        {
            var y0 = Vector512.Load(b0 + k);
            var y1 = Vector512.Load(b1 + k);
            var x = Vector512.Load(a0 + k);
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00); c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            x = Vector512.Load(a1 + k);
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10); c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            x = Vector512.Load(a2 + k);
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20); c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            x = Vector512.Load(a3 + k);
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30); c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            x = Vector512.Load(a4 + k);
            c40 = Vector512.FusedMultiplyAdd(x, y0, c40); c41 = Vector512.FusedMultiplyAdd(x, y1, c41);
            x = Vector512.Load(a5 + k);
            c50 = Vector512.FusedMultiplyAdd(x, y0, c50); c51 = Vector512.FusedMultiplyAdd(x, y1, c51);
            x = Vector512.Load(a6 + k);
            c60 = Vector512.FusedMultiplyAdd(x, y0, c60); c61 = Vector512.FusedMultiplyAdd(x, y1, c61);
            x = Vector512.Load(a7 + k);
            c70 = Vector512.FusedMultiplyAdd(x, y0, c70); c71 = Vector512.FusedMultiplyAdd(x, y1, c71);
        }
        Sum16(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71).Store(tile);
        if (k < K) Tail(k, K, a, b, 2, tile);
    }

    // The k past the last full vector, in order, added to the vector sums of a tile.
    static void Tail(int k0, int K, float** a, float** b, int cols, float* tile)
    {
        for (int v = 0; v < 16; v++)
        {
            float* x = a[v / cols], y = b[v % cols];
            ref float acc = ref tile[4 * (v & 3) + (v >> 2)];
            for (int k = k0; k < K; k++) acc = MathF.FusedMultiplyAdd(x[k], y[k], acc);
        }
    }

    // The 16 horizontal sums of v0..v15 in one vector, element 4 * (v mod 4) + v / 4 holding v's sum:
    // pairs of 128-bit lanes, then pairs of lanes, then pairs of elements within lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Sum16(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7, Vector512<float> v8,
        Vector512<float> v9, Vector512<float> v10, Vector512<float> v11, Vector512<float> v12, Vector512<float> v13,
        Vector512<float> v14, Vector512<float> v15)
    {
        // Each result holds two inputs' halves: lanes 0-1 from the first, 2-3 from the second.
        var h0 = Halves(v0, v1); var h1 = Halves(v2, v3); var h2 = Halves(v4, v5); var h3 = Halves(v6, v7);
        var h4 = Halves(v8, v9); var h5 = Halves(v10, v11); var h6 = Halves(v12, v13); var h7 = Halves(v14, v15);
        // Lane l of q_j holds four partial sums of input 4j + l.
        var q0 = Quarters(h0, h1); var q1 = Quarters(h2, h3); var q2 = Quarters(h4, h5); var q3 = Quarters(h6, h7);
        // Within each lane l: two partial sums of inputs l and 4 + l (e0), 8 + l and 12 + l (e1).
        var e0 = Avx512F.Shuffle(q0, q1, 0x44) + Avx512F.Shuffle(q0, q1, 0xEE);
        var e1 = Avx512F.Shuffle(q2, q3, 0x44) + Avx512F.Shuffle(q2, q3, 0xEE);
        // Element 4l + m: the sum of input 4m + l.
        return Avx512F.Shuffle(e0, e1, 0x88) + Avx512F.Shuffle(e0, e1, 0xDD);
    }

    // Lanes (a0 + a2, a1 + a3, b0 + b2, b1 + b3) of 128 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Halves(Vector512<float> a, Vector512<float> b)
        => Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);

    // Lanes (a0 + a1, a2 + a3, b0 + b1, b2 + b3) of 128 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b)
        => Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);
}
