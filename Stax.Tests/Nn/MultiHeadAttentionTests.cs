using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;
using static Stax.Tests.Nn.AttentionTests;

namespace Stax.Tests.Nn;

/// <summary>Multi-head attention (Flax's MultiHeadDotProductAttention) against a double reference.</summary>
public class MultiHeadAttentionTests
{
    // Each parameter gets its own seeded values (the initializer is called once per parameter, in order).
    static Initializer Seeded(int start)
    {
        int next = start;
        return (k, s, d) => Numerics.Tensor64(Interlocked.Increment(ref next), s.ToArray());
    }

    /// <summary>Projections, per-head attention and the output projection, in double.</summary>
    static double[] Reference(double[] xq, double[] xkv, IReadOnlyDictionary<string, double[]> p, int batch, int lq, int lk, int features,
        int qkv, int heads, int outFeatures, Func<int, int, int, int, bool>? keep = null, bool rotary = false)
    {
        int dh = qkv / heads;
        double[] Project(double[] x, int length, string name)
        {
            var kernel = p[name + "/kernel"];
            var bias = p[name + "/bias"];
            var y = new double[batch * length * qkv];
            for (int r = 0; r < batch * length; r++)
                for (int o = 0; o < qkv; o++)
                {
                    double s = bias[o];
                    for (int f = 0; f < features; f++) s += x[r * features + f] * kernel[f * qkv + o];
                    y[r * qkv + o] = s;
                }
            return y;
        }
        var q = Project(xq, lq, "query");
        var k = Project(xkv, lk, "key");
        var v = Project(xkv, lk, "value");
        if (rotary)
        {
            q = RopeReference(q, Enumerable.Range(0, lq).Select(i => (double)i).ToArray(), batch, lq, heads, dh);
            k = RopeReference(k, Enumerable.Range(0, lk).Select(i => (double)i).ToArray(), batch, lk, heads, dh);
        }
        var y = AttentionReference(q, k, v, batch, lq, lk, heads, dh, dh, keep);
        var outKernel = p["out/kernel"];
        var outBias = p["out/bias"];
        var result = new double[batch * lq * outFeatures];
        for (int r = 0; r < batch * lq; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                double s = outBias[o];
                for (int j = 0; j < qkv; j++) s += y[r * qkv + j] * outKernel[j * outFeatures + o];
                result[r * outFeatures + o] = s;
            }
        return result;
    }

    [Fact]
    public void ParametersHaveFlaxNamesAndShapes()
    {
        var attn = MultiHeadDotProductAttention(numHeads: 4, normalizeQk: true);
        var (o, p) = attn.Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 5, 8), DType.Float32));
        Assert.Equal(new Shape(2, 5, 8), o.Shape);
        var shapes = Tree.FlattenWithPaths(p).Leaves.ToDictionary(l => LayerCheck.Name(l.Path), l => l.Leaf.Shape);
        Assert.Equal(new Dictionary<string, Shape>
        {
            ["key/bias"] = new(4, 2), ["key/kernel"] = new(8, 4, 2), ["key_ln/scale"] = new(2),
            ["out/bias"] = new(8), ["out/kernel"] = new(4, 2, 8),
            ["query/bias"] = new(4, 2), ["query/kernel"] = new(8, 4, 2), ["query_ln/scale"] = new(2),
            ["value/bias"] = new(4, 2), ["value/kernel"] = new(8, 4, 2),
        }, shapes);
        var leaves = Tree.FlattenWithPaths(p).Leaves.ToDictionary(l => LayerCheck.Name(l.Path), l => l.Leaf);
        Assert.All(leaves["query/bias"].ToDoubleArray(), v => Assert.Equal(0.0, v));
        Check.Throws<ArgumentException>(() => MultiHeadDotProductAttention(3).Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 5, 8), DType.Float32)),
            "qkv features (8) must be divisible by the number of heads (3)");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CausalSelfAttentionMatchesTheReferenceWithGradients(bool rotary)
    {
        const int B = 2, L = 4, F = 8, H = 2;
        var attn = MultiHeadDotProductAttention(H, kernelInit: Seeded(100), biasInit: Seeded(200), rotary: rotary, paramDtype: DType.Float64);
        var x = Numerics.Tensor64(1, B, L, F);
        var causal = MakeCausalMask(Tensor.Zeros(new Shape(B, L)));
        var model = Module.Create((p, t) => attn.Call(p, t, mask: causal), "SelfAttention");
        var (_, parameters) = model.Initialize(Rng.Key(0), x);
        LayerCheck.AgainstReference(model, x, parameters,
            (xs, ps) => Reference(xs, xs, ps, B, L, L, F, F, H, F, (b, h, i, j) => j <= i, rotary), tol: 1e-10, gradTol: 1e-6);
    }

    [Fact]
    public void CrossAttentionWithOtherWidthsMatchesTheReference()
    {
        const int B = 2, Lq = 3, Lk = 5, F = 6, Qkv = 4, H = 2, O = 5;
        var attn = MultiHeadDotProductAttention(H, qkvFeatures: Qkv, outFeatures: O, kernelInit: Seeded(300), biasInit: Seeded(400), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(2, B, Lq, F);
        var memory = Numerics.Tensor64(3, B, Lk, F);
        var model = Module.Create((p, t) => attn.Call(p, t, memory), "CrossAttention");
        var (o, parameters) = model.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(B, Lq, O), o.Shape);
        var mem = memory.ToDoubleArray();
        LayerCheck.AgainstReference(model, x, parameters,
            (xs, ps) => Reference(xs, mem, ps, B, Lq, Lk, F, Qkv, H, O), tol: 1e-10, gradTol: 1e-6);
        // The tree input of ApplyTree gives the same values.
        var viaTree = (Tensor)attn.ApplyTree(parameters, new object?[] { x, memory, null, null }, training: false);
        Numerics.Close(model.Apply(parameters, x, training: false).ToDoubleArray(), viaTree.ToDoubleArray(), 0, 0, "ApplyTree");
    }

    [Fact]
    public void AttentionDropoutDrawsFromTheDropoutStream()
    {
        var attn = MultiHeadDotProductAttention(2, dropoutRate: 0.5);
        var model = Serial(Dense(8), attn);
        var x = Numerics.Tensor64(4, 2, 6, 3).AsType(DType.Float32);
        var (_, p) = model.Initialize(Rng.Key(0), x);
        var clean = model.Apply(p, x, training: false).ToDoubleArray();
        var a = model.Apply(p, x, training: true, rngs: new() { ["dropout"] = Rng.Key(1) }).ToDoubleArray();
        var b = model.Apply(p, x, training: true, rngs: new() { ["dropout"] = Rng.Key(1) }).ToDoubleArray();
        var c = model.Apply(p, x, training: true, rngs: new() { ["dropout"] = Rng.Key(2) }).ToDoubleArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(clean, a);
        // Without any key, the error names the layer's slot and the stream.
        var inner = Module.Create((q, t) => attn.Call(q["attn"], t), "Block");
        var x8 = Numerics.Tensor64(5, 2, 6, 8).AsType(DType.Float32);
        var (_, pi) = inner.Initialize(Rng.Key(0), x8);
        Check.Throws<ArgumentException>(() => inner.Apply(pi, x8, training: true), "Block/attn", "'dropout'");
    }
}
