using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Dot-product attention, masks, multi-head attention and RoPE against double references.</summary>
public class AttentionTests
{
    static Initializer Random(int seed) => (k, s, d) => Numerics.Tensor64(seed, s.ToArray());

    // [batch, length, heads, depth] row-major.
    internal static int At(int b, int l, int h, int d, int length, int heads, int depth) => ((b * length + l) * heads + h) * depth + d;

    /// <summary>Attention in double: softmax over keys of q·k/√depth (+ bias), masked logits set to double.MinValue.</summary>
    internal static double[] AttentionReference(double[] q, double[] k, double[] v, int batch, int lq, int lk, int heads, int depth, int vdepth,
        Func<int, int, int, int, bool>? keep = null, Func<int, int, int, int, double>? bias = null)
    {
        var y = new double[batch * lq * heads * vdepth];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < lq; i++)
                {
                    var logits = new double[lk];
                    for (int j = 0; j < lk; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < depth; d++) s += q[At(b, i, h, d, lq, heads, depth)] * k[At(b, j, h, d, lk, heads, depth)];
                        s /= Math.Sqrt(depth);
                        if (bias != null) s += bias(b, h, i, j);
                        logits[j] = keep == null || keep(b, h, i, j) ? s : double.MinValue;
                    }
                    var w = Numerics.Softmax(logits);
                    for (int e = 0; e < vdepth; e++)
                    {
                        double s = 0;
                        for (int j = 0; j < lk; j++) s += w[j] * v[At(b, j, h, e, lk, heads, vdepth)];
                        y[At(b, i, h, e, lq, heads, vdepth)] = s;
                    }
                }
        return y;
    }

    [Fact]
    public void DotProductAttentionWithMaskAndBiasMatchesTheFormulaWithGradients()
    {
        const int B = 2, Lq = 3, Lk = 4, H = 2, D = 5, Dv = 3;
        var q = Numerics.Tensor64(1, B, Lq, H, D);
        var k = Numerics.Tensor64(2, B, Lk, H, D);
        var v = Numerics.Tensor64(3, B, Lk, H, Dv);
        // A padding mask per batch element (broadcast over heads) and a per-head bias (broadcast over batch).
        bool Keep(int b, int h, int i, int j) => !(b == 1 && j == 3) && !(b == 0 && i == 0 && j > 1);
        var maskValues = new bool[B * Lq * Lk];
        for (int b = 0; b < B; b++) for (int i = 0; i < Lq; i++) for (int j = 0; j < Lk; j++) maskValues[(b * Lq + i) * Lk + j] = Keep(b, 0, i, j);
        var mask = Tensor.FromArray(maskValues, B, 1, Lq, Lk);
        var biasValues = Numerics.Values(4, H * Lq * Lk);
        var bias = Tensor.FromArray(biasValues, 1, H, Lq, Lk);
        double Bias(int b, int h, int i, int j) => biasValues[(h * Lq + i) * Lk + j];

        var y = DotProductAttention(q, k, v, bias, mask);
        Assert.Equal(new Shape(B, Lq, H, Dv), y.Shape);
        double[] Ref(double[] qs, double[] ks, double[] vs) => AttentionReference(qs, ks, vs, B, Lq, Lk, H, D, Dv, Keep, Bias);
        var (qa, ka, va) = (q.ToDoubleArray(), k.ToDoubleArray(), v.ToDoubleArray());
        Numerics.Close(Ref(qa, ka, va), y.ToDoubleArray(), 1e-12, 1e-12, "attention");

        var w = Numerics.Values(5, (int)y.Size);
        var wt = Tensor.FromArray(w, y.Shape.ToArray());
        var g = Transforms.Grad((object?[] a) => Np.Sum(DotProductAttention((Tensor)a[0]!, (Tensor)a[1]!, (Tensor)a[2]!, bias, mask) * wt))(
            new object?[] { q, k, v });
        int nq = qa.Length, nk = ka.Length;
        var numeric = Numerics.Gradient(all => Numerics.Dot(Ref(all[..nq], all[nq..(nq + nk)], all[(nq + nk)..]), w), qa.Concat(ka).Concat(va).ToArray());
        Numerics.Close(numeric[..nq], ((Tensor)g[0]!).ToDoubleArray(), 1e-6, 1e-7, "d/dquery");
        Numerics.Close(numeric[nq..(nq + nk)], ((Tensor)g[1]!).ToDoubleArray(), 1e-6, 1e-7, "d/dkey");
        Numerics.Close(numeric[(nq + nk)..], ((Tensor)g[2]!).ToDoubleArray(), 1e-6, 1e-7, "d/dvalue");
    }

    [Fact]
    public void AttentionWithoutBatchDimensionsAndWithFloat32()
    {
        var q = Numerics.Tensor64(6, 3, 2, 4);
        var k = Numerics.Tensor64(7, 5, 2, 4);
        var v = Numerics.Tensor64(8, 5, 2, 4);
        var expected = AttentionReference(q.ToDoubleArray(), k.ToDoubleArray(), v.ToDoubleArray(), 1, 3, 5, 2, 4, 4);
        Numerics.Close(expected, DotProductAttention(q, k, v).ToDoubleArray(), 1e-12, 1e-12, "rank 3");
        var y32 = DotProductAttention(q.AsType(DType.Float32), k.AsType(DType.Float32), v.AsType(DType.Float32));
        Assert.Equal(DType.Float32, y32.DType);
        Numerics.Close(expected, y32.ToDoubleArray(), 1e-5, 1e-5, "float32");
        Check.Throws<ArgumentException>(() => DotProductAttention(q, Numerics.Tensor64(9, 5, 3, 4), v), "DotProductAttention", "heads");
    }

    [Fact]
    public void CausalMaskAsFlax()
    {
        var m = MakeCausalMask(Tensor.Zeros(new Shape(2, 4), DType.Int32));
        Assert.Equal(new Shape(2, 1, 4, 4), m.Shape);
        Assert.Equal(DType.Float32, m.DType);
        var values = m.ToDoubleArray();
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    Assert.Equal(j <= i ? 1.0 : 0.0, values[(b * 4 + i) * 4 + j]);
        Assert.Equal(new Shape(1, 1, 1, 3, 3), MakeCausalMask(Tensor.Zeros(new Shape(1, 3)), extraBatchDims: 1).Shape);
        // Padding mask from 0/1 tokens, combined with the causal one.
        var tokens = Tensor.FromArray(new[] { 1.0f, 1, 1, 0 }, 1, 4);
        var pad = MakeAttentionMask(tokens, tokens);
        var both = CombineMasks(MakeCausalMask(tokens), null, pad)!;
        var bv = both.ToDoubleArray();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(j <= i && i < 3 && j < 3 ? 1.0 : 0.0, bv[i * 4 + j]);
        Assert.Null(CombineMasks(null, null));
        Assert.Equal(DType.Bool, CombineMasks(new[] { pad }, DType.Bool)!.DType);
    }

    [Fact]
    public void FullyMaskedRowsAttendUniformlyAsFlax()
    {
        // Every logit is the dtype's minimum, so the softmax is uniform (Flax's behaviour).
        var q = Numerics.Tensor64(10, 1, 2, 1, 3);
        var k = Numerics.Tensor64(11, 1, 3, 1, 3);
        var v = Numerics.Tensor64(12, 1, 3, 1, 2);
        var mask = Tensor.FromArray(new[] { true, false, true, false, false, false }, 1, 1, 2, 3);
        var w = DotProductAttentionWeights(q, k, mask: mask).ToDoubleArray();
        Assert.Equal(0.0, w[1]);
        Numerics.Close(new[] { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, w[3..], 1e-15, 0, "masked row");
        Assert.Equal(1.0, w[0] + w[2], 12);
    }

    [Fact]
    public void AttentionDropoutIsSharedAcrossBatchAndHeadsAndRescales()
    {
        var q = Numerics.Tensor64(13, 2, 4, 3, 2);
        var k = Numerics.Tensor64(14, 2, 5, 3, 2);
        var clean = DotProductAttentionWeights(q, k).ToDoubleArray();
        var dropped = DotProductAttentionWeights(q, k, dropoutRng: Rng.Key(3), dropoutRate: 0.5).ToDoubleArray();
        Assert.Equal(clean, DotProductAttentionWeights(q, k, dropoutRng: Rng.Key(3), dropoutRate: 0.5, deterministic: true).ToDoubleArray());
        int zeros = 0;
        for (int i = 0; i < 4 * 5; i++)
        {
            bool kept = dropped[i] != 0;
            if (!kept) zeros++;
            for (int bh = 0; bh < 6; bh++)
                Assert.Equal(kept ? clean[bh * 20 + i] / 0.5 : 0.0, dropped[bh * 20 + i], 12);
        }
        Assert.InRange(zeros, 1, 19);
        var unshared = DotProductAttentionWeights(q, k, dropoutRng: Rng.Key(3), dropoutRate: 0.5, broadcastDropout: false).ToDoubleArray();
        Assert.NotEqual(unshared[..20].Select(x => x == 0), unshared[20..40].Select(x => x == 0));
        Check.Throws<ArgumentException>(() => DotProductAttentionWeights(q, k, dropoutRate: 0.5), "dropoutRng");
    }

    internal static double[] RopeReference(double[] x, double[] positions, int batch, int length, int heads, int depth)
    {
        var y = (double[])x.Clone();
        int half = depth / 2;
        for (int b = 0; b < batch; b++)
            for (int l = 0; l < length; l++)
                for (int h = 0; h < heads; h++)
                    for (int i = 0; i < half; i++)
                    {
                        double angle = positions[positions.Length == length ? l : b * length + l] / Math.Pow(10000, 2.0 * i / depth);
                        double a = x[At(b, l, h, i, length, heads, depth)], c = x[At(b, l, h, i + half, length, heads, depth)];
                        y[At(b, l, h, i, length, heads, depth)] = a * Math.Cos(angle) - c * Math.Sin(angle);
                        y[At(b, l, h, i + half, length, heads, depth)] = c * Math.Cos(angle) + a * Math.Sin(angle);
                    }
        return y;
    }

    [Fact]
    public void RotaryEmbeddingMatchesTheFormulaWithGradients()
    {
        const int B = 2, L = 5, H = 2, D = 8;
        var x = Numerics.Tensor64(15, B, L, H, D);
        var xs = x.ToDoubleArray();
        var arange = Enumerable.Range(0, L).Select(i => (double)i).ToArray();
        Numerics.Close(RopeReference(xs, arange, B, L, H, D), ApplyRotaryEmbedding(x).ToDoubleArray(), 1e-12, 1e-12, "default positions");
        var pos = new double[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 };
        var posT = Tensor.FromArray(pos.Select(p => (int)p).ToArray(), B, L);
        Numerics.Close(RopeReference(xs, pos, B, L, H, D), ApplyRotaryEmbedding(x, posT).ToDoubleArray(), 1e-12, 1e-12, "given positions");
        var w = Numerics.Values(16, xs.Length);
        var wt = Tensor.FromArray(w, x.Shape.ToArray());
        var g = Transforms.Grad((Tensor t) => Np.Sum(ApplyRotaryEmbedding(t, posT) * wt))(x);
        Numerics.Close(Numerics.Gradient(v => Numerics.Dot(RopeReference(v, pos, B, L, H, D), w), xs), g.ToDoubleArray(), 1e-7, 1e-8, "d/dx");
        Check.Throws<ArgumentException>(() => ApplyRotaryEmbedding(Numerics.Tensor64(1, 1, 2, 1, 3)), "ApplyRotaryEmbedding", "even");
    }

    [Fact]
    public void RotaryDotProductsDependOnlyOnTheOffset()
    {
        var q = Numerics.Tensor64(17, 1, 1, 1, 6);
        var k = Numerics.Tensor64(18, 1, 1, 1, 6);
        double Score(int m, int n) => Np.Sum(ApplyRotaryEmbedding(q, Tensor.FromArray(new[] { m }, 1, 1))
            * ApplyRotaryEmbedding(k, Tensor.FromArray(new[] { n }, 1, 1))).Item<double>();
        Assert.Equal(Score(5, 2), Score(13, 10), 12);
        Assert.Equal(Score(0, 7), Score(20, 27), 12);
        Assert.NotEqual(Score(5, 2), Score(5, 3), 6);
    }
}
