namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// A general convolution layer (stax's <c>GeneralConv</c>). <paramref name="dimensionNumbers"/>
    /// are layout strings such as ("NHWC", "HWIO", "NHWC"); <paramref name="filterShape"/> gives the
    /// window sizes of the spatial letters in the order they appear in the kernel spec. Parameters
    /// <c>{"w", "b"}</c>: the kernel has the kernel spec's layout (O = <paramref name="outChannels"/>,
    /// I = the input's C), the bias has size <paramref name="outChannels"/> at the output spec's C
    /// position and 1 elsewhere (e.g. (1, 1, 1, C) for NHWC). Defaults as stax: strides 1, "VALID"
    /// padding, glorot-normal weights over the kernel's I/O axes, normal(1e-6) bias.
    /// </summary>
    /// <param name="dimensionNumbers">Input, kernel and output layouts.</param>
    /// <param name="outChannels">Number of output features.</param>
    /// <param name="filterShape">Window size per spatial dimension.</param>
    /// <param name="strides">Window strides (null: all 1).</param>
    /// <param name="padding">"VALID", "SAME" or "SAME_LOWER" (as <see cref="Lax.PadtypeToPads"/>).</param>
    /// <param name="wInit">Kernel initializer (null: glorot normal with in/out axes from the kernel spec).</param>
    /// <param name="bInit">Bias initializer (null: normal(1e-6)).</param>
    public static Module GeneralConv((string Lhs, string Rhs, string Out) dimensionNumbers, int outChannels, int[] filterShape,
        int[]? strides = null, string padding = "VALID", Initializer? wInit = null, Initializer? bInit = null)
        => ConvLayer("GeneralConv", transpose: false, dimensionNumbers, outChannels, filterShape, strides, padding, wInit, bInit);

    /// <summary>
    /// A 2-D convolution on NHWC inputs with an HWIO kernel (stax's <c>Conv</c>): <see cref="GeneralConv"/>
    /// with ("NHWC", "HWIO", "NHWC").
    /// </summary>
    /// <param name="outChannels">Number of output features.</param>
    /// <param name="filterShape">Window (height, width).</param>
    /// <param name="strides">Window strides (null: all 1).</param>
    /// <param name="padding">"VALID" (default) or "SAME".</param>
    /// <param name="wInit">Kernel initializer (null: glorot normal over I = axis 2, O = axis 3).</param>
    /// <param name="bInit">Bias initializer (null: normal(1e-6)).</param>
    public static Module Conv(int outChannels, int[] filterShape, int[]? strides = null, string padding = "VALID",
        Initializer? wInit = null, Initializer? bInit = null)
        => ConvLayer("Conv", transpose: false, ("NHWC", "HWIO", "NHWC"), outChannels, filterShape, strides, padding, wInit, bInit);

    /// <summary>
    /// A general transposed convolution (stax's <c>GeneralConvTranspose</c>, computed as
    /// <c>lax.conv_transpose</c>: the input is dilated by the strides and convolved with stride 1,
    /// with the padding lax derives for "SAME" (output size = input × stride) or "VALID"
    /// (input × stride + max(window − stride, 0)); the kernel is not flipped). Parameters and
    /// defaults as <see cref="GeneralConv"/>.
    /// </summary>
    /// <param name="dimensionNumbers">Input, kernel and output layouts.</param>
    /// <param name="outChannels">Number of output features.</param>
    /// <param name="filterShape">Window size per spatial dimension.</param>
    /// <param name="strides">Strides of the forward convolution this transposes (null: all 1).</param>
    /// <param name="padding">"VALID" (default) or "SAME".</param>
    /// <param name="wInit">Kernel initializer (null: glorot normal with in/out axes from the kernel spec).</param>
    /// <param name="bInit">Bias initializer (null: normal(1e-6)).</param>
    public static Module GeneralConvTranspose((string Lhs, string Rhs, string Out) dimensionNumbers, int outChannels, int[] filterShape,
        int[]? strides = null, string padding = "VALID", Initializer? wInit = null, Initializer? bInit = null)
        => ConvLayer("GeneralConvTranspose", transpose: true, dimensionNumbers, outChannels, filterShape, strides, padding, wInit, bInit);

    /// <summary>A 2-D transposed convolution on NHWC inputs with an HWIO kernel (stax's <c>ConvTranspose</c>).</summary>
    /// <param name="outChannels">Number of output features.</param>
    /// <param name="filterShape">Window (height, width).</param>
    /// <param name="strides">Strides (null: all 1).</param>
    /// <param name="padding">"VALID" (default) or "SAME".</param>
    /// <param name="wInit">Kernel initializer.</param>
    /// <param name="bInit">Bias initializer.</param>
    public static Module ConvTranspose(int outChannels, int[] filterShape, int[]? strides = null, string padding = "VALID",
        Initializer? wInit = null, Initializer? bInit = null)
        => ConvLayer("ConvTranspose", transpose: true, ("NHWC", "HWIO", "NHWC"), outChannels, filterShape, strides, padding, wInit, bInit);

    /// <summary>A 1-D transposed convolution on NHC inputs with an HIO kernel (stax's <c>Conv1DTranspose</c>).</summary>
    /// <param name="outChannels">Number of output features.</param>
    /// <param name="filterShape">Window (length,).</param>
    /// <param name="strides">Strides (null: 1).</param>
    /// <param name="padding">"VALID" (default) or "SAME".</param>
    /// <param name="wInit">Kernel initializer.</param>
    /// <param name="bInit">Bias initializer.</param>
    public static Module Conv1DTranspose(int outChannels, int[] filterShape, int[]? strides = null, string padding = "VALID",
        Initializer? wInit = null, Initializer? bInit = null)
        => ConvLayer("Conv1DTranspose", transpose: true, ("NHC", "HIO", "NHC"), outChannels, filterShape, strides, padding, wInit, bInit);

    /// <summary>
    /// The (low, high) padding of one spatial dimension of a transposed convolution, as
    /// <c>lax._conv_transpose_padding</c> for window <paramref name="k"/> and stride <paramref name="s"/>.
    /// </summary>
    internal static (int Low, int High) ConvTransposePadding(int k, int s, string padding)
    {
        int total, low;
        if (padding == "SAME")
        {
            total = k + s - 2;
            low = s > k - 1 ? k - 1 : (total + 1) / 2;
        }
        else
        {
            total = k + s - 2 + Math.Max(k - s, 0);
            low = k - 1;
        }
        return (low, total - low);
    }

    static Module ConvLayer(string name, bool transpose, (string Lhs, string Rhs, string Out) dims, int outChannels, int[] filterShape,
        int[]? strides, string padding, Initializer? wInit, Initializer? bInit)
    {
        var (lhs, rhs, outSpec) = dims;
        if (lhs is null || rhs is null || outSpec is null)
            throw new ArgumentException($"{name}: dimension numbers must be three layout strings, e.g. (\"NHWC\", \"HWIO\", \"NHWC\")");
        ConvDimensionNumbers dn;
        try { dn = ConvDimensionNumbers.FromStrings(lhs, rhs, outSpec); }
        catch (ArgumentException e) { throw new ArgumentException($"{name}: invalid dimension numbers ('{lhs}', '{rhs}', '{outSpec}'): {e.Message}", e); }
        int ns = lhs.Length - 2;
        if (ns < 0 || lhs.Length < 2)
            throw new ArgumentException($"{name}: dimension numbers need at least the two letters N and C, got '{lhs}'");
        if (outChannels <= 0) throw new ArgumentException($"{name}: outChannels must be positive, got {outChannels}");
        if (filterShape is null || filterShape.Length != ns)
            throw new ArgumentException($"{name}: filterShape must have {ns} entries (one per spatial dimension of '{rhs}'), got {(filterShape is null ? "null" : Shape.Format(filterShape))}");
        if (filterShape.Any(k => k <= 0))
            throw new ArgumentException($"{name}: filterShape entries must be positive, got {Shape.Format(filterShape)}");
        var st = strides ?? Enumerable.Repeat(1, ns).ToArray();
        if (st.Length != ns || st.Any(s => s <= 0))
            throw new ArgumentException($"{name}: strides must be {ns} positive integers, got {Shape.Format(st)}");
        st = (int[])st.Clone();
        var fs = (int[])filterShape.Clone();
        var pad = (padding ?? "").ToUpperInvariant();
        if (transpose ? pad is not ("SAME" or "VALID") : pad is not ("SAME" or "VALID" or "SAME_LOWER"))
            throw new ArgumentException($"{name}: padding must be {(transpose ? "'SAME' or 'VALID'" : "'SAME', 'SAME_LOWER' or 'VALID'")}, got '{padding}'");
        var wi = wInit ?? Initializers.GlorotNormal(rhs.IndexOf('I'), rhs.IndexOf('O'));
        var bi = bInit ?? Initializers.Normal(1e-6);
        int lhsC = lhs.IndexOf('C');

        return Module.Leaf(name,
            (input, key) =>
            {
                if (input.Rank != lhs.Length)
                    throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: expected an input of rank {lhs.Length} (layout '{lhs}'), got {input}");
                int inChannels = input.Shape[lhsC];
                int next = 0;
                var kernel = rhs.Select(c => c == 'O' ? outChannels : c == 'I' ? inChannels : fs[next++]).ToArray();
                var bias = outSpec.Select(c => c == 'C' ? outChannels : 1).ToArray();
                var dtype = input.DType.IsFloat() ? input.DType : DType.Float32;
                var (k1, k2) = key;
                var p = new Dictionary<string, Tensor>
                {
                    ["w"] = wi(k1, new Shape(kernel), dtype),
                    ["b"] = bi(k2, new Shape(bias), dtype),
                };
                return (p, null);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                var w = p["w"];
                if (t.Rank != lhs.Length)
                    throw new ArgumentException($"{ctx.Path}: expected an input of rank {lhs.Length} (layout '{lhs}'), got shape {t.Shape}");
                int wantC = w.Shape[rhs.IndexOf('I')];
                if (t.Shape[lhsC] != wantC)
                    throw new ArgumentException($"{ctx.Path}: expected {wantC} input channels at axis {lhsC} (layout '{lhs}'), got shape {t.Shape}");
                if (t.DType != w.DType) t = Lax.ConvertElementType(t, w.DType);
                Tensor y;
                if (!transpose)
                    y = Lax.ConvGeneralDilated(t, w, st, pad, dimensionNumbers: dn);
                else
                {
                    // lax.conv_transpose: dilate the input by the strides, convolve with stride 1.
                    var pads = new (int, int)[ns];
                    for (int i = 0; i < ns; i++) pads[i] = ConvTransposePadding(w.Shape[dn.RhsSpec[2 + i]], st[i], pad);
                    y = Lax.ConvGeneralDilated(t, w, Enumerable.Repeat(1, ns).ToArray(), pads, lhsDilation: st, dimensionNumbers: dn);
                }
                return y + p["b"];
            });
    }
}
