using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// Packed, cache-blocked float32 GEMM: C[M,N] = A[M,K] * B[K,N] (C overwritten). A and B are read
/// through arbitrary element strides, so transposed operands cost nothing extra (packing absorbs
/// them); C is row-major with leading dimension <c>ldc</c>.
/// <para>Blocking (Goto/BLIS order): N in NC columns, K in KC steps (B block packed into NR-wide
/// micro-panels), M in MC rows (A block packed into MR-high micro-panels), then an MR x NR
/// register-tiled micro-kernel. Threads take column slices of wide products or row slices of tall
/// ones, each an independent blocked GEMM (one parallel region, no barriers), never K; the result
/// of each C element depends only on the K blocking, so any thread count gives identical bits.</para>
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>
    /// Largest K block. K is split into equal blocks of at most this size: every block boundary
    /// costs a read and write of all of C, which measured more than keeping the B micro-panel in L1
    /// (n = 2048 on Zen 4: 96 GFLOP/s with 256, 102 with 512).
    /// </summary>
    public const int KC = 512;
    /// <summary>M block: the packed A block (MC x KC) stays in L2. Multiple of every MR.</summary>
    public const int MC = 96;
    /// <summary>N block: the packed B block (KC x NC) stays in L2/L3. Multiple of every NR.</summary>
    public const int NC = 2048;

    readonly struct Kernel
    {
        public readonly int MR, NR;
        public readonly delegate*<int, float*, float*, float*, long, bool, void> Fn;
        /// <summary>True for the 8 x 32 AVX-512 tile, which has 4- and 2-row variants for partial panels.</summary>
        public readonly bool HasRowVariants;
        public Kernel(int mr, int nr, delegate*<int, float*, float*, float*, long, bool, void> fn, bool rowVariants = false)
        { MR = mr; NR = nr; Fn = fn; HasRowVariants = rowVariants; }
    }

    static Kernel Select(Isa isa, int N) => isa switch
    {
        // At most 16 columns (classifier heads): a 16-wide tile instead of computing 32 columns for 10.
        Isa.Vector512 when N <= SgemmKernels.NR512Narrow => new(SgemmKernels.MR512, SgemmKernels.NR512Narrow, &SgemmKernels.Kernel512Narrow),
        Isa.Vector512 => new(SgemmKernels.MR512, SgemmKernels.NR512, &SgemmKernels.Kernel512, rowVariants: true),
        Isa.Vector256 => new(SgemmKernels.MR256, SgemmKernels.NR256, &SgemmKernels.Kernel256),
        Isa.Vector128 => new(SgemmKernels.MR128, SgemmKernels.NR128, &SgemmKernels.Kernel128),
        _ => new(SgemmKernels.MRScalar, SgemmKernels.NRScalar, &SgemmKernels.KernelScalar),
    };

    /// <summary>
    /// Computes C = A * B on up to <paramref name="threads"/> threads using the <paramref name="isa"/> micro-kernel.
    /// When <paramref name="epilogue"/> is given and the chosen path supports it, it runs on each block of C once
    /// the block is final, and the result is true; false means the caller still has to apply it to C.
    /// </summary>
    public static bool Multiply(int M, int N, int K, float* A, long rsA, long csA, float* B, long rsB, long csB,
        float* C, long ldc, Isa isa, int threads, GemmEpilogue? epilogue = null)
    {
        if (isa == Isa.Vector512 && M > 0 && N > 0 && K > 0 && K <= KC)
        {
            // A dimension of about 10 (classifier heads): direct kernels without packing (same bits).
            if (N <= SmallGemm.MaxFewColumns && rsA == 1 && M >= 32)
            {
                SmallGemm.FewColumnsFromColumnMajorA(M, N, K, A, csA, B, rsB, csB, C, ldc, threads);
                return false;
            }
            if (K <= SmallGemm.MaxSmallK && N >= 32)
            {
                SmallGemm.SmallK(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, threads, epilogue);
                return epilogue != null;
            }
        }
        if (isa == Isa.Vector512 && M > 0 && N > 0 && FewColumnsDot.Applies(N, K, csA))
        {
            // Few columns, row-major A (a classifier head's forward pass): dot products along K,
            // A read in place (different rounding from the blocked GEMM, independent of threads).
            FewColumnsDot.Multiply(M, N, K, A, rsA, B, rsB, csB, C, ldc, threads);
            return false;
        }
        if (isa == Isa.Vector512 && N <= 16 && M >= 8 * N && K > 0)
        {
            // Few columns, many rows (classifier heads and their gradients): C^T = B^T A^T puts
            // the long dimension in the vector lanes instead of padding 10 columns to 16, then
            // C^T is transposed into place. Same products in the same k order: same bits.
            float* t = ThreadBuffers.Transposed.Get<float>((long)N * M);
            Multiply(N, M, K, new StridedA(B, csB, rsB), A, csA, rsA, t, M, isa, threads);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) C[i * ldc + j] = t[(long)j * M + i];
            return false;
        }
        return Multiply(M, N, K, new StridedA(A, rsA, csA), B, rsB, csB, C, ldc, isa, threads, epilogue);
    }

    /// <summary>
    /// C = A * B where A is any operand that packs itself (a strided matrix, or a convolution's implicit im2col
    /// matrix); <paramref name="epilogue"/> and the result as in <see cref="Multiply(int, int, int, float*, long, long, float*,
    /// long, long, float*, long, Isa, int, GemmEpilogue?)"/>.
    /// </summary>
    public static bool Multiply<TA>(int M, int N, int K, TA A, float* B, long rsB, long csB,
        float* C, long ldc, Isa isa, int threads, GemmEpilogue? epilogue = null) where TA : struct, IPackA
    {
        if (M <= 0 || N <= 0) return false;
        if (K <= 0)
        {
            for (int i = 0; i < M; i++) new Span<float>(C + i * ldc, N).Clear();
            return false;
        }
        var kern = Select(isa, N);
        int MR = kern.MR, NR = kern.NR;
        // Small problems are not worth a second thread.
        if ((long)M * N * K < 64 * 64 * 64) threads = 1;
        // With an epilogue, row slices when B is no larger than A: each thread's blocks are then whole rows, one
        // contiguous range of elements for the epilogue instead of a short range per row.
        bool rowsFirst = epilogue != null && N <= M && M >= threads * 4 * MR;
        if (threads > 1 && N >= threads * 2 * NR && !rowsFirst)
        {
            // Wide C: each thread takes a slice of columns (whole NR panels) and runs an
            // independent GEMM, packing its own B panels and all of A: one parallel region and
            // no barrier per K block (that synchronisation made MLP-sized products slower on two
            // threads than on one). Bits do not depend on the split.
            ColumnSlices(M, N, K, A, B, rsB, csB, C, ldc, kern, threads, epilogue);
            return epilogue != null;
        }
        if (threads > 1 && M >= threads * 4 * MR)
        {
            // Tall C (convolutions: tens of thousands of rows, 32-64 columns): row slices, each an
            // independent GEMM that packs its own (small) B, again one parallel region.
            RowSlices(M, N, K, A, B, rsB, csB, C, ldc, kern, threads, epilogue);
            return epilogue != null;
        }
        // Neither wide nor tall (under 128 columns and 64 rows for two threads): splitting would
        // need a barrier per K block or a split of K (whose sums would then depend on the thread
        // count), so one thread computes it.
        Blocked(M, N, K, A, B, rsB, csB, C, ldc, kern, epilogue, 0, 0);
        return epilogue != null;
    }

    // One chunk per thread through CpuParallel (its persistent workers allocate nothing per
    // region); pointers travel as nint because pointer types cannot be generic arguments.
    readonly struct Slices<TA>(int M, int N, int K, TA A, nint B, long rsB, long csB, nint C, long ldc, Kernel kern, int threads,
        int units, GemmEpilogue? epilogue) where TA : struct, IPackA
    {
        public readonly GemmEpilogue? Epilogue = epilogue;
        public readonly int M = M, N = N, K = K, Threads = threads, Units = units;
        public readonly TA A = A;
        public readonly nint B = B, C = C;
        public readonly long RsB = rsB, CsB = csB, Ldc = ldc;
        public readonly Kernel Kern = kern;
    }

    static void ColumnSlices<TA>(int M, int N, int K, TA A, float* B, long rsB, long csB,
        float* C, long ldc, Kernel kern, int threads, GemmEpilogue? epilogue) where TA : struct, IPackA
    {
        int panelsN = (N + kern.NR - 1) / kern.NR;
        CpuParallel.For(threads, 1, new Slices<TA>(M, N, K, A, (nint)B, rsB, csB, (nint)C, ldc, kern, threads, panelsN, epilogue), static (st, t0, t1) =>
        {
            int NR = st.Kern.NR;
            for (long t = t0; t < t1; t++)
            {
                int n0 = (int)((long)st.Units * t / st.Threads) * NR, n1 = Math.Min(st.N, (int)((long)st.Units * (t + 1) / st.Threads) * NR);
                if (n1 > n0)
                    Blocked(st.M, n1 - n0, st.K, st.A, (float*)st.B + n0 * st.CsB, st.RsB, st.CsB, (float*)st.C + n0, st.Ldc, st.Kern,
                        st.Epilogue, 0, n0);
            }
        }, align: 1);
    }

    static void RowSlices<TA>(int M, int N, int K, TA A, float* B, long rsB, long csB,
        float* C, long ldc, Kernel kern, int threads, GemmEpilogue? epilogue) where TA : struct, IPackA
    {
        int unitsM = (M + kern.MR - 1) / kern.MR;
        CpuParallel.For(threads, 1, new Slices<TA>(M, N, K, A, (nint)B, rsB, csB, (nint)C, ldc, kern, threads, unitsM, epilogue), static (st, t0, t1) =>
        {
            int MR = st.Kern.MR;
            for (long t = t0; t < t1; t++)
            {
                int m0 = (int)((long)st.Units * t / st.Threads) * MR, m1 = Math.Min(st.M, (int)((long)st.Units * (t + 1) / st.Threads) * MR);
                if (m1 > m0)
                    Blocked(m1 - m0, st.N, st.K, new RowOffsetA<TA>(st.A, m0), (float*)st.B, st.RsB, st.CsB, (float*)st.C + m0 * st.Ldc,
                        st.Ldc, st.Kern, st.Epilogue, m0, 0);
            }
        }, align: 1);
    }

    // The blocked product on the calling thread; C is the block at (row0, col0) of the whole product,
    // which is how the epilogue is told where a finished block lies.
    static void Blocked<TA>(int M, int N, int K, TA A, float* B, long rsB, long csB,
        float* C, long ldc, Kernel kern, GemmEpilogue? epilogue, int row0, int col0) where TA : struct, IPackA
    {
        int NR = kern.NR;
        // Equal K blocks (a function of K alone, so any thread count gives the same bits).
        int kBlocks = (K + KC - 1) / KC, KB = (K + kBlocks - 1) / kBlocks;
        int nc0 = Math.Min(NC, N);
        float* bPack = ThreadBuffers.B.Get<float>((long)KB * ((nc0 + NR - 1) / NR * NR));
        for (int jc = 0; jc < N; jc += NC)
        {
            int nc = Math.Min(NC, N - jc);
            int panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < K; pc += KB)
            {
                int kc = Math.Min(KB, K - pc);
                PackB(B + pc * rsB + jc * csB, rsB, csB, kc, nc, NR, 0, panels, bPack);
                // Only the last K pass finishes blocks of C.
                var done = pc + kc >= K ? epilogue : null;
                Compute(kern, A, pc, bPack, C + jc, ldc, 0, M, 0, panels, nc, kc, acc: pc > 0, done, row0, col0 + jc);
            }
        }
    }

    // Rows [m0, m1) of the C block against B micro-panels [p0, p1).
    static void Compute<TA>(Kernel kern, TA a, int pc, float* bPack, float* cBlock, long ldc,
        int m0, int m1, int p0, int p1, int nc, int kc, bool acc, GemmEpilogue? epilogue, int row0, int col0) where TA : struct, IPackA
    {
        int MR = kern.MR, NR = kern.NR;
        float* aPack = ThreadBuffers.A.Get<float>((long)MC * kc);
        float* tile = stackalloc float[MR * NR];
        for (int ic = m0; ic < m1; ic += MC)
        {
            int mc = Math.Min(MC, m1 - ic);
            a.Pack(ic, mc, pc, kc, MR, aPack);
            for (int jp = p0; jp < p1; jp++)
            {
                int jr = jp * NR;
                int nr = Math.Min(NR, nc - jr);
                float* bp = bPack + (long)jp * NR * kc;
                for (int ir = 0; ir < mc; ir += MR)
                {
                    int mr = Math.Min(MR, mc - ir);
                    float* ap = aPack + (long)ir * kc;
                    float* c = cBlock + (ic + ir) * ldc + jr;
                    if (mr == MR && nr == NR)
                        kern.Fn(kc, ap, bp, c, ldc, acc);
                    else if (mr <= 4 && nr == NR && kern.HasRowVariants)
                    {
                        // A partial row panel (e.g. the 2 rows left of 10): compute only what is needed.
                        if (mr <= 2) SgemmKernels.Kernel512Rows2(kc, ap, bp, c, ldc, acc, mr);
                        else SgemmKernels.Kernel512Rows4(kc, ap, bp, c, ldc, acc, mr);
                    }
                    else
                    {
                        kern.Fn(kc, ap, bp, tile, NR, false);
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++)
                                c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
                    }
                }
            }
            // These mc rows of the nc columns are final: the epilogue reads them while they are in L2.
            epilogue?.Run(row0 + ic, mc, col0 + p0 * NR, Math.Min(nc, p1 * NR) - p0 * NR);
        }
    }

    // A block (mc x kc) -> micro-panels of MR rows, each stored k-major (MR values per k), zero-padded.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(float* a, long rsA, long csA, int mc, int kc, int MR, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* src = a + ir * rsA;
            if (csA == 1 && mr == 8 && MR == 8)
                Transpose8.Pack(src, src + rsA, src + 2 * rsA, src + 3 * rsA, src + 4 * rsA, src + 5 * rsA, src + 6 * rsA, src + 7 * rsA, kc, dst);
            else if (csA == 1 && mr == MR)
            {
                // Row-major A: read each row contiguously, write strided into the panel.
                for (int i = 0; i < MR; i++)
                {
                    float* row = src + i * rsA;
                    float* d = dst + i;
                    for (int k = 0; k < kc; k++) d[k * MR] = row[k];
                }
            }
            else if (rsA == 1 && mr == MR)
            {
                for (int k = 0; k < kc; k++)
                    new ReadOnlySpan<float>(src + k * csA, MR).CopyTo(new Span<float>(dst + k * MR, MR));
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* d = dst + k * MR;
                    int i = 0;
                    for (; i < mr; i++) d[i] = src[i * rsA + k * csA];
                    for (; i < MR; i++) d[i] = 0;
                }
            }
            dst += (long)MR * kc;
        }
    }

    // B block (kc x nc), micro-panels [p0, p1) of NR columns, each stored k-major (NR values per k), zero-padded.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackB(float* b, long rsB, long csB, int kc, int nc, int NR, int p0, int p1, float* pack)
    {
        for (int jp = p0; jp < p1; jp++)
        {
            int jr = jp * NR;
            int nr = Math.Min(NR, nc - jr);
            float* src = b + jr * csB;
            float* dst = pack + (long)jp * NR * kc;
            if (csB == 1 && nr == NR)
            {
                for (int k = 0; k < kc; k++)
                    new ReadOnlySpan<float>(src + k * rsB, NR).CopyTo(new Span<float>(dst + k * NR, NR));
            }
            else if (rsB == 1 && nr == NR && NR % 8 == 0)
            {
                // Transposed B (columns contiguous in k): 8 columns at a time through register transposes.
                for (int j = 0; j < NR; j += 8)
                {
                    float* c0 = src + j * csB;
                    Transpose8.Pack(c0, c0 + csB, c0 + 2 * csB, c0 + 3 * csB, c0 + 4 * csB, c0 + 5 * csB, c0 + 6 * csB, c0 + 7 * csB, kc, dst + j, NR);
                }
            }
            else if (rsB == 1 && nr == NR)
            {
                for (int j = 0; j < NR; j++)
                {
                    float* col = src + j * csB;
                    float* d = dst + j;
                    for (int k = 0; k < kc; k++) d[k * NR] = col[k];
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* d = dst + k * NR;
                    int j = 0;
                    for (; j < nr; j++) d[j] = src[k * rsB + j * csB];
                    for (; j < NR; j++) d[j] = 0;
                }
            }
        }
    }
}

/// <summary>
/// The A operand of <see cref="Sgemm"/>: packs rows [i0, i0 + mc) and columns [k0, k0 + kc) into
/// consecutive micro-panels of MR rows, each stored k-major (MR values per k), rows past mc zero.
/// </summary>
internal unsafe interface IPackA
{
    /// <summary>Packs one mc x kc block of A.</summary>
    void Pack(int i0, int mc, int k0, int kc, int MR, float* dst);
}

/// <summary>A row-major or transposed matrix in memory: A[i, k] = a[i * rs + k * cs].</summary>
internal readonly unsafe struct StridedA(float* a, long rs, long cs) : IPackA
{
    /// <inheritdoc/>
    public void Pack(int i0, int mc, int k0, int kc, int MR, float* dst) => Sgemm.PackA(a + i0 * rs + k0 * cs, rs, cs, mc, kc, MR, dst);
}

/// <summary>Rows [offset, ...) of another A operand (one thread's slice).</summary>
internal readonly unsafe struct RowOffsetA<TA>(TA a, int offset) : IPackA where TA : struct, IPackA
{
    /// <inheritdoc/>
    public void Pack(int i0, int mc, int k0, int kc, int MR, float* dst) => a.Pack(offset + i0, mc, k0, kc, MR, dst);
}
