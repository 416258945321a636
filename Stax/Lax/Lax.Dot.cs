namespace Stax;

public static partial class Lax
{
    /// <summary>
    /// <c>jax.lax.dot_general</c>: contracts <paramref name="lhsContracting"/> with
    /// <paramref name="rhsContracting"/> and maps over the paired batch dimensions. The result has the
    /// batch dimensions first, then the lhs free dimensions, then the rhs free dimensions.
    /// </summary>
    public static Tensor DotGeneral(Tensor lhs, Tensor rhs, int[] lhsContracting, int[] rhsContracting,
        int[]? lhsBatch = null, int[]? rhsBatch = null, DType? preferredElementType = null)
        => Prims.DotGeneral.Bind1(new DotGeneralParams(lhsContracting, rhsContracting, lhsBatch ?? Array.Empty<int>(),
            rhsBatch ?? Array.Empty<int>(), preferredElementType), lhs, rhs);

    /// <summary>
    /// <c>jax.lax.dot</c>: vector·vector (a scalar), matrix·vector or matrix·matrix, contracting the last
    /// dimension of <paramref name="lhs"/> with the first of <paramref name="rhs"/>.
    /// </summary>
    public static Tensor Dot(Tensor lhs, Tensor rhs, DType? preferredElementType = null)
    {
        if (lhs.Rank is < 1 or > 2 || rhs.Rank is < 1 or > 2)
            throw new ArgumentException($"dot: operands must be vectors or matrices, got shapes {lhs.Shape} and {rhs.Shape} (use DotGeneral or Np.Matmul for batches)");
        if (lhs.Shape[-1] != rhs.Shape[0])
            throw new ArgumentException($"dot: incompatible shapes {lhs.Shape} and {rhs.Shape}: lhs last dimension {lhs.Shape[-1]} must equal rhs first dimension {rhs.Shape[0]}");
        return DotGeneral(lhs, rhs, new[] { lhs.Rank - 1 }, new[] { 0 }, null, null, preferredElementType);
    }

    /// <summary>
    /// <c>jax.lax.conv_general_dilated</c> with explicit (low, high) padding per spatial dimension.
    /// Null dilations mean 1; null dimension numbers mean NCHW / OIHW / NCHW.
    /// </summary>
    public static Tensor ConvGeneralDilated(Tensor lhs, Tensor rhs, int[] windowStrides, (int Low, int High)[] padding,
        int[]? lhsDilation = null, int[]? rhsDilation = null, ConvDimensionNumbers? dimensionNumbers = null,
        int featureGroupCount = 1, int batchGroupCount = 1, DType? preferredElementType = null)
    {
        int ns = Math.Max(0, lhs.Rank - 2);
        var p = new ConvParams(windowStrides, padding.Select(x => x.Low).ToArray(), padding.Select(x => x.High).ToArray(),
            lhsDilation ?? Ones(ns), rhsDilation ?? Ones(ns), dimensionNumbers ?? ConvDimensionNumbers.Default(lhs.Rank),
            featureGroupCount, batchGroupCount, preferredElementType);
        return Prims.ConvGeneralDilated.Bind1(p, lhs, rhs);
    }

    /// <summary>
    /// <c>jax.lax.conv_general_dilated</c> with string padding: "VALID", "SAME" or "SAME_LOWER",
    /// resolved against the (rhs-dilated) kernel shape as <c>lax.padtype_to_pads</c> does.
    /// </summary>
    public static Tensor ConvGeneralDilated(Tensor lhs, Tensor rhs, int[] windowStrides, string padding,
        int[]? lhsDilation = null, int[]? rhsDilation = null, ConvDimensionNumbers? dimensionNumbers = null,
        int featureGroupCount = 1, int batchGroupCount = 1, DType? preferredElementType = null)
    {
        var dn = dimensionNumbers ?? ConvDimensionNumbers.Default(lhs.Rank);
        if (lhs.Rank != rhs.Rank || lhs.Rank < 2 || dn.LhsSpec.Length != lhs.Rank || dn.RhsSpec.Length != rhs.Rank)
            throw new ArgumentException($"conv_general_dilated: lhs {lhs.Shape} and rhs {rhs.Shape} must have the same rank (at least 2) as the dimension numbers {dn}");
        int ns = lhs.Rank - 2;
        var rd = rhsDilation ?? Ones(ns);
        if (rd.Length != ns || windowStrides.Length != ns)
            throw new ArgumentException($"conv_general_dilated: window_strides {Shape.Format(windowStrides)} and rhs_dilation {Shape.Format(rd)} must have {ns} entries for lhs {lhs.Shape}");
        var inSp = Enumerable.Range(0, ns).Select(i => lhs.Shape[dn.LhsSpec[2 + i]]).ToArray();
        var kSp = Enumerable.Range(0, ns).Select(i => { int k = rhs.Shape[dn.RhsSpec[2 + i]]; return k == 0 ? 0 : (k - 1) * rd[i] + 1; }).ToArray();
        var pads = PadtypeToPads(inSp, kSp, windowStrides, padding);
        return ConvGeneralDilated(lhs, rhs, windowStrides, pads, lhsDilation, rd, dn, featureGroupCount, batchGroupCount, preferredElementType);
    }

    /// <summary>
    /// Padding amounts for a padding name, as <c>lax.padtype_to_pads</c>: "VALID" pads nothing; "SAME"
    /// pads so that the output size is ceil(input / stride), putting the extra element at the end
    /// ("SAME_LOWER" puts it at the start).
    /// </summary>
    public static (int Low, int High)[] PadtypeToPads(int[] inShape, int[] windowShape, int[] strides, string padding)
    {
        var kind = padding.ToUpperInvariant();
        if (kind == "VALID") return inShape.Select(_ => (0, 0)).ToArray();
        if (kind != "SAME" && kind != "SAME_LOWER")
            throw new ArgumentException($"padtype_to_pads: unknown padding '{padding}'; expected 'SAME', 'SAME_LOWER' or 'VALID'");
        var r = new (int, int)[inShape.Length];
        for (int i = 0; i < inShape.Length; i++)
        {
            if (strides[i] < 1) throw new ArgumentException($"padtype_to_pads: strides {Shape.Format(strides)} must be positive");
            int outSize = (inShape[i] + strides[i] - 1) / strides[i];
            int pad = Math.Max(0, (outSize - 1) * strides[i] + windowShape[i] - inShape[i]);
            int lo = kind == "SAME" ? pad / 2 : pad - pad / 2;
            r[i] = (lo, pad - lo);
        }
        return r;
    }

    /// <summary><c>jax.lax.conv</c>: NCHW input, OIHW kernel, string padding, no dilation.</summary>
    public static Tensor Conv(Tensor lhs, Tensor rhs, int[] windowStrides, string padding, DType? preferredElementType = null)
        => ConvGeneralDilated(lhs, rhs, windowStrides, padding, preferredElementType: preferredElementType);

    /// <summary><c>jax.lax.conv_with_general_padding</c>: NCHW / OIHW with explicit padding and dilations.</summary>
    public static Tensor ConvWithGeneralPadding(Tensor lhs, Tensor rhs, int[] windowStrides, (int Low, int High)[] padding,
        int[]? lhsDilation = null, int[]? rhsDilation = null, DType? preferredElementType = null)
        => ConvGeneralDilated(lhs, rhs, windowStrides, padding, lhsDilation, rhsDilation, preferredElementType: preferredElementType);

    /// <summary>
    /// <c>jax.lax.conv_general_dilated</c> with layout strings such as ("NHWC", "HWIO", "NHWC") and
    /// string padding ("SAME" / "VALID").
    /// </summary>
    public static Tensor ConvWithGeneralDimensionNumbers(Tensor lhs, Tensor rhs, int[] windowStrides, string padding,
        (string Lhs, string Rhs, string Out) dimensionNumbers, int[]? lhsDilation = null, int[]? rhsDilation = null,
        int featureGroupCount = 1, int batchGroupCount = 1, DType? preferredElementType = null)
        => ConvGeneralDilated(lhs, rhs, windowStrides, padding, lhsDilation, rhsDilation,
            ConvDimensionNumbers.FromStrings(dimensionNumbers.Lhs, dimensionNumbers.Rhs, dimensionNumbers.Out),
            featureGroupCount, batchGroupCount, preferredElementType);

    /// <summary>As the other overload, with explicit (low, high) padding.</summary>
    public static Tensor ConvWithGeneralDimensionNumbers(Tensor lhs, Tensor rhs, int[] windowStrides, (int Low, int High)[] padding,
        (string Lhs, string Rhs, string Out) dimensionNumbers, int[]? lhsDilation = null, int[]? rhsDilation = null,
        int featureGroupCount = 1, int batchGroupCount = 1, DType? preferredElementType = null)
        => ConvGeneralDilated(lhs, rhs, windowStrides, padding, lhsDilation, rhsDilation,
            ConvDimensionNumbers.FromStrings(dimensionNumbers.Lhs, dimensionNumbers.Rhs, dimensionNumbers.Out),
            featureGroupCount, batchGroupCount, preferredElementType);

    static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();
}
