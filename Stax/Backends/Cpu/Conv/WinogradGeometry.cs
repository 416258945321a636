namespace Stax.Backends.Cpu.Conv;

/// <summary>
/// A 2-D, stride-1, undilated, ungrouped float32 convolution in element strides, as the Winograd
/// kernels see it: out[n, y, x, o] = sum over (ky, kx, c) of in[n, y + ky - PadH, x + kx - PadW, c]
/// * w[ky, kx, c, o], whatever the dimension numbers put where.
/// </summary>
internal sealed class WinogradGeometry
{
    public int N, C, O, H, W, KH, KW, Ho, Wo, PadH, PadW;
    public long XN, XC, XH, XW;
    public long WO, WI, WH, WW;
    public long YN, YC, YH, YW;

    /// <summary>
    /// The geometry of a convolution when one of the Winograd kernels applies to it, else null:
    /// two spatial dims, unit strides and dilations, one group (the caller checks the dtype and the
    /// kernel shape, e.g. <see cref="IsForward3x3"/>).
    /// </summary>
    public static WinogradGeometry? For(Shape ls, Shape rs, Shape os, ConvParams p)
    {
        var dn = p.DimensionNumbers;
        if (ls.Rank != 4 || p.FeatureGroupCount != 1 || p.BatchGroupCount != 1) return null;
        for (int i = 0; i < 2; i++)
            if (p.WindowStrides[i] != 1 || p.LhsDilation[i] != 1 || p.RhsDilation[i] != 1) return null;
        var l = ls.Strides(); var r = rs.Strides(); var o = os.Strides();
        var g = new WinogradGeometry
        {
            N = ls[dn.LhsSpec[0]], C = ls[dn.LhsSpec[1]], H = ls[dn.LhsSpec[2]], W = ls[dn.LhsSpec[3]],
            O = rs[dn.RhsSpec[0]], KH = rs[dn.RhsSpec[2]], KW = rs[dn.RhsSpec[3]],
            Ho = os[dn.OutSpec[2]], Wo = os[dn.OutSpec[3]], PadH = p.PaddingLow[0], PadW = p.PaddingLow[1],
            XN = l[dn.LhsSpec[0]], XC = l[dn.LhsSpec[1]], XH = l[dn.LhsSpec[2]], XW = l[dn.LhsSpec[3]],
            WO = r[dn.RhsSpec[0]], WI = r[dn.RhsSpec[1]], WH = r[dn.RhsSpec[2]], WW = r[dn.RhsSpec[3]],
            YN = o[dn.OutSpec[0]], YC = o[dn.OutSpec[1]], YH = o[dn.OutSpec[2]], YW = o[dn.OutSpec[3]],
        };
        if (g.N == 0 || g.C == 0 || g.O == 0 || g.Ho <= 0 || g.Wo <= 0) return null;
        return g;
    }

    /// <summary>A 3x3 kernel with enough channels for the transforms to pay off, and few enough that
    /// the transformed kernel (16 x C x O floats, read once per block of tiles) stays in cache.</summary>
    public bool IsForward3x3 => KH == 3 && KW == 3 && C >= 8 && O >= 8 && (long)C * O <= 1 << 16 && Ho >= 2 && Wo >= 2;
}
