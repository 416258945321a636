using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Shared helpers for the layer tests.</summary>
static class L
{
    public static AbstractValue Spec(params int[] shape) => new(new Shape(shape), DType.Float32);
    public static AbstractValue Spec64(params int[] shape) => new(new Shape(shape), DType.Float64);
    public static Dictionary<string, Tensor> D(object? p) => (Dictionary<string, Tensor>)p!;
    public static object?[] A(object? p) => (object?[])p!;
    public static Tensor X(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -2, 2);

    /// <summary>Classic stax init: output shape and parameters for an input shape with -1 allowed.</summary>
    public static (int[] Out, object Params) Init(Module m, params int[] shape)
    {
        var (init, _) = m;
        return init(Rng.Key(0), shape);
    }

    /// <summary>Params with every leaf replaced, in flattening order, by <paramref name="leaves"/>.</summary>
    public static object WithLeaves(object parameters, Tensor[] leaves) => Tree.Unflatten(Tree.Structure(parameters), leaves)!;
}

/// <summary>Output and parameter shapes equal JAX stax's for the same configurations (derived from stax's formulas).</summary>
public class LayerShapeTests
{
    [Fact]
    public void ConvSameKeepsSpatialSizeWithStaxParameterShapes()
    {
        var (o, p) = L.Init(Conv(32, new[] { 3, 3 }, padding: "SAME"), -1, 28, 28, 1);
        Assert.Equal(new[] { -1, 28, 28, 32 }, o);
        Assert.Equal(new Shape(3, 3, 1, 32), L.D(p)["w"].Shape);
        Assert.Equal(new Shape(1, 1, 1, 32), L.D(p)["b"].Shape);
    }

    [Fact]
    public void ConvValidAndStridedSizes()
    {
        // VALID: floor((28 - 5) / 2) + 1 = 12; SAME: ceil(28 / 2) = 14, ceil(27 / 2) = 14.
        Assert.Equal(new[] { -1, 12, 12, 16 }, L.Init(Conv(16, new[] { 5, 5 }, new[] { 2, 2 }), -1, 28, 28, 3).Out);
        Assert.Equal(new[] { -1, 14, 14, 16 }, L.Init(Conv(16, new[] { 5, 5 }, new[] { 2, 2 }, "SAME"), -1, 28, 28, 3).Out);
        Assert.Equal(new[] { -1, 14, 9, 16 }, L.Init(Conv(16, new[] { 5, 3 }, new[] { 2, 3 }, "SAME"), -1, 27, 27, 3).Out);
        // Default strides are 1: VALID (3, 2) on 10x9 gives 8x8.
        Assert.Equal(new[] { 2, 8, 8, 4 }, L.Init(Conv(4, new[] { 3, 2 }), 2, 10, 9, 1).Out);
    }

    [Fact]
    public void GeneralConvUsesTheKernelAndOutputSpecs()
    {
        var (o, p) = L.Init(GeneralConv(("NCHW", "OIHW", "NCHW"), 8, new[] { 3, 2 }), -1, 3, 10, 9);
        Assert.Equal(new[] { -1, 8, 8, 8 }, o);
        Assert.Equal(new Shape(8, 3, 3, 2), L.D(p)["w"].Shape);
        Assert.Equal(new Shape(1, 8, 1, 1), L.D(p)["b"].Shape);
        // Mixed layouts: NHWC in, IOHW kernel ("I" first), NCHW out.
        var (o2, p2) = L.Init(GeneralConv(("NHWC", "IOHW", "NCHW"), 5, new[] { 2, 2 }, new[] { 1, 2 }, "SAME"), 4, 6, 7, 3);
        Assert.Equal(new[] { 4, 5, 6, 4 }, o2);
        Assert.Equal(new Shape(3, 5, 2, 2), L.D(p2)["w"].Shape);
        Assert.Equal(new Shape(1, 5, 1, 1), L.D(p2)["b"].Shape);
        // 1-D and 3-D.
        Assert.Equal(new[] { -1, 8, 6 }, L.Init(GeneralConv(("NHC", "HIO", "NHC"), 6, new[] { 3 }), -1, 10, 2).Out);
        var (o3, p3) = L.Init(GeneralConv(("NDHWC", "DHWIO", "NDHWC"), 2, new[] { 2, 2, 2 }), 1, 4, 5, 6, 3);
        Assert.Equal(new[] { 1, 3, 4, 5, 2 }, o3);
        Assert.Equal(new Shape(2, 2, 2, 3, 2), L.D(p3)["w"].Shape);
        Assert.Equal(new Shape(1, 1, 1, 1, 2), L.D(p3)["b"].Shape);
    }

    [Fact]
    public void ConvTransposeSizesFollowLaxConvTranspose()
    {
        // VALID: in * s + max(k - s, 0); SAME: in * s.
        var (o, p) = L.Init(ConvTranspose(4, new[] { 3, 3 }, new[] { 2, 2 }), -1, 5, 5, 2);
        Assert.Equal(new[] { -1, 11, 11, 4 }, o);
        Assert.Equal(new Shape(3, 3, 2, 4), L.D(p)["w"].Shape);
        Assert.Equal(new Shape(1, 1, 1, 4), L.D(p)["b"].Shape);
        Assert.Equal(new[] { -1, 10, 10, 4 }, L.Init(ConvTranspose(4, new[] { 3, 3 }, new[] { 2, 2 }, "SAME"), -1, 5, 5, 2).Out);
        Assert.Equal(new[] { -1, 7, 6, 4 }, L.Init(ConvTranspose(4, new[] { 3, 2 }), -1, 5, 5, 2).Out);    // stride 1: in + k - 1
        var (o1, p1) = L.Init(Conv1DTranspose(6, new[] { 4 }, new[] { 3 }), -1, 7, 2);
        Assert.Equal(new[] { -1, 22, 6 }, o1);
        Assert.Equal(new Shape(4, 2, 6), L.D(p1)["w"].Shape);
        Assert.Equal(new Shape(1, 1, 6), L.D(p1)["b"].Shape);
        Assert.Equal(new[] { -1, 21, 6 }, L.Init(Conv1DTranspose(6, new[] { 4 }, new[] { 3 }, "SAME"), -1, 7, 2).Out);
        Assert.Equal(new[] { -1, 14, 6 }, L.Init(Conv1DTranspose(6, new[] { 2 }, new[] { 2 }, "SAME"), -1, 7, 2).Out);
        var (og, pg) = L.Init(GeneralConvTranspose(("NCHW", "OIHW", "NCHW"), 3, new[] { 2, 3 }, new[] { 2, 1 }), 2, 4, 5, 5);
        Assert.Equal(new[] { 2, 3, 10, 7 }, og);
        Assert.Equal(new Shape(3, 4, 2, 3), L.D(pg)["w"].Shape);
        Assert.Equal(new Shape(1, 3, 1, 1), L.D(pg)["b"].Shape);
    }

    [Fact]
    public void PoolingShapesWithStaxDefaultStridesOfOne()
    {
        Assert.Equal(new[] { -1, 14, 14, 32 }, L.Init(MaxPool(new[] { 2, 2 }, new[] { 2, 2 }), -1, 28, 28, 32).Out);
        Assert.Equal(new[] { -1, 27, 27, 32 }, L.Init(MaxPool(new[] { 2, 2 }), -1, 28, 28, 32).Out);
        Assert.Equal(new[] { -1, 28, 28, 32 }, L.Init(SumPool(new[] { 2, 2 }, padding: "SAME"), -1, 28, 28, 32).Out);
        Assert.Equal(new[] { -1, 14, 10, 3 }, L.Init(AvgPool(new[] { 3, 3 }, new[] { 2, 3 }, "SAME"), -1, 28, 28, 3).Out);
        Assert.Equal(new[] { -1, 3, 9, 8 }, L.Init(AvgPool(new[] { 2, 3 }, spec: "NCHW"), -1, 3, 10, 10).Out);
        Assert.Equal(new[] { 5, -1, 4 }, L.Init(MaxPool(new[] { 3 }, spec: "CNW"), 5, -1, 6).Out);
        Assert.Empty(L.A(L.Init(MaxPool(new[] { 2, 2 }), -1, 4, 4, 1).Params));
    }

    [Fact]
    public void BatchNormParameterAndStateShapes()
    {
        var bn = BatchNorm();
        var (o, p, s) = bn.InitializeWithState(Rng.Key(0), L.Spec(8, 6, 6, 16));
        Assert.Equal(L.Spec(8, 6, 6, 16), o);
        Assert.Equal(new Shape(16), L.D(p)["beta"].Shape);
        Assert.Equal(new Shape(16), L.D(p)["gamma"].Shape);
        Assert.Equal(new double[16], L.D(p)["beta"].ToDoubleArray());
        Assert.All(L.D(p)["gamma"].ToDoubleArray(), v => Assert.Equal(1.0, v));
        Assert.Equal(new double[16], L.D(s)["mean"].ToDoubleArray());
        Assert.All(L.D(s)["var"].ToDoubleArray(), v => Assert.Equal(1.0, v));
        // stax: the parameter shape is the input dims not in axis.
        var (o2, p2) = L.Init(BatchNorm(new[] { 0 }), -1, 5, 3);
        Assert.Equal(new[] { -1, 5, 3 }, o2);
        Assert.Equal(new Shape(5, 3), L.D(p2)["gamma"].Shape);
        // center / scale off: the entry is absent (stax stores an empty tuple there).
        var p3 = L.D(BatchNorm(new[] { 0 }, center: false).Initialize(Rng.Key(0), L.Spec(4, 3)).Parameters);
        Assert.Equal(new[] { "gamma" }, p3.Keys.ToArray());
        Assert.Empty(L.D(BatchNorm(new[] { 0 }, center: false, scale: false).Initialize(Rng.Key(0), L.Spec(4, 3)).Parameters));
        // A batch axis left unnormalised makes the parameter shape depend on the -1: a clear error.
        Check.Throws<ArgumentException>(() => L.Init(BatchNorm(new[] { 1 }), -1, 5), "batch dimension", "-1");
    }

    [Fact]
    public void DenseFlattenIdentityDropoutAndActivationsKeepStaxShapes()
    {
        var (o, p) = L.Init(Serial(Flatten, Dense(10), Dropout(0.9), Identity, Tanh, Relu, Exp, LogSoftmax, Softmax, Softplus,
            Sigmoid, Elu, LeakyRelu, Selu, Gelu), -1, 4, 3, 2);
        Assert.Equal(new[] { -1, 10 }, o);
        Assert.Equal(new Shape(24, 10), L.D(L.A(p)[1])["w"].Shape);
        Assert.Equal(new Shape(10), L.D(L.A(p)[1])["b"].Shape);
        Assert.Equal(15, L.A(p).Length);
        Assert.Equal(new[] { -1, 3, 7 }, L.Init(Dense(7), -1, 3, 5).Out);       // Dense acts on the last axis
    }

    [Fact]
    public void FanOutParallelAndFanInShapes()
    {
        var model = Serial(Dense(4), FanOut(3), Parallel(Dense(2), Identity, Dense(5)), FanInConcat());
        var (o, p) = L.Init(model, -1, 6);
        Assert.Equal(new[] { -1, 11 }, o);
        var par = L.A(L.A(p)[2]);
        Assert.Equal(new Shape(4, 2), L.D(par[0])["w"].Shape);
        Assert.Empty(L.A(par[1]));
        Assert.Equal(new Shape(4, 5), L.D(par[2])["w"].Shape);
        // FanInConcat on axis 0 and FanInSum.
        var cat0 = Serial(FanOut(2), FanInConcat(0));
        Assert.Equal(new[] { 6, 3 }, L.Init(cat0, 3, 3).Out);
        var sum = Serial(FanOut(2), Parallel(Dense(3), Dense(3)), FanInSum);
        Assert.Equal(new[] { -1, 3 }, L.Init(sum, -1, 8).Out);
        var x = L.X(1, 2, 8);
        var (_, ps) = sum.Initialize(Rng.Key(1), x.Aval);
        var pp = L.A(L.A(ps)[1]);
        var expected = Np.Matmul(x, L.D(pp[0])["w"]) + L.D(pp[0])["b"] + Np.Matmul(x, L.D(pp[1])["w"]) + L.D(pp[1])["b"];
        Check.Close(expected.ToDoubleArray(), sum.Apply(ps, x, training: false).ToDoubleArray(), 1e-12, 1e-12);
    }

    [Fact]
    public void ShapeDependentBuildsFromTheInputType()
    {
        var m = ShapeDependent(a => Dense(a.Shape[-1] * 2));
        var (o, p) = L.Init(m, -1, 3);
        Assert.Equal(new[] { -1, 6 }, o);
        Assert.Equal(new Shape(3, 6), L.D(p)["w"].Shape);
        var x = L.X(2, 4, 3);
        var (_, p64) = m.Initialize(Rng.Key(0), x.Aval);
        Check.Close((Np.Matmul(x, L.D(p64)["w"]) + L.D(p64)["b"]).ToDoubleArray(), m.Apply(p64, x, training: false).ToDoubleArray(), 1e-12, 1e-12);
    }

    [Fact]
    public void ConvInitializerDefaultsAreStaxs()
    {
        // b ~ normal(1e-6); W ~ glorot normal over the kernel's I and O axes: variance 2 / (fan_in + fan_out)
        // with fan_in = I * receptive field, fan_out = O * receptive field.
        var p = L.D(Conv(64, new[] { 3, 3 }).Initialize(Rng.Key(3), L.Spec(1, 8, 8, 32)).Parameters);
        var b = p["b"].ToDoubleArray();
        Assert.All(b, v => Assert.True(Math.Abs(v) < 1e-5));
        Assert.Contains(b, v => v != 0);
        var w = p["w"].ToDoubleArray();
        double var = w.Select(v => v * v).Average();
        double expected = 2.0 / (32 * 9 + 64 * 9);
        Assert.InRange(var, expected * 0.9, expected * 1.1);
    }
}

/// <summary>Layer values against naive loops and formulas.</summary>
public class LayerValueTests
{
    static (int, int) SamePads(int n, int k, int s)
    {
        int o = (n + s - 1) / s, pad = Math.Max(0, (o - 1) * s + k - n);
        return (pad / 2, pad - pad / 2);
    }

    // NHWC x HWIO, explicit pads, strides; y[n, oh, ow, co].
    static double[] NaiveConv(double[] x, int[] xs, double[] w, int[] wsh, double[] b, int sh, int sw, (int, int) ph, (int, int) pw, int oh, int ow)
    {
        int N = xs[0], H = xs[1], W = xs[2], C = xs[3], KH = wsh[0], KW = wsh[1], O = wsh[3];
        var y = new double[N * oh * ow * O];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < O; o++)
                    {
                        double acc = b[o];
                        for (int a = 0; a < KH; a++)
                            for (int c = 0; c < KW; c++)
                            {
                                int ih = i * sh - ph.Item1 + a, iw = j * sw - pw.Item1 + c;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                for (int ci = 0; ci < C; ci++)
                                    acc += x[((n * H + ih) * W + iw) * C + ci] * w[((a * KW + c) * C + ci) * O + o];
                            }
                        y[((n * oh + i) * ow + j) * O + o] = acc;
                    }
        return y;
    }

    [Fact]
    public void ConvMatchesANaiveLoop()
    {
        var x = L.X(1, 2, 5, 6, 3);
        foreach (var (pad, strides) in new[] { ("SAME", new[] { 2, 1 }), ("VALID", new[] { 1, 2 }), ("SAME", new[] { 1, 1 }) })
        {
            var conv = Conv(4, new[] { 3, 2 }, strides, pad);
            var (o, p) = conv.Initialize(Rng.Key(2), x.Aval);
            var w = L.D(p)["w"]; var b = L.D(p)["b"];
            Assert.Equal(DType.Float64, w.DType);
            (int, int) ph = pad == "SAME" ? SamePads(5, 3, strides[0]) : (0, 0), pw = pad == "SAME" ? SamePads(6, 2, strides[1]) : (0, 0);
            var y = conv.Apply(p, x, training: false);
            Assert.Equal(o.Shape, y.Shape);
            var expected = NaiveConv(x.ToDoubleArray(), x.Shape.ToArray(), w.ToDoubleArray(), w.Shape.ToArray(), b.ToDoubleArray(),
                strides[0], strides[1], ph, pw, y.Shape[1], y.Shape[2]);
            Check.Close(expected, y.ToDoubleArray(), 1e-12, 1e-12, $"Conv {pad} {Shape.Format(strides)}");
        }
    }

    [Fact]
    public void GeneralConvInOtherLayoutsEqualsConvOnTransposedData()
    {
        var x = L.X(3, 2, 5, 6, 3);                                        // NHWC
        var conv = Conv(4, new[] { 3, 2 }, new[] { 2, 1 }, "SAME");
        var (_, p) = conv.Initialize(Rng.Key(2), x.Aval);
        var general = GeneralConv(("NCHW", "OIHW", "NCHW"), 4, new[] { 3, 2 }, new[] { 2, 1 }, "SAME");
        var pg = new Dictionary<string, Tensor>
        {
            ["w"] = Np.Transpose(L.D(p)["w"], 3, 2, 0, 1),                // HWIO -> OIHW
            ["b"] = Np.Transpose(L.D(p)["b"], 0, 3, 1, 2),                // (1,1,1,C) -> (1,C,1,1)
        };
        var y = general.Apply(pg, Np.Transpose(x, 0, 3, 1, 2), training: false);
        Check.Close(Np.Transpose(conv.Apply(p, x, training: false), 0, 3, 1, 2).ToDoubleArray(), y.ToDoubleArray(), 1e-12, 1e-12);
    }

    // lax.conv_transpose semantics, independently: dilate the input by s, pad (lo, hi), convolve with stride 1.
    static (int, int) TransposePads(int k, int s, string padding)
    {
        if (padding == "SAME")
        {
            int total = k + s - 2;
            int lo = s > k - 1 ? k - 1 : (int)Math.Ceiling(total / 2.0);
            return (lo, total - lo);
        }
        int len = k + s - 2 + Math.Max(k - s, 0);
        return (k - 1, len - (k - 1));
    }

    static double[] NaiveConvTranspose2D(double[] x, int[] xs, double[] w, int[] wsh, double[] b, int[] st, string padding, out int oh, out int ow)
    {
        int N = xs[0], H = xs[1], W = xs[2], C = xs[3], KH = wsh[0], KW = wsh[1], O = wsh[3];
        var (lh, hh) = TransposePads(KH, st[0], padding);
        var (lw, hw) = TransposePads(KW, st[1], padding);
        int dh = (H - 1) * st[0] + 1, dw = (W - 1) * st[1] + 1;
        oh = dh + lh + hh - KH + 1;
        ow = dw + lw + hw - KW + 1;
        var y = new double[N * oh * ow * O];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < O; o++)
                    {
                        double acc = b[o];
                        for (int a = 0; a < KH; a++)
                            for (int c = 0; c < KW; c++)
                            {
                                int ph = i + a - lh, pw = j + c - lw;        // position in the dilated input
                                if (ph < 0 || pw < 0 || ph % st[0] != 0 || pw % st[1] != 0) continue;
                                int ih = ph / st[0], iw = pw / st[1];
                                if (ih >= H || iw >= W) continue;
                                for (int ci = 0; ci < C; ci++)
                                    acc += x[((n * H + ih) * W + iw) * C + ci] * w[((a * KW + c) * C + ci) * O + o];
                            }
                        y[((n * oh + i) * ow + j) * O + o] = acc;
                    }
        return y;
    }

    [Fact]
    public void ConvTransposeMatchesANaiveDilatedConvolution()
    {
        var x = L.X(4, 2, 3, 4, 2);
        foreach (var (pad, st, k) in new[] { ("VALID", new[] { 2, 2 }, new[] { 3, 3 }), ("SAME", new[] { 2, 3 }, new[] { 3, 2 }),
                     ("SAME", new[] { 1, 1 }, new[] { 3, 3 }), ("VALID", new[] { 3, 1 }, new[] { 2, 2 }), ("SAME", new[] { 2, 2 }, new[] { 4, 4 }) })
        {
            var ct = ConvTranspose(3, k, st, pad);
            var (o, p) = ct.Initialize(Rng.Key(5), x.Aval);
            var w = L.D(p)["w"]; var b = L.D(p)["b"];
            var y = ct.Apply(p, x, training: false);
            Assert.Equal(o.Shape, y.Shape);
            var expected = NaiveConvTranspose2D(x.ToDoubleArray(), x.Shape.ToArray(), w.ToDoubleArray(), w.Shape.ToArray(), b.ToDoubleArray(), st, pad, out int oh, out int ow);
            Assert.Equal(new Shape(2, oh, ow, 3), y.Shape);
            Check.Close(expected, y.ToDoubleArray(), 1e-12, 1e-12, $"ConvTranspose {pad} k{Shape.Format(k)} s{Shape.Format(st)}");
        }
        // Conv1DTranspose is the same computation in one dimension.
        var x1 = L.X(6, 2, 5, 3);
        var c1 = Conv1DTranspose(2, new[] { 3 }, new[] { 2 }, "SAME");
        var (_, p1) = c1.Initialize(Rng.Key(1), x1.Aval);
        var y1 = c1.Apply(p1, x1, training: false);
        var w1 = L.D(p1)["w"];
        var exp1 = NaiveConvTranspose2D(x1.ToDoubleArray(), new[] { 2, 5, 1, 3 }, w1.ToDoubleArray(), new[] { 3, 1, 3, 2 },
            L.D(p1)["b"].ToDoubleArray(), new[] { 2, 1 }, "SAME", out int oh1, out _);
        Assert.Equal(new Shape(2, oh1, 2), y1.Shape);
        Check.Close(exp1, y1.ToDoubleArray(), 1e-12, 1e-12, "Conv1DTranspose");
    }

    // Naive NHWC pooling: (max or sum or avg-of-valid) over windows with explicit SAME/VALID pads.
    static double[] NaivePool(double[] x, int[] xs, int[] k, int[] s, string padding, string kind, out int oh, out int ow)
    {
        int N = xs[0], H = xs[1], W = xs[2], C = xs[3];
        var (lh, _) = padding == "SAME" ? SamePads(H, k[0], s[0]) : (0, 0);
        var (lw, _) = padding == "SAME" ? SamePads(W, k[1], s[1]) : (0, 0);
        oh = padding == "SAME" ? (H + s[0] - 1) / s[0] : (H - k[0]) / s[0] + 1;
        ow = padding == "SAME" ? (W + s[1] - 1) / s[1] : (W - k[1]) / s[1] + 1;
        var y = new double[N * oh * ow * C];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int c = 0; c < C; c++)
                    {
                        double acc = kind == "max" ? double.NegativeInfinity : 0; int count = 0;
                        for (int a = 0; a < k[0]; a++)
                            for (int d = 0; d < k[1]; d++)
                            {
                                int ih = i * s[0] - lh + a, iw = j * s[1] - lw + d;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                double v = x[((n * H + ih) * W + iw) * C + c];
                                acc = kind == "max" ? Math.Max(acc, v) : acc + v;
                                count++;
                            }
                        y[((n * oh + i) * ow + j) * C + c] = kind == "avg" ? acc / count : acc;
                    }
        return y;
    }

    [Fact]
    public void PoolsMatchNaiveLoops()
    {
        var x = L.X(7, 2, 5, 7, 3);
        foreach (var (pad, k, s) in new[] { ("VALID", new[] { 2, 2 }, new[] { 2, 2 }), ("SAME", new[] { 3, 3 }, new[] { 2, 2 }),
                     ("VALID", new[] { 2, 3 }, new[] { 1, 1 }), ("SAME", new[] { 2, 4 }, new[] { 1, 3 }) })
            foreach (var (kind, layer) in new[] { ("max", MaxPool(k, s, pad)), ("sum", SumPool(k, s, pad)), ("avg", AvgPool(k, s, pad)) })
            {
                var y = layer.Apply(Array.Empty<object?>(), x, training: false);
                var expected = NaivePool(x.ToDoubleArray(), x.Shape.ToArray(), k, s, pad, kind, out int oh, out int ow);
                Assert.Equal(new Shape(2, oh, ow, 3), y.Shape);
                Check.Close(expected, y.ToDoubleArray(), 1e-12, 1e-12, $"{kind} {pad} k{Shape.Format(k)} s{Shape.Format(s)}");
            }
    }

    [Fact]
    public void AvgPoolSameNormalisesEdgesByValidCount()
    {
        // On ones, every average is 1 (stax's _normalize_by_window_size); SumPool shows the counts.
        var ones = Np.Ones(new Shape(1, 4, 5, 2));
        var avg = AvgPool(new[] { 3, 3 }, padding: "SAME").Apply(Array.Empty<object?>(), ones, training: false);
        Assert.All(avg.ToDoubleArray(), v => Assert.Equal(1.0, v, 6));
        var sum = SumPool(new[] { 3, 3 }, padding: "SAME").Apply(Array.Empty<object?>(), ones, training: false);
        var s = sum.ToDoubleArray();
        Assert.Equal(4.0, s[0]);                                 // corner: 2 x 2 valid
        Assert.Equal(6.0, s[(0 * 5 + 1) * 2]);                   // top edge: 2 x 3
        Assert.Equal(9.0, s[(1 * 5 + 1) * 2]);                   // interior: 3 x 3
        // Channels-first layout: normalisation follows the spec's spatial axes.
        var onesNchw = Np.Ones(new Shape(1, 2, 4, 5));
        var avgNchw = AvgPool(new[] { 3, 3 }, padding: "SAME", spec: "NCHW").Apply(Array.Empty<object?>(), onesNchw, training: false);
        Assert.Equal(new Shape(1, 2, 4, 5), avgNchw.Shape);
        Assert.All(avgNchw.ToDoubleArray(), v => Assert.Equal(1.0, v, 6));
        // Float32 stays float32.
        Assert.Equal(DType.Float32, avg.DType);
    }

    [Fact]
    public void PoolingWithAChannelsFirstSpecEqualsTransposedChannelsLast()
    {
        var x = L.X(8, 2, 3, 6, 5);                                  // NCHW
        var a = MaxPool(new[] { 2, 3 }, new[] { 2, 1 }, "SAME", "NCHW").Apply(Array.Empty<object?>(), x, training: false);
        var b = MaxPool(new[] { 2, 3 }, new[] { 2, 1 }, "SAME").Apply(Array.Empty<object?>(), Np.Transpose(x, 0, 2, 3, 1), training: false);
        Assert.Equal(Np.Transpose(b, 0, 3, 1, 2).ToDoubleArray(), a.ToDoubleArray());
    }

    static (double[] Mean, double[] Var) Moments(double[] x, int rows, int c)
    {
        var mean = new double[c]; var var = new double[c];
        for (int r = 0; r < rows; r++) for (int j = 0; j < c; j++) mean[j] += x[r * c + j] / rows;
        for (int r = 0; r < rows; r++) for (int j = 0; j < c; j++) var[j] += (x[r * c + j] - mean[j]) * (x[r * c + j] - mean[j]) / rows;
        return (mean, var);
    }

    static double[] Normalise(double[] x, int c, double[] mean, double[] var, double[] g, double[] b, double eps)
        => x.Select((v, i) => (v - mean[i % c]) / Math.Sqrt(var[i % c] + eps) * g[i % c] + b[i % c]).ToArray();

    [Fact]
    public void BatchNormTrainingUsesBatchStatisticsAndUpdatesRunningAverages()
    {
        var x = L.X(9, 4, 3, 3, 2);                                          // NHWC; 36 rows of 2 channels
        var bn = BatchNorm(betaInit: Initializers.Normal(0.5), gammaInit: Initializers.Uniform(2.0), momentum: 0.9);
        var (_, p, s) = bn.InitializeWithState(Rng.Key(1), x.Aval);
        var g = L.D(p)["gamma"].ToDoubleArray(); var b = L.D(p)["beta"].ToDoubleArray();
        var (mean, var) = Moments(x.ToDoubleArray(), 36, 2);
        var (y, s1) = bn.ApplyWithState(p, s, x, training: true);
        Check.Close(Normalise(x.ToDoubleArray(), 2, mean, var, g, b, 1e-5), ((Tensor)y).ToDoubleArray(), 1e-10, 1e-10, "training output");
        // avg <- momentum * avg + (1 - momentum) * batch, from mean 0 and var 1.
        var m1 = mean.Select(m => 0.1 * m).ToArray();
        var v1 = var.Select(v => 0.9 + 0.1 * v).ToArray();
        Check.Close(m1, L.D(s1)["mean"].ToDoubleArray(), 1e-12, 1e-12, "running mean");
        Check.Close(v1, L.D(s1)["var"].ToDoubleArray(), 1e-12, 1e-12, "running var");
        // A second step chains from the new state.
        var x2 = L.X(10, 4, 3, 3, 2);
        var (mean2, var2) = Moments(x2.ToDoubleArray(), 36, 2);
        var (_, s2) = bn.ApplyWithState(p, s1, x2, training: true);
        Check.Close(m1.Select((m, i) => 0.9 * m + 0.1 * mean2[i]).ToArray(), L.D(s2)["mean"].ToDoubleArray(), 1e-12, 1e-12);
        Check.Close(v1.Select((v, i) => 0.9 * v + 0.1 * var2[i]).ToArray(), L.D(s2)["var"].ToDoubleArray(), 1e-12, 1e-12);
        // The input state is not modified.
        Assert.Equal(new double[2], L.D(s)["mean"].ToDoubleArray());
    }

    [Fact]
    public void BatchNormInferenceUsesRunningAveragesAndTrainingBatchStatistics()
    {
        var x = L.X(11, 5, 2, 2, 3);
        var bn = BatchNorm(gammaInit: Initializers.Uniform(2.0));
        var (_, p, s) = bn.InitializeWithState(Rng.Key(1), x.Aval);
        var state = new Dictionary<string, Tensor>
        {
            ["mean"] = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 }, 3),
            ["var"] = Tensor.FromArray(new[] { 4.0, 0.25, 1.0 }, 3),
        };
        var g = L.D(p)["gamma"].ToDoubleArray(); var b = L.D(p)["beta"].ToDoubleArray();
        var (y, sOut) = bn.ApplyWithState(p, state, x, training: false);
        Check.Close(Normalise(x.ToDoubleArray(), 3, new[] { 0.5, -1.0, 2.0 }, new[] { 4.0, 0.25, 1.0 }, g, b, 1e-5), ((Tensor)y).ToDoubleArray(), 1e-12, 1e-12);
        Assert.Same(state, sOut);                                     // inference leaves the state alone
        // Training without state (classic stax apply): batch statistics, as stax's BatchNorm.
        var (mean, var) = Moments(x.ToDoubleArray(), 20, 3);
        Check.Close(Normalise(x.ToDoubleArray(), 3, mean, var, g, b, 1e-5), bn.Apply(p, x, training: true).ToDoubleArray(), 1e-10, 1e-10);
        var (_, apply) = Serial(bn);
        Check.Close(Normalise(x.ToDoubleArray(), 3, mean, var, g, b, 1e-5), apply(new object?[] { p }, x, training: true).ToDoubleArray(), 1e-10, 1e-10);
    }

    [Fact]
    public void BatchNormStateThreadsThroughSerial()
    {
        var model = Serial(Dense(4), BatchNorm(new[] { 0 }), Relu, Dense(2), BatchNorm(new[] { 0 }));
        var x = L.X(12, 6, 3);
        var (_, p, s) = model.InitializeWithState(Rng.Key(0), x.Aval);
        var st = L.A(s);
        Assert.Null(st[0]);
        Assert.Equal(new Shape(4), L.D(st[1])["mean"].Shape);
        Assert.Equal(new Shape(2), L.D(st[4])["var"].Shape);
        var (_, s1) = model.ApplyWithState(p, s, x, training: true);
        var h = Np.Matmul(x, L.D(L.A(p)[0])["w"]) + L.D(L.A(p)[0])["b"];
        var m = Np.Mean(h, 0).ToDoubleArray();
        Check.Close(m.Select(v => 0.01 * v).ToArray(), L.D(L.A(s1)[1])["mean"].ToDoubleArray(), 1e-12, 1e-12);
        Assert.NotEqual(new double[2], L.D(L.A(s1)[4])["mean"].ToDoubleArray());
    }

    [Fact]
    public void BatchNormUnderNamedVmapEqualsBatchNormOverTheBatch()
    {
        var x = L.X(13, 4, 3, 3, 2);                                      // a batch of 4 examples (3, 3, 2)
        var whole = BatchNorm(gammaInit: Initializers.Uniform(2.0), betaInit: Initializers.Normal(1.0));
        var perExample = BatchNorm(new[] { 0, 1 }, gammaInit: Initializers.Uniform(2.0), betaInit: Initializers.Normal(1.0), axisName: "batch");
        var (_, p, s) = whole.InitializeWithState(Rng.Key(4), x.Aval);
        // The per-example module initialises from an unbatched example: the same parameter shapes.
        var (_, pe, se) = perExample.InitializeWithState(Rng.Key(4), x[0].Aval);
        Assert.Equal(L.D(p)["gamma"].Shape, L.D(pe)["gamma"].Shape);
        var (y, s1) = whole.ApplyWithState(p, s, x, training: true);
        var outs = Transforms.Vmap(xs =>
        {
            var (yi, si) = perExample.ApplyWithState(p, s, xs[0], training: true);
            return new[] { (Tensor)yi, L.D(si)["mean"], L.D(si)["var"] };
        }, new int?[] { 0 }, new int?[] { 0, null, null }, axisName: "batch")(new[] { x });
        Check.Close(((Tensor)y).ToDoubleArray(), outs[0].ToDoubleArray(), 1e-10, 1e-10, "output");
        Check.Close(L.D(s1)["mean"].ToDoubleArray(), outs[1].ToDoubleArray(), 1e-12, 1e-12, "running mean");
        Check.Close(L.D(s1)["var"].ToDoubleArray(), outs[2].ToDoubleArray(), 1e-12, 1e-12, "running var");
        // Without the axis, the per-example module normalises each example on its own: different.
        var local = BatchNorm(new[] { 0, 1 });
        var yl = Transforms.Vmap((Tensor xi) => local.Apply(p, xi, training: true))(x);
        Assert.NotEqual(((Tensor)y).ToDoubleArray(), yl.ToDoubleArray());
        // Outside a Vmap of that name: a clear error.
        Check.Throws<ArgumentException>(() => perExample.ApplyWithState(p, s, x[0], training: true), "unbound axis name", "batch");
    }

    // log(1 + e) accurate for tiny e (.NET's double.LogP1 is log(1 + e), which rounds 1 + e first).
    static double Log1p(double e) => e < 1e-4 ? e - e * e / 2 + e * e * e / 3 : Math.Log(1 + e);

    [Fact]
    public void ActivationsMatchTheirFormulas()
    {
        var pts = new[] { -30.0, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 2, 30 };
        var x = Tensor.FromArray(pts, pts.Length);
        const double a = 1.6732632423543772848170429916717, sc = 1.0507009873554804934193349852946;
        var cases = new (Module M, Func<double, double> F)[]
        {
            (Elu, v => v > 0 ? v : Math.Exp(v) - 1),
            (LeakyRelu, v => v >= 0 ? v : 0.01 * v),
            (Selu, v => sc * (v > 0 ? v : a * (Math.Exp(v) - 1))),
            (Gelu, v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))),
            (Softplus, v => Math.Max(v, 0) + Log1p(Math.Exp(-Math.Abs(v)))),
            (Sigmoid, v => 1 / (1 + Math.Exp(-v))),
            (Tanh, Math.Tanh),
            (Relu, v => Math.Max(v, 0)),
            (Exp, Math.Exp),
        };
        // rtol 1e-6, not 1e-13: the activations multiply by C# double constants, which become weak
        // scalars stored as float32 (Tensor.WeakScalar), so e.g. LeakyRelu's 0.01 is 0.01 rounded to float32.
        foreach (var (m, f) in cases)
            Check.Close(pts.Select(f).ToArray(), m.Apply(Array.Empty<object?>(), x, training: false).ToDoubleArray(), 1e-6, 1e-300, m.Name);
        var row = Tensor.FromArray(new[] { 1.0, 2, 3, -1 }, 1, 4);
        double lse = Math.Log(new[] { 1.0, 2, 3, -1 }.Sum(Math.Exp));
        Check.Close(new[] { 1.0, 2, 3, -1 }.Select(v => v - lse).ToArray(), LogSoftmax.Apply(Array.Empty<object?>(), row, training: false).ToDoubleArray(), 1e-14, 1e-14);
        Check.Close(new[] { 1.0, 2, 3, -1 }.Select(v => Math.Exp(v - lse)).ToArray(), Softmax.Apply(Array.Empty<object?>(), row, training: false).ToDoubleArray(), 1e-14, 1e-14);
        // Elementwise wraps any function.
        Check.Close(pts.Select(v => v * v).ToArray(), Elementwise(t => t * t, "Square").Apply(Array.Empty<object?>(), x, training: false).ToDoubleArray(), 0, 0);
    }
}

/// <summary>Gradients through each layer (finite differences and the vjp/jvp identity, float64).</summary>
public class LayerGradientTests
{
    static void GradsThrough(Module m, Tensor x, bool training = false, int order = 1, string? name = null)
    {
        var (_, p, s) = m.InitializeWithState(Rng.Key(7), x.Aval);
        var leaves = Tree.Leaves(p);
        TransformCheck.Grads(xs =>
        {
            var ps = L.WithLeaves(p, xs[1..]);
            var y = (Tensor)m.ApplyWithState(ps, s, xs[0], training).Output;
            return new[] { y };
        }, leaves.Prepend(x).ToArray(), order: order, tol: 1e-6, name: name ?? m.Name);
    }

    [Fact]
    public void ConvolutionGradients()
    {
        GradsThrough(Conv(3, new[] { 3, 2 }, new[] { 2, 1 }, "SAME"), L.X(1, 2, 5, 4, 2), order: 2);
        GradsThrough(GeneralConv(("NCHW", "OIHW", "NCHW"), 2, new[] { 2, 2 }), L.X(2, 1, 2, 4, 3));
        GradsThrough(ConvTranspose(2, new[] { 3, 3 }, new[] { 2, 2 }, "SAME"), L.X(3, 1, 3, 3, 2));
        GradsThrough(Conv1DTranspose(2, new[] { 2 }, new[] { 2 }), L.X(4, 2, 4, 3));
    }

    [Fact]
    public void PoolingGradients()
    {
        GradsThrough(MaxPool(new[] { 2, 2 }, new[] { 1, 2 }, "SAME"), L.X(5, 2, 4, 5, 2));
        GradsThrough(SumPool(new[] { 3, 2 }, new[] { 2, 1 }), L.X(6, 1, 5, 4, 2), order: 2);
        GradsThrough(AvgPool(new[] { 3, 3 }, padding: "SAME"), L.X(7, 1, 4, 4, 2), order: 2);
    }

    [Fact]
    public void BatchNormAndDenseGradients()
    {
        GradsThrough(BatchNorm(gammaInit: Initializers.Uniform(2.0)), L.X(8, 3, 2, 2, 2), training: true, order: 2, name: "BatchNorm training");
        GradsThrough(BatchNorm(new[] { 0 }), L.X(9, 4, 3), training: true, name: "BatchNorm axis 0");
        GradsThrough(BatchNorm(new[] { 0 }), L.X(9, 4, 3), training: false, name: "BatchNorm inference");
        GradsThrough(Serial(Dense(3), Gelu, Dense(2), Selu, Elu, Softplus, LeakyRelu, LogSoftmax), L.X(10, 2, 4), order: 2);
        GradsThrough(Serial(Flatten, Dense(3), Sigmoid, Softmax), L.X(11, 2, 2, 3));
    }
}

/// <summary>Bad inputs give ArgumentExceptions that name the layer and the shapes.</summary>
public class LayerErrorTests
{
    [Fact]
    public void ConvConstructorErrors()
    {
        Check.Throws<ArgumentException>(() => Conv(4, new[] { 3 }), "Conv", "filterShape must have 2 entries");
        Check.Throws<ArgumentException>(() => Conv(0, new[] { 3, 3 }), "Conv", "outChannels");
        Check.Throws<ArgumentException>(() => Conv(4, new[] { 3, 0 }), "Conv", "positive");
        Check.Throws<ArgumentException>(() => Conv(4, new[] { 3, 3 }, new[] { 1 }), "Conv", "strides");
        Check.Throws<ArgumentException>(() => Conv(4, new[] { 3, 3 }, padding: "FULL"), "Conv", "padding", "FULL");
        Check.Throws<ArgumentException>(() => ConvTranspose(4, new[] { 3, 3 }, padding: "SAME_LOWER"), "ConvTranspose", "padding");
        Check.Throws<ArgumentException>(() => GeneralConv(("NHWC", "HWXO", "NHWC"), 4, new[] { 3, 3 }), "GeneralConv", "dimension numbers");
        Check.Throws<ArgumentException>(() => GeneralConv(("NHW", "HWIO", "NHWC"), 4, new[] { 3, 3 }), "GeneralConv", "dimension numbers");
    }

    [Fact]
    public void ConvInputErrorsNameTheSlot()
    {
        Check.Throws<ArgumentException>(() => Serial(Conv(4, new[] { 3, 3 })).Initialize(Rng.Key(0), L.Spec(2, 8, 8)), "Serial/0/Conv", "rank 4");
        var (_, p) = Serial(Conv(4, new[] { 3, 3 })).Initialize(Rng.Key(0), L.Spec(2, 8, 8, 3));
        Check.Throws<ArgumentException>(() => Serial(Conv(4, new[] { 3, 3 })).Apply(p, Np.Zeros(new Shape(2, 8, 8, 5)), training: false), "Serial/0/Conv", "f32[2,8,8,5]", "(3, 3, 3, 4), not (3, 3, 5, 4)");
        // A window larger than the input gives an empty output, as lax.conv_general_dilated does.
        Assert.Equal(new Shape(1, 0, 0, 4), Conv(4, new[] { 5, 5 }).Initialize(Rng.Key(0), L.Spec(1, 3, 3, 1)).OutSpec.Shape);
    }

    [Fact]
    public void PoolingErrors()
    {
        Check.Throws<ArgumentException>(() => MaxPool(Array.Empty<int>()), "MaxPool", "windowShape");
        Check.Throws<ArgumentException>(() => AvgPool(new[] { 2, 2 }, new[] { 0, 1 }), "AvgPool", "strides");
        Check.Throws<ArgumentException>(() => SumPool(new[] { 2, 2 }, padding: "CAUSAL"), "SumPool", "padding");
        Check.Throws<ArgumentException>(() => MaxPool(new[] { 2, 2 }, spec: "NHWD"), "MaxPool", "spec");
        Check.Throws<ArgumentException>(() => MaxPool(new[] { 2, 2 }).Initialize(Rng.Key(0), L.Spec(2, 4, 4)), "MaxPool", "rank 4");
        Check.Throws<ArgumentException>(() => MaxPool(new[] { 5, 5 }).Initialize(Rng.Key(0), L.Spec(1, 3, 3, 1)), "MaxPool", "larger");
    }

    [Fact]
    public void BatchNormErrors()
    {
        Check.Throws<ArgumentException>(() => BatchNorm(momentum: 1.5), "BatchNorm", "momentum");
        Check.Throws<ArgumentException>(() => BatchNorm(epsilon: -1), "BatchNorm", "epsilon");
        Check.Throws<ArgumentException>(() => BatchNorm().Initialize(Rng.Key(0), L.Spec(4, 3)), "BatchNorm", "axis 2", "(4, 3)");
        Check.Throws<ArgumentException>(() => BatchNorm(new[] { 0, -2 }).Initialize(Rng.Key(0), L.Spec(4, 3)), "BatchNorm", "repeat");
        var (_, p, s) = BatchNorm(new[] { 0 }).InitializeWithState(Rng.Key(0), L.Spec(4, 3));
        Check.Throws<ArgumentException>(() => BatchNorm(new[] { 0 }).Apply(p, Np.Zeros(new Shape(4, 5)), training: false), "BatchNorm", "(3,)", "(5,)");
        var badState = new Dictionary<string, Tensor> { ["mean"] = Np.Zeros(new Shape(2)) };
        Check.Throws<ArgumentException>(() => BatchNorm(new[] { 0 }).ApplyWithState(p, badState, Np.Zeros(new Shape(4, 3)), training: false), "BatchNorm", "state");
    }
}
