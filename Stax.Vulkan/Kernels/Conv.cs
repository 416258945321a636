namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int MaxConvSpatial = 3;
    /// <summary>Ints in a convolution's geometry block (see shaders/gemm.glsl).</summary>
    const int ConvGeometryInts = 10 + 9 * MaxConvSpatial;

    /// <summary>
    /// Which operand of the implicit GEMM the convolution input is: 0 chooses (the input is A, rows =
    /// output positions, when the output's feature dimension is contiguous; otherwise B), 1 forces B,
    /// 2 forces A. A switch for tests and benchmarks.
    /// </summary>
    internal static int ConvOperandOverride = 0;

    /// <summary>Most output positions one dispatch covers (the grid allows 65535 tiles of 64); tests lower it.</summary>
    internal static long ConvPositionsPerDispatch = 65535L * 64;

    /// <summary>Transposes <paramref name="x"/> into the dimension order <paramref name="perm"/> (no copy when it is the identity).</summary>
    VulkanBuffer Permuted(VulkanBuffer x, Shape s, int[] perm, string op, out bool owned)
    {
        owned = false;
        // Only the order of the non-unit dims matters.
        var nonUnit = perm.Where(d => s[d] != 1).ToArray();
        bool identity = nonUnit.SequenceEqual(nonUnit.OrderBy(d => d));
        if (identity || x.Length == 0) return x;
        var st = Strides(s);
        var dims = perm.Select(d => (long)s[d]).ToArray();
        var r = Allocate(x.DType, x.Length);
        StridedCopy(r, x, dims, perm.Select(d => st[d]).ToArray(), 0, StridesOf(dims), 0, op);
        owned = true;
        return r;
    }

    /// <summary>
    /// True when the dims <paramref name="dims"/> (outermost first) enumerate elements at one
    /// uniform step <paramref name="step"/>, i.e. they can be flattened into one strided index.
    /// </summary>
    static bool Flattens(Shape s, long[] st, int[] dims, out long step)
    {
        step = 1;
        long expect = -1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            int d = dims[i];
            if (s[d] == 1) continue;
            if (expect >= 0 && st[d] != expect) return false;
            if (expect < 0) step = st[d];
            expect = st[d] * s[d];
        }
        return true;
    }

    /// <summary>
    /// conv_general_dilated as an implicit GEMM (shaders/gemm.glsl, CONV mode), one dispatch per
    /// group batch: per group, out[o, position] = Σ_k W[o, k] · X[k, position] where X is the
    /// im2col matrix of the input. X is never stored: the GEMM reads each of its elements straight
    /// from the input (in its own layout, through strides) at the index computed from (k, position),
    /// and writes the result straight into the output layout. The weights are read in place when
    /// their (input feature, kernel) dims flatten to one stride (OIHW, HWIO, ...), otherwise
    /// transposed once. Only the operands' dtype conversion (int32/float32 mixes) and that weight
    /// transpose allocate; the geometry goes to the shader in a small buffer.
    /// </summary>
    void Conv(ConvParams p, VulkanBuffer lhs, VulkanBuffer rhs, Shape ls, Shape rs, VulkanBuffer output, Shape os)
    {
        const string op = "conv_general_dilated";
        if (output.Length == 0) return;
        var dn = p.DimensionNumbers;
        int S = ls.Rank - 2;
        if (S > MaxConvSpatial)
            throw new NotSupportedException($"{op}: the Vulkan backend supports at most {MaxConvSpatial} spatial dimensions, got {S}");
        var work = output.DType;
        if (work is not (DType.Float32 or DType.Int32)) throw DTypeNotSupported(op, work);

        int N = ls[dn.LhsSpec[0]], O = rs[dn.RhsSpec[0]], I = rs[dn.RhsSpec[1]];
        int G = p.FeatureGroupCount, BG = p.BatchGroupCount;
        int groups = G * BG;                // one of them is 1
        int Og = O / groups;
        int nimg = N / BG;                  // output images
        var inSp = new int[S]; var outSp = new int[S]; var kSp = new int[S];
        for (int d = 0; d < S; d++) { inSp[d] = ls[dn.LhsSpec[2 + d]]; kSp[d] = rs[dn.RhsSpec[2 + d]]; outSp[d] = os[dn.OutSpec[2 + d]]; }
        long P = outSp.Aggregate(1L, (a, b) => a * b), KS = kSp.Aggregate(1L, (a, b) => a * b);
        long K = I * KS;
        if (K == 0)
        {
            long serial = Stream.Fill(Bind(output), (ulong)(output.Length * 4), 0);
            output.LastUse = serial;
            return;
        }

        bool convL = lhs.DType != work, convR = rhs.DType != work;
        var x = convL ? Convert(lhs, work) : lhs;
        var r0 = convR ? Convert(rhs, work) : rhs;
        var xs = Strides(ls); var ws = Strides(rs); var ost = Strides(os);
        int mode = ConvOperandOverride != 0 ? ConvOperandOverride : ost[dn.OutSpec[1]] == 1 ? 2 : 1;

        // Weights as [groups][Og, K] (mode 1) or [groups][K, Og] (mode 2): k enumerates (channel,
        // tap) with the tap innermost (KORD 0) or the channel innermost (KORD 1), whichever the
        // layout flattens; otherwise transpose to [O, I, taps] (mode 1) or [taps, I, O] (mode 2).
        int wO = dn.RhsSpec[0], wI = dn.RhsSpec[1];
        var wSp = Enumerable.Range(0, S).Select(d => dn.RhsSpec[2 + d]).ToArray();
        var chanFirst = wSp.Prepend(wI).ToArray();
        var tapsFirst = wSp.Append(wI).ToArray();
        var w = r0;
        bool ownW = false;
        long wStrO = ws[wO], kStep;
        int kord;
        var (first, second) = mode == 2 ? ((tapsFirst, 1), (chanFirst, 0)) : ((chanFirst, 0), (tapsFirst, 1));
        if (Flattens(rs, ws, first.Item1, out kStep)) kord = first.Item2;
        else if (Flattens(rs, ws, second.Item1, out kStep)) kord = second.Item2;
        else if (mode == 1)
        {
            w = Permuted(r0, rs, chanFirst.Prepend(wO).ToArray(), op, out ownW);
            kord = 0; wStrO = K; kStep = 1;
        }
        else
        {
            w = Permuted(r0, rs, tapsFirst.Append(wO).ToArray(), op, out ownW);
            kord = 1; wStrO = 1; kStep = O;
        }

        var geo = new int[ConvGeometryInts];
        geo[0] = I; geo[1] = checked((int)KS); geo[2] = kord; geo[3] = checked((int)P);
        geo[4] = checked((int)xs[dn.LhsSpec[0]]); geo[5] = checked((int)xs[dn.LhsSpec[1]]);
        geo[6] = checked((int)ost[dn.OutSpec[0]]); geo[7] = checked((int)ost[dn.OutSpec[1]]);
        geo[8] = checked((int)(BG > 1 ? nimg * xs[dn.LhsSpec[0]] : I * xs[dn.LhsSpec[1]]));
        bool ldil = false, check = false;
        for (int d = 0; d < S; d++)
        {
            int ld = p.LhsDilation[d], rd = p.RhsDilation[d], st = p.WindowStrides[d], pad = p.PaddingLow[d];
            int o = 10 + 9 * d;
            geo[o] = inSp[d]; geo[o + 1] = outSp[d]; geo[o + 2] = kSp[d]; geo[o + 3] = st; geo[o + 4] = pad;
            geo[o + 5] = ld; geo[o + 6] = rd;
            geo[o + 7] = checked((int)xs[dn.LhsSpec[2 + d]]); geo[o + 8] = checked((int)ost[dn.OutSpec[2 + d]]);
            // Every tap of every output position lies inside the input: no bounds checks needed.
            long lo = -(long)pad, hi = (long)(outSp[d] - 1) * st + (long)(kSp[d] - 1) * rd - pad;
            if (ld > 1) ldil = true;
            if (ld > 1 || lo < 0 || hi >= inSp[d]) check = true;
        }
        var gb = Allocate(DType.Int32, geo.Length);
        gb.LastUse = Stream.Update(Bind(gb), System.Runtime.InteropServices.MemoryMarshal.AsBytes(geo.AsSpan()));

        long positions = nimg * P;
        int cBatch = checked(Og * geo[7]);
        if (GemmKernelInUse() == GemmKernel.Tiled)
        {
            // Weights as a strided matrix view (A [Og, K] in mode 1, B [K, Og] in mode 2), offsets per pass added below.
            var wv = mode == 1 ? new MatrixView(0, Og * wStrO, wStrO, kStep) : new MatrixView(0, Og * wStrO, kStep, wStrO);
            ConvTiled(mode, output, x, w, gb, wv, groups, Og, positions, K, cBatch,
                      new[] { S, ldil ? 1 : 0, check ? 1 : 0, kord });
        }
        else ConvBlocked(mode, output, x, w, gb, groups, Og, positions, K, cBatch, wStrO, kStep, geo, S, ldil, check, kord);
        gb.Dispose();
        if (ownW) w.Dispose();
        if (convL) x.Dispose();
        if (convR) r0.Dispose();
    }

    /// <summary>The convolution's implicit GEMM on the register-blocked kernel (shaders/gemm.glsl).</summary>
    void ConvBlocked(int mode, VulkanBuffer output, VulkanBuffer x, VulkanBuffer w, VulkanBuffer gb, int groups, int Og,
                     long positions, long K, int cBatch, long wStrO, long kStep, int[] geo, int S, bool ldil, bool check,
                     int kord)
    {
        const string op = "conv_general_dilated";
        var work = output.DType;
        string shader = work == DType.Float32 ? "gemm_f32" : "gemm_i32";
        // Mode 2 with aligned 4-wide weight rows and output rows (features contiguous, every offset a multiple of 4).
        bool vec4 = mode == 2 && UseVec4Gemm && Og % 4 == 0 && wStrO == 1 && kStep % 4 == 0 && geo[7] == 1 && geo[6] % 4 == 0
            && Enumerable.Range(0, S).All(d => geo[10 + 9 * d + 8] % 4 == 0);
        var spec = new[] { vec4 ? 1 : 0, mode, S, ldil ? 1 : 0, check ? 1 : 0, kord };
        long chunk = Math.Max(1, ConvPositionsPerDispatch);
        if ((Og + 63) / 64 > 65535)
            throw new NotSupportedException($"{op}: {Og} output features per group are too many for one Vulkan dispatch grid");
        for (long k0 = 0; k0 < K; k0 += GemmKChunk)
        {
            int kc = (int)Math.Min(GemmKChunk, K - k0);
            int wOff = checked((int)(k0 * kStep));
            for (long b0 = 0; b0 < groups; b0 += 65535)
            {
                uint gz = (uint)Math.Min(65535, groups - b0);
                for (long j0 = 0; j0 < positions; j0 += chunk)
                {
                    int np = (int)Math.Min(chunk, positions - j0);
                    int[] push = mode == 1
                        ? new[] { Og, np, kc, wOff, checked((int)(Og * wStrO)), checked((int)wStrO), checked((int)kStep), 0, 0, 0, 0, cBatch, k0 > 0 ? 1 : 0, (int)b0, (int)k0, (int)j0 }
                        : new[] { np, Og, kc, 0, 0, 0, 0, wOff, checked((int)(Og * wStrO)), checked((int)kStep), checked((int)wStrO), cBatch, k0 > 0 ? 1 : 0, (int)b0, (int)k0, (int)j0 };
                    uint gx = (uint)((push[1] + 63) / 64), gy = (uint)((push[0] + 63) / 64);
                    var bufs = mode == 1 ? new VulkanBuffer?[] { output, w, x, gb } : new VulkanBuffer?[] { output, x, w, gb };
                    Run(shader, spec, bufs, push, gx, gy, gz);
                }
            }
        }
    }

    /// <summary>
    /// The convolution's implicit GEMM on the shared-memory tiled kernel (shaders/gemm_tiled.glsl, CONV
    /// mode): the weights <paramref name="wv"/> are the strided operand, the input the im2col one.
    /// <paramref name="flags"/> are the spatial rank, lhs dilation, bounds check and k order constants.
    /// Split-K as for matrix products (a kernel's gradient has few outputs and a contraction over the batch
    /// and every position): slice s writes its partial result in the output's own layout at s times the
    /// output's length in a scratch buffer, and a second dispatch adds the slices in order into the output.
    /// </summary>
    void ConvTiled(int mode, VulkanBuffer output, VulkanBuffer x, VulkanBuffer w, VulkanBuffer gb, MatrixView wv, int groups,
                   int Og, long positions, long K, int cBatch, int[] flags)
    {
        const string op = "conv_general_dilated";
        long m = mode == 1 ? Og : positions, n = mode == 1 ? positions : Og;
        var (tile, slices, sliceK) = TiledPlan(groups, m, n, K);
        long featureTiles = mode == 1 ? (Og + tile.BM - 1) / tile.BM : (Og + tile.BN - 1) / tile.BN;
        if (featureTiles > 65535)
            throw new NotSupportedException($"{op}: {Og} output features per group are too many for one Vulkan dispatch grid");
        long chunk = Math.Max(1, Math.Min(ConvPositionsPerDispatch, 65535L * (mode == 1 ? tile.BN : tile.BM)));
        var none = new MatrixView(0, 0, 0, 0);
        var spec = TiledSpec(tile, mode == 1 ? wv : none, mode == 1 ? none : wv, m, n, K, mode).Concat(flags).ToArray();
        string shader = output.DType == DType.Float32 ? "gemm_tiled_f32" : "gemm_tiled_i32";
        VulkanBuffer? scratch = slices > 1 ? Allocate(output.DType, slices * output.Length) : null;
        var bufs = mode == 1 ? new[] { scratch ?? output, w, x, gb } : new[] { scratch ?? output, x, w, gb };
        long passK = TiledStepsPerPass * tile.BK;
        long groupChunk = 65535 / slices;
        for (long k0 = 0; k0 < K; k0 += passK)
        {
            int kc = (int)Math.Min(passK, K - k0);
            int wOff = checked((int)(k0 * (mode == 1 ? wv.Col : wv.Row)));
            for (long b0 = 0; b0 < groups; b0 += groupChunk)
            {
                uint gz = (uint)(Math.Min(groupChunk, groups - b0) * slices);
                for (long j0 = 0; j0 < positions; j0 += chunk)
                {
                    int np = (int)Math.Min(chunk, positions - j0);
                    int rows = mode == 1 ? Og : np, cols = mode == 1 ? np : Og;
                    var (av, bv) = mode == 1 ? (wv with { Off = wOff }, none) : (none, wv with { Off = wOff });
                    int[] push =
                    {
                        rows, cols, kc, (int)av.Off, checked((int)av.Batch), checked((int)av.Row), checked((int)av.Col),
                        (int)bv.Off, checked((int)bv.Batch), checked((int)bv.Row), checked((int)bv.Col), cBatch, k0 > 0 ? 1 : 0,
                        (int)b0, (int)sliceK, slices, checked((int)output.Length), checked((int)(b0 * cBatch)), (int)k0, (int)j0,
                    };
                    Interlocked.Increment(ref TiledGemmDispatches);
                    uint gx = (uint)((cols + tile.BN - 1) / tile.BN), gy = (uint)((rows + tile.BM - 1) / tile.BM);
                    Run(shader, spec, bufs, push, gx, gy, gz);
                }
            }
            if (scratch != null) SumSlices(output, scratch, output.Length, slices, k0 > 0, 0);
        }
        scratch?.Dispose();
    }

    static partial void RegisterConv()
    {
        Kernels[Prims.ConvGeneralDilated] = (b, p, ins, outs, it, ot) =>
            b.Conv((ConvParams)p, ins[0], ins[1], it[0].Shape, it[1].Shape, outs[0], ot[0].Shape);
    }
}
