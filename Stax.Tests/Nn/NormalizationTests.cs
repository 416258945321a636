using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>LayerNorm, RMSNorm and GroupNorm against double references of Flax's formulas.</summary>
public class NormalizationTests
{
    static Dictionary<string, Tensor> Params(object p) => (Dictionary<string, Tensor>)p;

    // Non-trivial float64 parameters so that scale and bias gradients are checked.
    static Initializer Random(int seed) => (k, s, d) => Numerics.Tensor64(seed, s.ToArray());

    [Fact]
    public void LayerNormHasFlaxNamesShapesAndDefaults()
    {
        var (_, p) = LayerNorm().Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3, 5), DType.Float32));
        var d = Params(p);
        Assert.Equal(new[] { "bias", "scale" }, d.Keys.OrderBy(k => k));
        Assert.Equal(new Shape(5), d["scale"].Shape);
        Assert.All(d["scale"].ToDoubleArray(), v => Assert.Equal(1.0, v));
        Assert.All(d["bias"].ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(DType.Float32, d["scale"].DType);
        var (_, p2) = LayerNorm(useBias: false, featureAxes: new[] { 1, 2 }, reductionAxes: new[] { 1, 2 })
            .Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3, 5), DType.Float32));
        Assert.Equal(new[] { "scale" }, Params(p2).Keys);
        Assert.Equal(new Shape(3, 5), Params(p2)["scale"].Shape);
    }

    static double[] LayerNormReference(double[] x, IReadOnlyDictionary<string, double[]> p, int width, double eps, bool center)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / width; r++)
        {
            double mean = 0, sq = 0;
            for (int j = 0; j < width; j++) { mean += x[r * width + j]; sq += x[r * width + j] * x[r * width + j]; }
            mean /= width; sq /= width;
            double var = center ? Math.Max(0, sq - mean * mean) : sq;
            if (!center) mean = 0;
            for (int j = 0; j < width; j++)
            {
                double v = (x[r * width + j] - mean) / Math.Sqrt(var + eps);
                if (p.TryGetValue("scale", out var s)) v *= s[j];
                if (p.TryGetValue("bias", out var b)) v += b[j];
                y[r * width + j] = v;
            }
        }
        return y;
    }

    [Fact]
    public void LayerNormMatchesTheFormulaWithGradients()
    {
        var m = LayerNorm(scaleInit: Random(1), biasInit: Random(2), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(3, 3, 4, 6);
        var (_, p) = m.Initialize(Rng.Key(0), x);
        LayerCheck.AgainstReference(m, x, Params(p), (xs, ps) => LayerNormReference(xs, ps, 6, 1e-6, center: true));
        // The exact variance (useFastVariance: false) is the same function.
        var exact = LayerNorm(scaleInit: Random(1), biasInit: Random(2), useFastVariance: false, epsilon: 1e-3, paramDtype: DType.Float64);
        var (_, pe) = exact.Initialize(Rng.Key(0), x);
        LayerCheck.AgainstReference(exact, x, Params(pe), (xs, ps) => LayerNormReference(xs, ps, 6, 1e-3, center: true));
    }

    [Fact]
    public void LayerNormOverSeveralAxes()
    {
        // Statistics over the last two axes, one scale/bias per element of them (Flax's feature_axes).
        var m = LayerNorm(reductionAxes: new[] { -2, -1 }, featureAxes: new[] { -2, -1 }, scaleInit: Random(4), biasInit: Random(5), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(6, 2, 3, 4);
        var (_, p) = m.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(3, 4), Params(p)["scale"].Shape);
        LayerCheck.AgainstReference(m, x, Params(p), (xs, ps) => LayerNormReference(xs, ps, 12, 1e-6, center: true));
    }

    [Fact]
    public void RMSNormMatchesTheFormulaWithGradients()
    {
        var (_, p0) = RMSNorm().Initialize(Rng.Key(0), new AbstractValue(new Shape(4, 5), DType.Float32));
        Assert.Equal(new[] { "scale" }, Params(p0).Keys);
        var m = RMSNorm(scaleInit: Random(7), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(8, 5, 7);
        var (_, p) = m.Initialize(Rng.Key(0), x);
        LayerCheck.AgainstReference(m, x, Params(p), (xs, ps) => LayerNormReference(xs, ps, 7, 1e-6, center: false));
    }

    [Fact]
    public void GroupNormMatchesTheFormulaWithGradients()
    {
        const int n = 2, h = 3, w = 2, c = 6, groups = 3, size = c / groups;
        var m = GroupNorm(numGroups: groups, scaleInit: Random(9), biasInit: Random(10), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(11, n, h, w, c);
        var (_, p) = m.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(c), Params(p)["scale"].Shape);
        Assert.Equal(new Shape(c), Params(p)["bias"].Shape);
        double[] Reference(double[] xs, IReadOnlyDictionary<string, double[]> ps)
        {
            var y = new double[xs.Length];
            for (int b = 0; b < n; b++)
                for (int g = 0; g < groups; g++)
                {
                    var idx = new List<int>();
                    for (int i = 0; i < h * w; i++)
                        for (int k = 0; k < size; k++) idx.Add((b * h * w + i) * c + g * size + k);
                    double mean = idx.Average(i => xs[i]);
                    double var = Math.Max(0, idx.Average(i => xs[i] * xs[i]) - mean * mean);
                    foreach (var i in idx)
                        y[i] = (xs[i] - mean) / Math.Sqrt(var + 1e-6) * ps["scale"][i % c] + ps["bias"][i % c];
                }
            return y;
        }
        LayerCheck.AgainstReference(m, x, Params(p), Reference);
        // groupSize instead of numGroups: the same layer.
        var bySize = GroupNorm(numGroups: null, groupSize: size, scaleInit: Random(9), biasInit: Random(10), paramDtype: DType.Float64);
        LayerCheck.AgainstReference(bySize, x, Params(p), Reference);
    }

    [Fact]
    public void GroupNormRejectsBadGroupings()
    {
        Check.Throws<ArgumentException>(() => GroupNorm(numGroups: 4).Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 6), DType.Float32)),
            "GroupNorm", "number of groups (4) does not divide the number of channels (6)");
        Check.Throws<ArgumentException>(() => GroupNorm(numGroups: 2, groupSize: 3), "GroupNorm", "either numGroups or groupSize");
        Check.Throws<ArgumentException>(() => GroupNorm(numGroups: 1, reductionAxes: new[] { 1 }).Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3, 6), DType.Float32)),
            "reduction axes must include the last axis");
    }

    [Fact]
    public void HalfInputsNormaliseInFloat32AndPromoteWithTheParameters()
    {
        // Flax: statistics in float32; the result has the promoted type of input and parameters.
        var x32 = Numerics.Tensor64(12, 2, 8).AsType(DType.Float32);
        var xb = x32.AsType(DType.BFloat16);
        var m = LayerNorm();
        var (_, p) = m.Initialize(Rng.Key(0), xb);
        var y = m.Apply(p, xb, training: false);
        Assert.Equal(DType.Float32, y.DType);
        var expected = LayerNormReference(xb.ToDoubleArray(), new Dictionary<string, double[]>(), 8, 1e-6, center: true);
        Numerics.Close(expected, y.ToDoubleArray(), 1e-5, 1e-5, "bfloat16 LayerNorm");
        // Without parameters the input's type is kept.
        var bare = LayerNorm(useBias: false, useScale: false);
        var (_, pb) = bare.Initialize(Rng.Key(0), xb);
        Assert.Equal(DType.BFloat16, bare.Apply(pb, xb, training: false).DType);
    }

    [Fact]
    public void ParametersOfAnotherWidthNameTheSlot()
    {
        var model = Serial(Dense(6), LayerNorm());
        var (_, p) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3), DType.Float32));
        var other = Serial(Dense(5), LayerNorm());
        Check.Throws<ArgumentException>(() => other.Apply(p, TestData.Tensor(1, new[] { 2, 3 }), training: false), "Serial/0/Dense");
        var ps = (object?[])p;
        var wrong = new object?[] { ((object?[])other.Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3), DType.Float32)).Parameters)[0], ps[1] };
        Check.Throws<ArgumentException>(() => other.Apply(wrong, TestData.Tensor(1, new[] { 2, 3 }), training: false), "Serial/1/LayerNorm", "(6,)", "(5,)");
    }
}
