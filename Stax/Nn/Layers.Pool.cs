namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Max pooling (stax's <c>MaxPool</c>): the maximum over windows of the spatial dimensions;
    /// padded positions never win (they are −∞).
    /// </summary>
    /// <param name="windowShape">Window size per spatial dimension.</param>
    /// <param name="strides">Window strides (null: all 1, as stax — not the window size as in Keras/PyTorch).</param>
    /// <param name="padding">"VALID" (default), "SAME" or "SAME_LOWER", as <see cref="Lax.PadtypeToPads"/>.</param>
    /// <param name="spec">Input layout such as "NHWC" or "NCHW" (null: batch first, channels last).</param>
    public static Module MaxPool(int[] windowShape, int[]? strides = null, string padding = "VALID", string? spec = null)
        => Pooling("MaxPool", PoolKind.Max, windowShape, strides, padding, spec);

    /// <summary>Sum pooling (stax's <c>SumPool</c>): the sum over windows; padding adds zeros.</summary>
    /// <param name="windowShape">Window size per spatial dimension.</param>
    /// <param name="strides">Window strides (null: all 1, as stax).</param>
    /// <param name="padding">"VALID" (default), "SAME" or "SAME_LOWER".</param>
    /// <param name="spec">Input layout such as "NHWC" (null: batch first, channels last).</param>
    public static Module SumPool(int[] windowShape, int[]? strides = null, string padding = "VALID", string? spec = null)
        => Pooling("SumPool", PoolKind.Sum, windowShape, strides, padding, spec);

    /// <summary>
    /// Average pooling (stax's <c>AvgPool</c>): the window sum divided by the number of valid
    /// (non-padding) elements of each window, so "SAME" padding does not pull edge averages to 0.
    /// </summary>
    /// <param name="windowShape">Window size per spatial dimension.</param>
    /// <param name="strides">Window strides (null: all 1, as stax).</param>
    /// <param name="padding">"VALID" (default), "SAME" or "SAME_LOWER".</param>
    /// <param name="spec">Input layout such as "NHWC" (null: batch first, channels last).</param>
    public static Module AvgPool(int[] windowShape, int[]? strides = null, string padding = "VALID", string? spec = null)
        => Pooling("AvgPool", PoolKind.Avg, windowShape, strides, padding, spec);

    enum PoolKind { Max, Sum, Avg }

    static Module Pooling(string name, PoolKind kind, int[] windowShape, int[]? strides, string padding, string? spec)
    {
        if (windowShape is null || windowShape.Length == 0 || windowShape.Any(k => k <= 0))
            throw new ArgumentException($"{name}: windowShape must be one or more positive sizes, got {(windowShape is null ? "null" : Shape.Format(windowShape))}");
        int ns = windowShape.Length;
        var st = strides ?? Enumerable.Repeat(1, ns).ToArray();
        if (st.Length != ns || st.Any(s => s <= 0))
            throw new ArgumentException($"{name}: strides must be {ns} positive integers (one per window dimension), got {Shape.Format(st)}");
        var pad = (padding ?? "").ToUpperInvariant();
        if (pad is not ("SAME" or "VALID" or "SAME_LOWER"))
            throw new ArgumentException($"{name}: padding must be 'SAME', 'SAME_LOWER' or 'VALID', got '{padding}'");
        int nAxis, cAxis;
        if (spec is null) { nAxis = 0; cAxis = ns + 1; }
        else
        {
            nAxis = spec.IndexOf('N');
            cAxis = spec.IndexOf('C');
            if (nAxis < 0 || cAxis < 0 || spec.Length != ns + 2 || spec.Distinct().Count() != spec.Length)
                throw new ArgumentException($"{name}: spec '{spec}' must name N, C and {ns} spatial dimensions with distinct letters");
        }
        // Window dimensions and strides over the full rank: 1 at the batch and channel axes.
        var window = new List<int>(windowShape);
        var strideList = new List<int>(st);
        foreach (var i in new[] { nAxis, cAxis }.OrderBy(i => i))
        {
            window.Insert(i, 1);
            strideList.Insert(i, 1);
        }
        var fullWindow = window.ToArray();
        var fullStrides = strideList.ToArray();
        var spatial = Enumerable.Range(0, ns + 2).Where(i => i != nAxis && i != cAxis).ToArray();
        var ws = (int[])windowShape.Clone();
        var sst = (int[])st.Clone();

        return Module.Leaf(name,
            (input, key) =>
            {
                if (input.Rank != ns + 2)
                    throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: a {ns}-D window needs an input of rank {ns + 2}, got {input}");
                return (Array.Empty<object?>(), null);
            },
            (parameters, x, rng, ctx) =>
            {
                var t = (Tensor)x;
                if (t.Rank != ns + 2)
                    throw new ArgumentException($"{ctx.Path}: a {ns}-D window {Shape.Format(ws)} needs an input of rank {ns + 2}, got shape {t.Shape}");
                var pads = Lax.PadtypeToPads(t.Shape.ToArray(), fullWindow, fullStrides, pad);
                for (int i = 0; i < t.Rank; i++)
                    if (t.Shape[i] + pads[i].Low + pads[i].High < fullWindow[i])
                        throw new ArgumentException($"{ctx.Path}: window {Shape.Format(fullWindow)} is larger than the (padded) input {t.Shape} at axis {i}");
                switch (kind)
                {
                    case PoolKind.Max: return Lax.ReduceWindowMax(t, fullWindow, fullStrides, pads);
                    case PoolKind.Sum: return Lax.ReduceWindowSum(t, fullWindow, fullStrides, pads);
                }
                var sum = Lax.ReduceWindowSum(t, fullWindow, fullStrides, pads);
                return sum / WindowCounts(t, spatial, ws, sst, pads.Where((_, i) => spatial.Contains(i)).ToArray(), sum.Shape);
            });
    }

    // The number of non-padding elements in each window (stax's _normalize_by_window_size), a
    // constant built on the host: the product over spatial dimensions of the per-dimension counts,
    // shaped with 1 at the batch and channel axes.
    static Tensor WindowCounts(Tensor x, int[] spatial, int[] window, int[] strides, (int Low, int High)[] pads, Shape outShape)
    {
        int ns = spatial.Length;
        var perDim = new int[ns][];
        var outSp = new int[ns];
        for (int d = 0; d < ns; d++)
        {
            int n = x.Shape[spatial[d]], o = outShape[spatial[d]];
            outSp[d] = o;
            perDim[d] = new int[o];
            for (int i = 0; i < o; i++)
            {
                int start = i * strides[d] - pads[d].Low;
                perDim[d][i] = Math.Max(0, Math.Min(start + window[d], n) - Math.Max(start, 0));
            }
        }
        long total = outSp.Aggregate(1L, (a, b) => a * b);
        var data = new double[total];
        var idx = new int[ns];
        for (long f = 0; f < total; f++)
        {
            long rem = f;
            double c = 1;
            for (int d = ns - 1; d >= 0; d--)
            {
                idx[d] = (int)(rem % outSp[d]);
                rem /= outSp[d];
                c *= perDim[d][idx[d]];
            }
            data[f] = c;
        }
        var full = new int[x.Rank];
        for (int i = 0; i < full.Length; i++) full[i] = 1;
        for (int d = 0; d < ns; d++) full[spatial[d]] = outSp[d];
        var counts = Tensor.FromArray(data, full);
        var dtype = x.DType.IsFloat() ? x.DType : DType.Float32;
        return dtype == DType.Float64 ? counts : Lax.ConvertElementType(counts, dtype);
    }
}
