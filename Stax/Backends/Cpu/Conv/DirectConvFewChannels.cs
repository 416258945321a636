using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Backends.Cpu.Conv;

/// <summary>
/// A 2-D float32 convolution with few input taps (input channels x kernel positions, at most
/// <see cref="MaxTaps"/>: a first layer on a grey or RGB image) computed directly: per output pixel,
/// one broadcast input value times one vector of output channels per tap, for 4 pixels at a time.
/// As a GEMM its contraction would be only that long, and packing the implicit im2col matrix
/// would cost more than the products. Each output sums its taps in kernel order from zero, so the
/// bits do not depend on the thread count.
/// </summary>
internal static unsafe class DirectConvFewChannels
{
    /// <summary>The most input channels x kernel positions this kernel takes.</summary>
    public const int MaxTaps = 32;

    [ThreadStatic] static PackBuffer? _w;

    /// <summary>Whether the convolution has this form (channels-last output and kernel not required).</summary>
    public static bool Applies(Shape ls, Shape rs, Shape os, ConvParams p)
    {
        var dn = p.DimensionNumbers;
        if (ls.Rank != 4 || p.FeatureGroupCount != 1 || p.BatchGroupCount != 1) return false;
        if (p.LhsDilation[0] != 1 || p.LhsDilation[1] != 1) return false;
        int taps = rs[dn.RhsSpec[1]] * rs[dn.RhsSpec[2]] * rs[dn.RhsSpec[3]];
        return taps <= MaxTaps && rs[dn.RhsSpec[0]] >= 8 && os.Size > 0;
    }

    readonly struct Job
    {
        public readonly float* X, W, Y;
        public readonly int N, C, H, Wd, O, Op, KH, KW, Ho, Wo, SH, SW, DH, DW, PH, PW;
        public readonly long XN, XC, XH, XW, YN, YC, YH, YW;

        public Job(float* x, float* w, float* y, Shape ls, Shape rs, Shape os, ConvParams p, int op)
        {
            var dn = p.DimensionNumbers;
            var l = ls.Strides(); var o = os.Strides();
            X = x; W = w; Y = y; Op = op;
            N = ls[dn.LhsSpec[0]]; C = ls[dn.LhsSpec[1]]; H = ls[dn.LhsSpec[2]]; Wd = ls[dn.LhsSpec[3]];
            O = rs[dn.RhsSpec[0]]; KH = rs[dn.RhsSpec[2]]; KW = rs[dn.RhsSpec[3]];
            Ho = os[dn.OutSpec[2]]; Wo = os[dn.OutSpec[3]];
            SH = p.WindowStrides[0]; SW = p.WindowStrides[1]; DH = p.RhsDilation[0]; DW = p.RhsDilation[1];
            PH = p.PaddingLow[0]; PW = p.PaddingLow[1];
            XN = l[dn.LhsSpec[0]]; XC = l[dn.LhsSpec[1]]; XH = l[dn.LhsSpec[2]]; XW = l[dn.LhsSpec[3]];
            YN = o[dn.OutSpec[0]]; YC = o[dn.OutSpec[1]]; YH = o[dn.OutSpec[2]]; YW = o[dn.OutSpec[3]];
        }
    }

    /// <summary>y = conv(x, w) for a convolution where <see cref="Applies"/> holds.</summary>
    public static void Run(float* x, float* w, float* y, Shape ls, Shape rs, Shape os, ConvParams p)
    {
        var dn = p.DimensionNumbers;
        var r = rs.Strides();
        int O = rs[dn.RhsSpec[0]], C = rs[dn.RhsSpec[1]], KH = rs[dn.RhsSpec[2]], KW = rs[dn.RhsSpec[3]];
        int op = (O + 15) & ~15;
        // Taps in (ky, kx, c) order, each a zero-padded row of output channels.
        float* wp = (_w ??= new PackBuffer()).Get<float>((long)KH * KW * C * op);
        for (int ky = 0, t = 0; ky < KH; ky++)
            for (int kx = 0; kx < KW; kx++)
                for (int c = 0; c < C; c++, t++)
                    for (int o = 0; o < op; o++)
                        wp[(long)t * op + o] = o < O ? w[ky * r[dn.RhsSpec[2]] + kx * r[dn.RhsSpec[3]] + c * r[dn.RhsSpec[1]] + o * r[dn.RhsSpec[0]]] : 0;
        var job = new Job(x, wp, y, ls, rs, os, p, op);
        CpuParallel.For((long)job.N * job.Ho, 1, job, static (j, r0, r1) =>
        {
            for (long row = r0; row < r1; row++) Row(j, (int)(row / j.Ho), (int)(row % j.Ho));
        }, align: 1);
    }

    // One output row (image n, row yo), 4 pixels and 32 output channels at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(in Job j, int n, int yo)
    {
        int taps = j.KH * j.KW * j.C;
        var vals = stackalloc float[4 * MaxTaps];
        var tmp = stackalloc float[16];
        float* xn = j.X + n * j.XN;
        for (int x0 = 0; x0 < j.Wo; x0 += 4)
        {
            int px = Math.Min(4, j.Wo - x0);
            // The input value of every (pixel, tap), 0 in padding.
            for (int i = 0; i < 4; i++)
                for (int ky = 0, t = 0; ky < j.KH; ky++)
                    for (int kx = 0; kx < j.KW; kx++)
                    {
                        int yi = yo * j.SH + ky * j.DH - j.PH, xi = (x0 + i) * j.SW + kx * j.DW - j.PW;
                        bool inside = i < px && yi >= 0 && yi < j.H && xi >= 0 && xi < j.Wd;
                        for (int c = 0; c < j.C; c++, t++)
                            vals[i * MaxTaps + t] = inside ? xn[yi * j.XH + xi * j.XW + c * j.XC] : 0;
                    }
            for (int o = 0; o < j.Op; o += 32)
            {
                bool two = o + 16 < j.Op;
                Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
                float* wt = j.W + o;
                for (int t = 0; t < taps; t++, wt += j.Op)
                {
                    var w0 = Vector512.Load(wt);
                    var w1 = two ? Vector512.Load(wt + 16) : default;
                    var v = Vector512.Create(vals[t]); a0 = Vector512.FusedMultiplyAdd(v, w0, a0); a1 = Vector512.FusedMultiplyAdd(v, w1, a1);
                    v = Vector512.Create(vals[MaxTaps + t]); b0 = Vector512.FusedMultiplyAdd(v, w0, b0); b1 = Vector512.FusedMultiplyAdd(v, w1, b1);
                    v = Vector512.Create(vals[2 * MaxTaps + t]); c0 = Vector512.FusedMultiplyAdd(v, w0, c0); c1 = Vector512.FusedMultiplyAdd(v, w1, c1);
                    v = Vector512.Create(vals[3 * MaxTaps + t]); d0 = Vector512.FusedMultiplyAdd(v, w0, d0); d1 = Vector512.FusedMultiplyAdd(v, w1, d1);
                }
                float* yb = j.Y + n * j.YN + yo * j.YH + x0 * j.YW;
                if (px == 4 && two && j.YC == 1 && o + 32 <= j.O)
                {
                    long yw = j.YW;
                    a0.Store(yb + o); a1.Store(yb + o + 16);
                    b0.Store(yb + yw + o); b1.Store(yb + yw + o + 16);
                    c0.Store(yb + 2 * yw + o); c1.Store(yb + 2 * yw + o + 16);
                    d0.Store(yb + 3 * yw + o); d1.Store(yb + 3 * yw + o + 16);
                    continue;
                }
                Put(j, yb, o, a0, a1, two, tmp);
                if (px > 1) Put(j, yb + j.YW, o, b0, b1, two, tmp);
                if (px > 2) Put(j, yb + 2 * j.YW, o, c0, c1, two, tmp);
                if (px > 3) Put(j, yb + 3 * j.YW, o, d0, d1, two, tmp);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(in Job j, float* y, int o, Vector512<float> v0, Vector512<float> v1, bool two, float* tmp)
    {
        Put(j, y, o, v0, tmp);
        if (two) Put(j, y, o + 16, v1, tmp);
    }

    static void Put(in Job j, float* y, int o, Vector512<float> v, float* tmp)
    {
        int len = Math.Min(16, j.O - o);
        if (len <= 0) return;
        if (len == 16 && j.YC == 1) { v.Store(y + o); return; }
        v.Store(tmp);
        for (int i = 0; i < len; i++) y[(o + i) * j.YC] = tmp[i];
    }
}
