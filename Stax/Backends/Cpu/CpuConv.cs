using System.Numerics;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Backends.Cpu;

/// <summary>
/// conv_general_dilated on the CPU as one GEMM per feature/batch group, C[r, o] = X[r, k] * W[o, k]^T:
/// rows r run over (output batch, output spatial position), k over (input channel, kernel offset),
/// o over output features. X is the im2col matrix, but it is never stored: the GEMM packs its
/// panels straight from the input (<see cref="ConvOperand{T}"/>), so forward convolutions and both
/// gradients (whose "batch" and "feature" roles are swapped by the dimension numbers) run as one
/// large GEMM with no temporary the size of the input times the kernel.
/// <para>Row order follows the output's memory order when the output is feature-last (NHWC, HWIO),
/// so the GEMM writes it in place; other layouts go through a temporary. k order is (kernel offset,
/// channel) when input channels are contiguous, so packing copies channel runs, else (channel,
/// kernel offset). The kernel is used in place when its k dimensions collapse to one stride.</para>
/// </summary>
internal static unsafe class CpuConv
{
    /// <summary>When false, convolutions the Winograd kernels could take run as GEMMs (benchmark comparisons).</summary>
    internal static bool WinogradEnabled = true;

    public static void Run<T>(T* lhs, T* rhs, T* output, Shape ls, Shape rs, Shape os, ConvParams p)
        where T : unmanaged, INumber<T>
    {
        if (os.Size == 0) return;
        var isa = Config.Isa;
        int threads = Config.NumThreads;
        // Everything derived from the shapes is planned once per equation (a compiled program
        // reuses its parameter object), so a training step allocates nothing for it.
        var plan = CpuConvPlan<T>.For(ls, rs, os, p);
        if (plan.Winograd is { } wgeo && WinogradEnabled && typeof(T) == typeof(float)
            && isa == Isa.Vector512 && Vector512.IsHardwareAccelerated)
        {
            if (wgeo.IsForward3x3) Conv.Winograd3x3.Run((float*)lhs, (float*)rhs, (float*)output, wgeo);
            else Conv.WinogradWeightGradient.Run((float*)lhs, (float*)rhs, (float*)output, wgeo);
            return;
        }
        var op = plan.Op;
        var dn = p.DimensionNumbers;
        int O = plan.O, I = op.I, og = plan.Og, groups = plan.Groups, B = plan.B, G = plan.G;
        long M = plan.M, Kd = plan.Kd;
        T* w;
        long rsW = plan.RsW, csW = plan.CsW;
        if (plan.WeightPerm is null) w = rhs;
        else
        {
            w = ThreadBuffers.Weights.Get<T>(O * Kd);
            CpuDot.Permute(rhs, rs, plan.WeightPerm, w);
        }

        T* c = plan.Direct ? output : ThreadBuffers.Tmp.Get<T>(M * O);
        int batchPerGroup = plan.N / B;
        for (int g = 0; g < groups; g++)
        {
            var a = op;
            a.Src = lhs + (B > 1 ? (long)g * batchPerGroup * op.SN : 0) + (G > 1 ? (long)g * I * op.SC : 0);
            T* wg = w + (long)g * og * rsW, cg = c + (long)g * og;
            if (typeof(T) == typeof(float))
                Sgemm.Multiply((int)M, og, (int)Kd,
                    new ConvPackA(System.Runtime.CompilerServices.Unsafe.As<ConvOperand<T>, ConvOperand<float>>(ref a)),
                    (float*)wg, csW, rsW, (float*)cg, O, isa, threads);
            else
            {
                // float64 / int32: materialise X in row chunks (column-major) for the simple GEMM.
                int chunk = (int)Math.Clamp((1 << 22) / Math.Max(1, Kd), 1, 256);
                for (long r0 = 0; r0 < M; r0 += chunk)
                {
                    int rows = (int)Math.Min(chunk, M - r0);
                    T* x = ThreadBuffers.Cols.Get<T>(rows * Kd);
                    for (int i = 0; i < rows; i += 64)
                        a.Pack(r0 + i, Math.Min(64, rows - i), 0, (int)Kd, x + i, rows);
                    SimpleGemm<T>.Multiply(rows, og, (int)Kd, x, 1, rows, wg, csW, rsW, cg + r0 * O, O, isa, threads);
                }
            }
        }
        if (!plan.Direct) Scatter(c, output, plan.OutStrides, dn, op, O, M);
    }

    /// <summary>The shape-derived part of a convolution: the implicit operand's geometry, row order and weight layout.</summary>
    internal static void Plan<T>(CpuConvPlan<T> plan, Shape ls, Shape rs, Shape os, ConvParams p) where T : unmanaged, INumber<T>
    {
        var dn = p.DimensionNumbers;
        int ns = ls.Rank - 2;
        var lStr = ls.Strides(); var rStr = rs.Strides(); var oStr = os.Strides();
        int N = ls[dn.LhsSpec[0]], O = rs[dn.RhsSpec[0]], I = rs[dn.RhsSpec[1]];
        int nOut = os[dn.OutSpec[0]];
        int G = p.FeatureGroupCount, B = p.BatchGroupCount, groups = G * B, og = O / groups;

        var op = new ConvOperand<T>
        {
            Ns = ns, I = I, SN = lStr[dn.LhsSpec[0]], SC = lStr[dn.LhsSpec[1]],
            InSize = new int[ns], InStr = new long[ns], KSize = new int[ns], OutSize = new int[ns],
            Stride = p.WindowStrides.ToArray(), PadLow = p.PaddingLow.ToArray(),
            LhsDil = p.LhsDilation.ToArray(), RhsDil = p.RhsDilation.ToArray(),
        };
        long P = 1, kProd = 1;
        for (int i = 0; i < ns; i++)
        {
            op.InSize[i] = ls[dn.LhsSpec[2 + i]]; op.InStr[i] = lStr[dn.LhsSpec[2 + i]];
            op.KSize[i] = rs[dn.RhsSpec[2 + i]]; op.OutSize[i] = os[dn.OutSpec[2 + i]];
            P *= op.OutSize[i]; kProd *= op.KSize[i];
        }
        long M = nOut * P, Kd = I * kProd;
        if (M > int.MaxValue || Kd > int.MaxValue)
            throw new NotSupportedException(
                $"conv_general_dilated: the implicit GEMM ({M} x {Kd}) is too large for the CPU backend");
        op.KProd = (int)kProd;
        op.ChannelsLast = op.SC == 1 || I == 1;
        op.PrepareKernelOffsets();

        // Rows: output batch (role 0) and spatial dims (roles 1..ns), outermost first. Feature-last
        // outputs whose other dims collapse (NHWC, HWIO) are written in place in memory order.
        var roles = Enumerable.Range(0, ns + 1).ToArray();
        long RoleStride(int role) => oStr[dn.OutSpec[role == 0 ? 0 : role + 1]];
        int RoleSize(int role) => role == 0 ? nOut : op.OutSize[role - 1];
        bool direct = oStr[dn.OutSpec[1]] == 1 || O == 1;
        if (direct)
        {
            roles = roles.OrderByDescending(RoleStride).ToArray();
            long expect = O;
            for (int j = roles.Length - 1; j >= 0 && direct; j--)
            {
                if (RoleSize(roles[j]) == 1) continue;
                direct = RoleStride(roles[j]) == expect;
                expect *= RoleSize(roles[j]);
            }
        }
        op.RowRoles = roles;
        op.RowSizes = roles.Select(RoleSize).ToArray();

        // W[o, k]: in place when the k dims collapse, else a row-major copy.
        int[] kDims = op.ChannelsLast
            ? Enumerable.Range(0, ns).Select(i => dn.RhsSpec[2 + i]).Append(dn.RhsSpec[1]).ToArray()
            : new[] { dn.RhsSpec[1] }.Concat(Enumerable.Range(0, ns).Select(i => dn.RhsSpec[2 + i])).ToArray();
        if (CpuDot.Collapse(rs, rStr, kDims, out long csW)) { plan.RsW = rStr[dn.RhsSpec[0]]; plan.CsW = csW; }
        else
        {
            plan.WeightPerm = new[] { dn.RhsSpec[0] }.Concat(kDims).ToArray();
            plan.RsW = Kd; plan.CsW = 1;
        }
        plan.Op = op;
        plan.M = M; plan.Kd = Kd; plan.N = N; plan.O = O; plan.Og = og;
        plan.G = G; plan.B = B; plan.Groups = groups;
        plan.Direct = direct;
        plan.OutStrides = oStr;
        if (typeof(T) == typeof(float) && Conv.WinogradGeometry.For(ls, rs, os, p) is { } wg
            && (wg.IsForward3x3 || Conv.WinogradWeightGradient.Applies(wg))) plan.Winograd = wg;
    }

    // Temporary C[r, o] (rows in canonical (batch, spatial...) order) -> the output layout.
    static void Scatter<T>(T* c, T* output, long[] oStr, ConvDimensionNumbers dn, ConvOperand<T> op, int O, long M)
        where T : unmanaged, INumber<T>
    {
        int ns = op.Ns;
        long oN = oStr[dn.OutSpec[0]], oC = oStr[dn.OutSpec[1]];
        var idx = new int[ns + 1];
        var sizes = op.RowSizes;
        var strides = op.RowRoles.Select(role => role == 0 ? oN : oStr[dn.OutSpec[role + 1]]).ToArray();
        for (long r = 0; r < M; r++)
        {
            long off = 0;
            for (int j = 0; j <= ns; j++) off += idx[j] * strides[j];
            T* src = c + r * O;
            for (int o = 0; o < O; o++) output[off + o * oC] = src[o];
            for (int j = ns; j >= 0; j--)
            {
                if (++idx[j] < sizes[j]) break;
                idx[j] = 0;
            }
        }
    }
}

/// <summary>
/// The implicit im2col matrix of a convolution, X[r, k] = input value at (batch, channel, spatial
/// position) for output row r and contraction index k, or 0 in padding / between dilated samples.
/// </summary>
internal unsafe struct ConvOperand<T> where T : unmanaged, INumber<T>
{
    public T* Src;
    public int Ns, I, KProd;
    public long SN, SC;
    public bool ChannelsLast;
    public int[] InSize, KSize, OutSize, Stride, PadLow, LhsDil, RhsDil;
    public long[] InStr;
    public int[] RowRoles, RowSizes;

    /// <summary>Per kernel offset kf: its input offset when inside (KOffs) and its dilated position per spatial dim
    /// (KPos[kf * Ns + s]).</summary>
    public long[] KOffs;
    public int[] KPos;

    /// <summary>Fills <see cref="KOffs"/> and <see cref="KPos"/> once per convolution.</summary>
    public void PrepareKernelOffsets()
    {
        KOffs = new long[KProd];
        KPos = new int[KProd * Ns];
        for (int kf = 0; kf < KProd; kf++)
        {
            long off = 0;
            for (int s = Ns - 1, f = kf; s >= 0; s--)
            {
                int pos = f % KSize[s] * RhsDil[s];
                f /= KSize[s];
                KPos[kf * Ns + s] = pos;
                off += pos * InStr[s];
            }
            KOffs[kf] = off;
        }
    }

    /// <summary>
    /// dst[k * ldd + i] = X[r0 + i, k0 + k] for i &lt; rows, k &lt; kc; rows up to <paramref name="padTo"/> are zero.
    /// </summary>
    public void Pack(long r0, int rows, int k0, int kc, T* dst, long ldd, int padTo = 0)
    {
        int ns = Ns;
        // Per row: batch offset and spatial position before the kernel offset (dilated coordinates).
        var rowBase = stackalloc long[rows];
        var q = stackalloc int[rows * Math.Max(ns, 1)];
        var idx = stackalloc int[ns + 1];
        long rem = r0;
        for (int j = ns; j >= 0; j--) { idx[j] = (int)(rem % RowSizes[j]); rem /= RowSizes[j]; }
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j <= ns; j++)
            {
                int role = RowRoles[j];
                if (role == 0) rowBase[i] = idx[j] * SN;
                else q[(role - 1) * rows + i] = idx[j] * Stride[role - 1] - PadLow[role - 1];
            }
            for (int j = ns; j >= 0; j--)
            {
                if (++idx[j] < RowSizes[j]) break;
                idx[j] = 0;
            }
        }
        if (AllInside(q, rows)) PackInside(q, rowBase, rows, k0, kc, dst, ldd);
        else PackChecked(q, rowBase, rows, k0, kc, dst, ldd);
        for (int k = 0; k < kc; k++)
            for (int i = rows; i < padTo; i++) dst[k * ldd + i] = T.Zero;
    }

    // True when every row's window lies inside the input for every kernel offset (no padding or
    // dilation holes): offsets are then row base + kernel offset, with no checks.
    readonly bool AllInside(int* q, int rows)
    {
        for (int s = 0; s < Ns; s++)
        {
            if (LhsDil[s] != 1) return false;
            int lo = int.MaxValue, hi = int.MinValue;
            for (int i = 0; i < rows; i++) { int v = q[s * rows + i]; lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            if (lo < 0 || hi + (KSize[s] - 1) * RhsDil[s] >= InSize[s]) return false;
        }
        return true;
    }

    readonly void PackInside(int* q, long* rowBase, int rows, int k0, int kc, T* dst, long ldd)
    {
        int ns = Ns;
        var rb = stackalloc long[rows];
        bool contiguous = true;
        for (int i = 0; i < rows; i++)
        {
            long off = rowBase[i];
            for (int s = 0; s < ns; s++) off += q[s * rows + i] * InStr[s];
            rb[i] = off;
            contiguous &= off == rb[0] + i;
        }
        if (ChannelsLast)
        {
            int kf = k0 / I, ch = k0 % I;
            var rowPtr = stackalloc T*[rows];
            for (int k = 0; k < kc;)
            {
                int len = Math.Min(kc - k, I - ch);
                T* x = Src + KOffs[kf] + ch * SC;
                for (int i = 0; i < rows; i++) rowPtr[i] = x + rb[i];
                CopyRuns(rowPtr, rows, len, dst + k * ldd, ldd);
                k += len; ch = 0; kf++;
            }
            return;
        }
        int c = k0 / KProd, f = k0 % KProd;
        // Weight gradients: the rows are consecutive input channels, so each k is one 8-float vector.
        bool vector8 = contiguous && rows == 8 && ldd == 8 && typeof(T) == typeof(float);
        for (int k = 0; k < kc; k++)
        {
            T* x = Src + c * SC + KOffs[f];
            T* d = dst + k * ldd;
            if (vector8) Vector256.Load((float*)(x + rb[0])).Store((float*)d);
            else if (contiguous) new ReadOnlySpan<T>(x + rb[0], rows).CopyTo(new Span<T>(d, rows));
            else for (int i = 0; i < rows; i++) d[i] = x[rb[i]];
            if (++f == KProd) { f = 0; c++; }
        }
    }

    // Rows with padding or dilation holes: a table of input offsets (or -1) per (kernel offset, row).
    readonly void PackChecked(int* q, long* rowBase, int rows, int k0, int kc, T* dst, long ldd)
    {
        int ns = Ns;
        int kfFirst, kfCount;
        if (ChannelsLast) { kfFirst = k0 / I; kfCount = (k0 + kc - 1) / I - kfFirst + 1; }
        else if (kc >= KProd) { kfFirst = 0; kfCount = KProd; }
        else { kfFirst = k0 % KProd; kfCount = kc; }
        int* table = (int*)ThreadBuffers.ConvTable.Get((long)kfCount * rows * sizeof(int));
        for (int f = 0; f < kfCount; f++)
        {
            int kf = (kfFirst + f) % KProd;
            int* t = table + f * rows;
            for (int i = 0; i < rows; i++)
            {
                long off = rowBase[i];
                for (int s = 0; s < ns; s++)
                {
                    int pos = q[s * rows + i] + KPos[kf * ns + s], ld = LhsDil[s];
                    if (pos < 0) { off = -1; break; }
                    int x = pos;
                    if (ld != 1)
                    {
                        if (pos % ld != 0) { off = -1; break; }
                        x = pos / ld;
                    }
                    if (x >= InSize[s]) { off = -1; break; }
                    off += x * InStr[s];
                }
                t[i] = (int)off;
            }
        }
        if (ChannelsLast)
        {
            T* zeros = (T*)ThreadBuffers.Zeros(I * sizeof(T));
            var rowPtr = stackalloc T*[rows];
            for (int f = 0; f < kfCount; f++)
            {
                int kf = kfFirst + f;
                int kA = Math.Max(k0, kf * I), kB = Math.Min(k0 + kc, (kf + 1) * I);
                T* cs = Src + (long)(kA - kf * I) * SC;
                int* t = table + f * rows;
                for (int i = 0; i < rows; i++) rowPtr[i] = t[i] < 0 ? zeros : cs + t[i];
                CopyRuns(rowPtr, rows, kB - kA, dst + (kA - k0) * ldd, ldd);
            }
            return;
        }
        int ch = k0 / KProd, g = k0 % KProd;
        for (int k = 0; k < kc; k++)
        {
            T* d = dst + k * ldd;
            T* cs = Src + ch * SC;
            int* t = table + ((g - kfFirst + KProd) % KProd) * rows;
            for (int i = 0; i < rows; i++) { int off = t[i]; d[i] = off < 0 ? T.Zero : cs[off]; }
            if (++g == KProd) { g = 0; ch++; }
        }
    }

    // d[k * ldd + i] = rows[i][k * SC] for k < len: channel runs (contiguous when SC == 1) into the panel.
    readonly void CopyRuns(T** rowPtr, int rows, int len, T* d, long ldd)
    {
        if (typeof(T) == typeof(float) && rows == 8 && ldd == 8 && SC == 1)
        {
            var r = (float**)rowPtr;
            Transpose8.Pack(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], len, (float*)d);
            return;
        }
        for (int i = 0; i < rows; i++)
        {
            T* x = rowPtr[i];
            for (int k = 0; k < len; k++) d[k * ldd + i] = x[k * SC];
        }
    }
}

/// <summary>The float32 convolution operand as the A operand of <see cref="Sgemm"/>.</summary>
internal readonly unsafe struct ConvPackA(ConvOperand<float> x) : IPackA
{
    /// <inheritdoc/>
    public void Pack(int i0, int mc, int k0, int kc, int MR, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
            x.Pack(i0 + ir, Math.Min(MR, mc - ir), k0, kc, dst + (long)ir * kc, MR, MR);
    }
}
