namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int MaxConvSpatial = 3;
    /// <summary>Largest im2col buffer (elements) per chunk of images: 16M floats = 64 MiB (tests lower it).</summary>
    internal static long Im2colBudget = 16L << 20;

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
    /// conv_general_dilated as im2col + batched GEMM: the lhs is brought to [N, C, spatial...] and
    /// the rhs to [O, I, spatial...] (transposes only when the layout differs), then for chunks of
    /// output images the column matrix [groups, I·KS, images·P] is built and multiplied by the
    /// [groups, O/groups, I·KS] weights; the [O, images, P] result is copied into the output layout.
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
        bool convL = lhs.DType != work, convR = rhs.DType != work;
        var l0 = convL ? Convert(lhs, work) : lhs;
        var r0 = convR ? Convert(rhs, work) : rhs;
        var x = Permuted(l0, ls, dn.LhsSpec.ToArray(), op, out bool ownX);
        var w = Permuted(r0, rs, dn.RhsSpec.ToArray(), op, out bool ownW);

        int N = ls[dn.LhsSpec[0]], C = ls[dn.LhsSpec[1]], O = rs[dn.RhsSpec[0]], I = rs[dn.RhsSpec[1]];
        int G = p.FeatureGroupCount, BG = p.BatchGroupCount;
        int groups = G * BG;                // one of them is 1
        int Og = O / groups;
        int nimg = N / BG;                  // output images
        var inSp = new int[S]; var outSp = new int[S]; var kSp = new int[S];
        for (int d = 0; d < S; d++) { inSp[d] = ls[dn.LhsSpec[2 + d]]; kSp[d] = rs[dn.RhsSpec[2 + d]]; outSp[d] = os[dn.OutSpec[2 + d]]; }
        long P = outSp.Aggregate(1L, (a, b) => a * b), KS = kSp.Aggregate(1L, (a, b) => a * b);
        long K = I * KS;
        long perImage = groups * K * P;
        int chunk = (int)Math.Max(1, Math.Min(nimg, Im2colBudget / Math.Max(1, perImage)));

        var outStr = Strides(os);
        var push = new int[29];
        push[1] = S; push[3] = checked((int)P); push[4] = checked((int)KS); push[5] = I; push[6] = C; push[7] = nimg;
        push[8] = BG > 1 ? 1 : 0; push[10] = checked((int)K);
        for (int d = 0; d < S; d++)
        {
            int ld = p.LhsDilation[d], rd = p.RhsDilation[d];
            if (ld > 0xFFFF || rd > 0x7FFF) throw new NotSupportedException($"{op}: dilations above 32767 are not supported on Vulkan");
            push[11 + 6 * d] = inSp[d]; push[12 + 6 * d] = outSp[d]; push[13 + 6 * d] = kSp[d];
            push[14 + 6 * d] = p.WindowStrides[d]; push[15 + 6 * d] = p.PaddingLow[d]; push[16 + 6 * d] = ld | rd << 16;
        }
        for (int n0 = 0; n0 < nimg; n0 += chunk)
        {
            int nc = Math.Min(chunk, nimg - n0);
            long cols = (long)nc * P;
            long total = groups * K * cols;
            var col = Allocate(work, total);
            push[0] = checked((int)total); push[2] = n0; push[9] = checked((int)cols);
            Run("im2col", Array.Empty<int>(), new[] { col, x }, push, total);
            var res = Allocate(work, (long)O * cols);
            Gemm(res, w, new MatrixView(0, Og * K, K, 1), col, new MatrixView(0, K * cols, cols, 1), groups, Og, cols, K);
            // res is [O, nc, spatial...]; copy into the output layout.
            var dims = new long[2 + S];
            var dstStr = new long[2 + S];
            dims[0] = O; dims[1] = nc; dstStr[0] = outStr[dn.OutSpec[1]]; dstStr[1] = outStr[dn.OutSpec[0]];
            for (int d = 0; d < S; d++) { dims[2 + d] = outSp[d]; dstStr[2 + d] = outStr[dn.OutSpec[2 + d]]; }
            StridedCopy(output, res, dims, StridesOf(dims), 0, dstStr, n0 * outStr[dn.OutSpec[0]], op);
            col.Dispose();
            res.Dispose();
        }
        if (ownX) x.Dispose();
        if (ownW) w.Dispose();
        if (convL) l0.Dispose();
        if (convR) r0.Dispose();
    }

    static partial void RegisterConv()
    {
        Kernels[Prims.ConvGeneralDilated] = (b, p, ins, outs, it, ot) =>
            b.Conv((ConvParams)p, ins[0], ins[1], it[0].Shape, it[1].Shape, outs[0], ot[0].Shape);
    }
}
