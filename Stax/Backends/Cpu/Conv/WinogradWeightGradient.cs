using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Backends.Cpu.Conv;

/// <summary>
/// A convolution with a 3x3 output and a large kernel, the form of a 3x3 convolution's weight
/// gradient (input correlated with the output gradient), as Winograd F(3x3, 2x2): the large kernel
/// is cut into 2x2 pieces; each piece and the 4x4 input patch under it are transformed
/// (G g G^T, B^T d B), multiplied elementwise and summed over pieces and contraction channels (16
/// GEMMs, one per transform point, contracting over (channel, piece)), and the sums are transformed
/// back once (A^T m A). That takes 16 multiplies per piece instead of 36.
/// <para>The contraction is cut into a fixed number of chunks whatever the thread count; threads
/// take whole chunks as they go (<see cref="DynamicBlocks"/>) and the chunks' sums are added in
/// order, so the bits do not depend on threads. With more threads than chunks, each chunk's output
/// columns are split too (each column's sums are unchanged; the input transforms are repeated per
/// part), and the chunks' sums are added in parallel over outputs.</para>
/// </summary>
internal static unsafe class WinogradWeightGradient
{
    [ThreadStatic] static PackBuffer? _partial, _v, _w, _d;

    /// <summary>Chunks of the contraction (the most threads that can share one gradient).</summary>
    const int Chunks = 8;

    /// <summary>Whether <paramref name="g"/> has this form with enough channels to pay off.</summary>
    public static bool Applies(WinogradGeometry g)
        => g.Ho == 3 && g.Wo == 3 && g.KH * g.KW >= 16 && g.N >= 8 && g.O >= 8 && (long)g.N * g.O <= 1 << 16;

    readonly struct Job
    {
        public readonly WinogradGeometry G;
        public readonly float* X, W, Partial;
        public readonly int Np, Npv, Op, TilesH, TilesW, Kb;
        public readonly long K, Blocks, PerChunk;
        /// <summary>Column parts per chunk, each <see cref="PartWidth"/> wide (multiples of 16, the last shorter).</summary>
        public readonly int Parts, PartWidth;

        public Job(WinogradGeometry g, float* x, float* w, float* partial, int np, int op, int kb, long perChunk, int parts)
        {
            G = g; X = x; W = w; Partial = partial; Np = np; Npv = (np + 15) & ~15; Op = op; Kb = kb;
            PartWidth = (op / 16 + parts - 1) / parts * 16;
            Parts = (op + PartWidth - 1) / PartWidth;
            TilesH = (g.KH + 1) / 2; TilesW = (g.KW + 1) / 2;
            K = (long)g.C * TilesH * TilesW;
            Blocks = (K + kb - 1) / kb;
            PerChunk = perChunk;
        }
    }

    /// <summary>y = conv(x, w) for a geometry where <see cref="Applies"/> holds.</summary>
    public static void Run(float* x, float* w, float* y, WinogradGeometry g)
    {
        int np = (g.N + WinogradKernel.Rows - 1) / WinogradKernel.Rows * WinogradKernel.Rows, op = (g.O + 15) & ~15;
        // About 512 KB of transformed patches per block of the contraction.
        int kb = Math.Clamp(131072 / (16 * (np + op)) / 8 * 8, 8, 256);
        long k = (long)g.C * ((g.KH + 1) / 2) * ((g.KW + 1) / 2);
        long blocks = (k + kb - 1) / kb;
        long perChunk = (blocks + Chunks - 1) / Chunks;
        int chunks = (int)((blocks + perChunk - 1) / perChunk);
        long slab = 16L * np * op;
        float* partial = (_partial ??= new PackBuffer()).Get<float>(chunks * slab);
        // More threads than chunks: split the columns so every thread has work.
        int threads = Config.NumThreads, parts = threads > chunks ? Math.Min(op / 16, (threads + chunks - 1) / chunks) : 1;
        var job = new Job(g, x, w, partial, np, op, kb, perChunk, parts);
        DynamicBlocks.Run(chunks * job.Parts, job, static (j, i) => Chunk(j, i / j.Parts, (int)(i % j.Parts)));
        if (chunks > 1)
            // Vector by vector, chunk sums in chunk order: the same additions at any split.
            CpuParallel.For(slab / 16, CpuParallel.ElementwiseGrain / 16 / chunks, ((nint)partial, slab, chunks),
                static (st, v0, v1) =>
                {
                    for (int c = 1; c < st.chunks; c++)
                    {
                        float* dst = (float*)st.Item1, src = dst + c * st.slab;
                        for (long i = v0 * 16; i < v1 * 16; i += 16)
                            (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
                    }
                }, align: 1);
        Output(partial, y, g, np, op);
    }

    static void Chunk(in Job j, long chunk, int part)
    {
        long b0 = chunk * j.PerChunk, b1 = Math.Min(j.Blocks, b0 + j.PerChunk);
        int o0 = part * j.PartWidth, ow = Math.Min(j.PartWidth, j.Op - o0);
        float* mw = j.Partial + chunk * 16L * j.Np * j.Op;
        // The last patch's tail vector may run past its row: one vector of slack after each slab.
        long vStep = WinogradKernel.SlabStride((long)j.Kb * j.Np + 16), wStep = WinogradKernel.SlabStride((long)j.Kb * j.Op);
        float* v = (_v ??= new PackBuffer()).Get<float>(16 * vStep);
        float* wt = (_w ??= new PackBuffer()).Get<float>(16 * wStep);
        float* d = (_d ??= new PackBuffer()).Get<float>(16L * j.Npv);
        for (long b = b0; b < b1; b++)
        {
            long k0 = b * j.Kb;
            int count = (int)Math.Min(j.Kb, j.K - k0);
            // In order of k, so a patch's spill past its row is overwritten by the next patch.
            for (int kk = 0; kk < count; kk++)
            {
                InputPatch(j, k0 + kk, d, v + (long)kk * j.Np, vStep);
                KernelPatch(j, k0 + kk, wt + (long)kk * j.Op, wStep, o0, o0 + ow);
            }
            for (int p = 0; p < 16; p++)
                WinogradKernel.Multiply(v + p * vStep, 1, j.Np, wt + p * wStep + o0, j.Op, mw + (long)p * j.Np * j.Op + o0,
                    j.Op, j.Np, ow, count, accumulate: b > b0);
        }
    }

    // k = (channel, piece): v[p * vStep + n] = (B^T d B)[p] of the 4x4 input patch under the piece, rows n.
    static void InputPatch(in Job j, long k, float* d, float* v, long vStep)
    {
        var g = j.G;
        int per = j.TilesH * j.TilesW;
        int c = (int)(k / per), r = (int)(k % per);
        int y0 = r / j.TilesW * 2 - g.PadH, x0 = r % j.TilesW * 2 - g.PadW;
        int npv = j.Npv;
        // Whole vectors of rows are read in place; a partial or strided run is gathered (with zeros) into d.
        int direct = g.XN == 1 ? g.N / 16 * 16 : 0;
        float* zeros = (float*)ThreadBuffers.Zeros(npv * sizeof(float));
        var src = stackalloc float*[16];
        var gathered = stackalloc float*[16];
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
            {
                int q = a * 4 + b, yy = y0 + a, xx = x0 + b;
                if (yy < 0 || yy >= g.H || xx < 0 || xx >= g.W) { src[q] = gathered[q] = zeros; continue; }
                float* x = j.X + c * g.XC + yy * g.XH + xx * g.XW;
                src[q] = x;
                if (direct == npv) continue;
                float* dst = d + q * npv;
                for (int n = direct; n < g.N; n++) dst[n] = x[n * g.XN];
                for (int n = Math.Max(direct, g.N); n < npv; n++) dst[n] = 0;
                gathered[q] = dst;
            }
        for (int n = 0; n < j.Np; n += 16)
        {
            var at = n < direct ? src : gathered;
            Col(at[0] + n, at[4] + n, at[8] + n, at[12] + n, out var r00, out var r10, out var r20, out var r30);
            Col(at[1] + n, at[5] + n, at[9] + n, at[13] + n, out var r01, out var r11, out var r21, out var r31);
            Col(at[2] + n, at[6] + n, at[10] + n, at[14] + n, out var r02, out var r12, out var r22, out var r32);
            Col(at[3] + n, at[7] + n, at[11] + n, at[15] + n, out var r03, out var r13, out var r23, out var r33);
            float* o = v + n;
            Col(o, vStep, r00, r01, r02, r03); o += 4 * vStep;
            Col(o, vStep, r10, r11, r12, r13); o += 4 * vStep;
            Col(o, vStep, r20, r21, r22, r23); o += 4 * vStep;
            Col(o, vStep, r30, r31, r32, r33);
        }
    }

    // F(3, 2)'s B^T over four loaded vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Col(float* d0, float* d1, float* d2, float* d3, out Vector512<float> e0, out Vector512<float> e1,
        out Vector512<float> e2, out Vector512<float> e3)
    {
        var x0 = Vector512.Load(d0); var x1 = Vector512.Load(d1); var x2 = Vector512.Load(d2); var x3 = Vector512.Load(d3);
        e0 = x0 - x2; e1 = x1 + x2; e2 = x2 - x1; e3 = x3 - x1;
    }

    // F(3, 2)'s B^T over four values, stored step apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Col(float* o, long step, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        (x0 - x2).Store(o);
        (x1 + x2).Store(o + step);
        (x2 - x1).Store(o + 2 * step);
        (x3 - x1).Store(o + 3 * step);
    }

    // k = (channel, piece): wt[p * wStep + o] = (G g G^T)[p] of the 2x2 piece g (zeros past the kernel's edge), o in [o0, o1).
    static void KernelPatch(in Job j, long k, float* wt, long wStep, int o0, int o1)
    {
        var g = j.G;
        int per = j.TilesH * j.TilesW;
        int c = (int)(k / per), r = (int)(k % per);
        int ky0 = r / j.TilesW * 2, kx0 = r % j.TilesW * 2;
        var tmp = stackalloc float[4 * 16];
        float* zeros = (float*)ThreadBuffers.Zeros(16 * sizeof(float));
        var at = stackalloc float*[4];
        var e = stackalloc float*[4];
        for (int q = 0; q < 4; q++)
        {
            int ky = ky0 + q / 2, kx = kx0 + q % 2;
            at[q] = ky < g.KH && kx < g.KW ? j.W + ky * g.WH + kx * g.WW + c * g.WI : null;
        }
        var half = Vector512.Create(0.5f);
        for (int o = o0; o < o1; o += 16)
        {
            int len = Math.Min(16, g.O - o);
            for (int q = 0; q < 4; q++)
            {
                if (at[q] == null) { e[q] = zeros; continue; }
                if (g.WO == 1 && len == 16) { e[q] = at[q] + o; continue; }
                float* t = tmp + q * 16;
                for (int i = 0; i < 16; i++) t[i] = i < len ? at[q][(o + i) * g.WO] : 0;
                e[q] = t;
            }
            var g00 = Vector512.Load(e[0]); var g01 = Vector512.Load(e[1]);
            var g10 = Vector512.Load(e[2]); var g11 = Vector512.Load(e[3]);
            // G over rows, then over columns.
            Row(wt + o, wStep, g00, g01, half);
            Row(wt + 4 * wStep + o, wStep, (g00 + g10) * half, (g01 + g11) * half, half);
            Row(wt + 8 * wStep + o, wStep, (g00 - g10) * half, (g01 - g11) * half, half);
            Row(wt + 12 * wStep + o, wStep, g10, g11, half);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* dst, long wStep, Vector512<float> a, Vector512<float> b, Vector512<float> half)
    {
        a.Store(dst);
        ((a + b) * half).Store(dst + wStep);
        ((a - b) * half).Store(dst + 2 * wStep);
        b.Store(dst + 3 * wStep);
    }

    // y[n, ., ., o] = A^T m A (3x3) from the summed products m[p][n][o].
    static void Output(float* m, float* y, WinogradGeometry g, int np, int op)
    {
        long step = (long)np * op;
        var s = stackalloc Vector512<float>[12];
        var q = stackalloc Vector512<float>[9];
        var tmp = stackalloc float[16];
        for (int n = 0; n < g.N; n++)
            for (int o = 0; o < g.O; o += 16)
            {
                float* mo = m + (long)n * op + o;
                for (int b = 0; b < 4; b++)
                {
                    var m0 = Vector512.Load(mo + (0 + b) * step);
                    var m1 = Vector512.Load(mo + (4 + b) * step);
                    var m2 = Vector512.Load(mo + (8 + b) * step);
                    var m3 = Vector512.Load(mo + (12 + b) * step);
                    s[b] = m0 + m1 + m2; s[4 + b] = m1 - m2; s[8 + b] = m1 + m2 + m3;
                }
                for (int a = 0; a < 3; a++)
                {
                    var e0 = s[a * 4]; var e1 = s[a * 4 + 1]; var e2 = s[a * 4 + 2]; var e3 = s[a * 4 + 3];
                    q[a * 3] = e0 + e1 + e2; q[a * 3 + 1] = e1 - e2; q[a * 3 + 2] = e1 + e2 + e3;
                }
                int len = Math.Min(16, g.O - o);
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                    {
                        float* dst = y + n * g.YN + a * g.YH + b * g.YW + o * g.YC;
                        if (len == 16 && g.YC == 1) { q[a * 3 + b].Store(dst); continue; }
                        q[a * 3 + b].Store(tmp);
                        for (int i = 0; i < len; i++) dst[i * g.YC] = tmp[i];
                    }
            }
    }
}
