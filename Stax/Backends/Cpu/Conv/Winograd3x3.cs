using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Backends.Cpu.Conv;

/// <summary>
/// A stride-1 3x3 convolution (any padding, any layout) as Winograd F(2x2, 3x3): each 2x2 block of
/// outputs comes from a 4x4 input tile, transformed per channel (B^T d B), multiplied elementwise
/// with the transformed kernel (G g G^T) and summed over input channels (16 small GEMMs, one per
/// transform point), then transformed back (A^T m A). That takes 16 multiplies per 4 outputs per
/// channel pair instead of 36. The transforms use only additions and halvings, so the result stays
/// within float32 rounding of the direct sum; forward convolutions and input gradients (a 3x3
/// convolution with the flipped kernel) both take this path.
/// <para>Tiles are processed in blocks that keep their transforms in cache; threads take whole
/// blocks as they go (<see cref="DynamicBlocks"/>) and every output is computed the same way
/// whatever the thread count.</para>
/// </summary>
internal static unsafe class Winograd3x3
{
    [ThreadStatic] static PackBuffer? _u, _v, _m, _d;

    readonly struct Job
    {
        public readonly WinogradGeometry G;
        public readonly float* X, U, Y;
        public readonly int Tb, Cp, Op, TilesH, TilesW;
        public readonly long Tiles;

        public Job(WinogradGeometry g, float* x, float* u, float* y, int tb, int cp, int op)
        {
            G = g; X = x; U = u; Y = y; Tb = tb; Cp = cp; Op = op;
            TilesH = (g.Ho + 1) / 2; TilesW = (g.Wo + 1) / 2;
            Tiles = (long)g.N * TilesH * TilesW;
        }
    }

    /// <summary>y = conv(x, w) for a geometry with <see cref="WinogradGeometry.IsForward3x3"/>.</summary>
    public static void Run(float* x, float* w, float* y, WinogradGeometry g)
    {
        int cp = (g.C + 15) & ~15, op = (g.O + 15) & ~15;
        float* u = (_u ??= new PackBuffer()).Get<float>(16L * g.C * op);
        TransformKernel(w, g, u, op);
        // About 256 KB of transformed inputs and products per block (half of a core's L2).
        int tb = Math.Clamp(65536 / (16 * (cp + op)) / WinogradKernel.Rows * WinogradKernel.Rows, WinogradKernel.Rows, 96);
        var job = new Job(g, x, u, y, tb, cp, op);
        long blocks = (job.Tiles + tb - 1) / tb;
        DynamicBlocks.Run(blocks, job, static (j, b) => Block(j, b));
    }

    // U[p][c][o] = (G g G^T)[p] for the kernel g = w[., ., c, o]; columns O..op are zero.
    static void TransformKernel(float* w, WinogradGeometry g, float* u, int op)
    {
        var k = stackalloc double[9];
        var t = stackalloc double[12];
        for (int c = 0; c < g.C; c++)
            for (int o = 0; o < op; o++)
            {
                if (o >= g.O)
                {
                    for (int p = 0; p < 16; p++) u[((long)p * g.C + c) * op + o] = 0;
                    continue;
                }
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        k[ky * 3 + kx] = w[ky * g.WH + kx * g.WW + c * g.WI + o * g.WO];
                // t = G g (4 x 3), then G t^T per row.
                for (int j = 0; j < 3; j++)
                {
                    double a = k[j], b = k[3 + j], d = k[6 + j];
                    t[j] = a; t[3 + j] = (a + b + d) * 0.5; t[6 + j] = (a - b + d) * 0.5; t[9 + j] = d;
                }
                for (int i = 0; i < 4; i++)
                {
                    double a = t[i * 3], b = t[i * 3 + 1], d = t[i * 3 + 2];
                    long at = ((long)(i * 4) * g.C + c) * op + o, step = (long)g.C * op;
                    u[at] = (float)a;
                    u[at + step] = (float)((a + b + d) * 0.5);
                    u[at + 2 * step] = (float)((a - b + d) * 0.5);
                    u[at + 3 * step] = (float)d;
                }
            }
    }

    static void Block(in Job j, long block)
    {
        long t0 = block * j.Tb;
        int count = (int)Math.Min(j.Tb, j.Tiles - t0);
        int rows = (count + WinogradKernel.Rows - 1) / WinogradKernel.Rows * WinogradKernel.Rows;
        long vStep = WinogradKernel.SlabStride((long)j.Tb * j.Cp), mStep = WinogradKernel.SlabStride((long)j.Tb * j.Op);
        float* v = (_v ??= new PackBuffer()).Get<float>(16 * vStep);
        float* m = (_m ??= new PackBuffer()).Get<float>(16 * mStep);
        float* d = (_d ??= new PackBuffer()).Get<float>(16L * j.Cp);
        for (int t = 0; t < count; t++) InputTile(j, t0 + t, d, v + (long)t * j.Cp, vStep);
        // The last row block's spare rows: zeros (their products are computed and dropped).
        for (int p = 0; p < 16; p++)
            new Span<float>(v + p * vStep + (long)count * j.Cp, (rows - count) * j.Cp).Clear();
        for (int p = 0; p < 16; p++)
            WinogradKernel.Multiply(v + p * vStep, j.Cp, 1, j.U + (long)p * j.G.C * j.Op, j.Op, m + p * mStep, j.Op, rows, j.Op,
                j.G.C, accumulate: false);
        for (int t = 0; t < count; t++) OutputTile(j, t0 + t, m + (long)t * j.Op, mStep);
    }

    // v[p * vStep + c] = (B^T d B)[p] for the 4x4 input tile of tile `tile` (zeros outside the input).
    static void InputTile(in Job j, long tile, float* d, float* v, long vStep)
    {
        var g = j.G;
        int per = j.TilesH * j.TilesW;
        int n = (int)(tile / per), r = (int)(tile % per);
        int y0 = r / j.TilesW * 2 - g.PadH, x0 = r % j.TilesW * 2 - g.PadW;
        int cp = j.Cp;
        // Channel runs are read in place when whole vectors; otherwise gathered (with zeros) into d.
        bool direct = g.XC == 1 && g.C % 16 == 0;
        float* zeros = (float*)ThreadBuffers.Zeros(cp * sizeof(float));
        var at = stackalloc float*[16];
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
            {
                int q = a * 4 + b, yy = y0 + a, xx = x0 + b;
                if (yy < 0 || yy >= g.H || xx < 0 || xx >= g.W) { at[q] = zeros; continue; }
                float* src = j.X + n * g.XN + yy * g.XH + xx * g.XW;
                if (direct) { at[q] = src; continue; }
                float* dst = d + q * cp;
                for (int c = 0; c < g.C; c++) dst[c] = src[c * g.XC];
                for (int c = g.C; c < cp; c++) dst[c] = 0;
                at[q] = dst;
            }
        for (int c = 0; c < cp; c += 16)
        {
            // Columns b of B^T d (over rows a), then each row of that times B (over columns b).
            Col(at[0] + c, at[4] + c, at[8] + c, at[12] + c, out var r00, out var r10, out var r20, out var r30);
            Col(at[1] + c, at[5] + c, at[9] + c, at[13] + c, out var r01, out var r11, out var r21, out var r31);
            Col(at[2] + c, at[6] + c, at[10] + c, at[14] + c, out var r02, out var r12, out var r22, out var r32);
            Col(at[3] + c, at[7] + c, at[11] + c, at[15] + c, out var r03, out var r13, out var r23, out var r33);
            float* o = v + c;
            Row(o, vStep, r00, r01, r02, r03); o += 4 * vStep;
            Row(o, vStep, r10, r11, r12, r13); o += 4 * vStep;
            Row(o, vStep, r20, r21, r22, r23); o += 4 * vStep;
            Row(o, vStep, r30, r31, r32, r33);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Col(float* d0, float* d1, float* d2, float* d3, out Vector512<float> e0, out Vector512<float> e1,
        out Vector512<float> e2, out Vector512<float> e3)
    {
        var x0 = Vector512.Load(d0); var x1 = Vector512.Load(d1); var x2 = Vector512.Load(d2); var x3 = Vector512.Load(d3);
        e0 = x0 - x2; e1 = x1 + x2; e2 = x2 - x1; e3 = x1 - x3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* o, long step, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        (x0 - x2).Store(o);
        (x1 + x2).Store(o + step);
        (x2 - x1).Store(o + 2 * step);
        (x1 - x3).Store(o + 3 * step);
    }

    // The 2x2 outputs of tile `tile` from its 16 products m[p * mStep + o]: A^T m A.
    static void OutputTile(in Job j, long tile, float* m, long mStep)
    {
        var g = j.G;
        int per = j.TilesH * j.TilesW;
        int n = (int)(tile / per), r = (int)(tile % per);
        int y0 = r / j.TilesW * 2, x0 = r % j.TilesW * 2;
        bool down = y0 + 1 < g.Ho, right = x0 + 1 < g.Wo;
        float* yb = j.Y + n * g.YN + y0 * g.YH + x0 * g.YW;
        var tail = stackalloc float[16];
        for (int o = 0; o < g.O; o += 16)
        {
            // Rows of A^T m (over a), per column b.
            float* mo = m + o;
            Sum(mo, mStep, out var s00, out var s10);
            Sum(mo + mStep, mStep, out var s01, out var s11);
            Sum(mo + 2 * mStep, mStep, out var s02, out var s12);
            Sum(mo + 3 * mStep, mStep, out var s03, out var s13);
            int len = Math.Min(16, g.O - o);
            Put(yb + o * g.YC, s00 + s01 + s02, len, g.YC, tail);
            if (right) Put(yb + g.YW + o * g.YC, s01 - s02 - s03, len, g.YC, tail);
            if (!down) continue;
            Put(yb + g.YH + o * g.YC, s10 + s11 + s12, len, g.YC, tail);
            if (right) Put(yb + g.YH + g.YW + o * g.YC, s11 - s12 - s13, len, g.YC, tail);
        }
    }

    // Column b of A^T m: m[a * 4 + b] for a = 0..3 at m + a * 4 * step.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Sum(float* m, long step, out Vector512<float> t0, out Vector512<float> t1)
    {
        var m0 = Vector512.Load(m); var m1 = Vector512.Load(m + 4 * step);
        var m2 = Vector512.Load(m + 8 * step); var m3 = Vector512.Load(m + 12 * step);
        t0 = m0 + m1 + m2; t1 = m1 - m2 - m3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(float* dst, Vector512<float> value, int len, long stride, float* tail)
    {
        if (len == 16 && stride == 1) { value.Store(dst); return; }
        value.Store(tail);
        for (int i = 0; i < len; i++) dst[i * stride] = tail[i];
    }
}
