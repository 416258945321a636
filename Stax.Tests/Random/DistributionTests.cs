using Stax.Tests.Infrastructure;

namespace Stax.Tests.RandomTests;

/// <summary>
/// Statistical checks with fixed seeds (so they cannot flake) and bounds of many standard errors,
/// plus the structural properties of permutations and choices.
/// </summary>
public class DistributionTests
{
    const int N = 100_000;

    static (double Mean, double Var) Moments(double[] v)
    {
        double m = v.Average();
        return (m, v.Select(x => (x - m) * (x - m)).Average());
    }

    static double ChiSquare(long[] counts, double[] probs)
    {
        long n = counts.Sum();
        return counts.Select((c, i) => (c - n * probs[i]) * (c - n * probs[i]) / (n * probs[i])).Sum();
    }

    [Fact]
    public void NormalMeanAndVariance()
    {
        // Standard error of the mean 0.0032 and of the variance 0.0045 at n = 1e5.
        var (m, v) = Moments(Rng.Normal(Rng.Key(1), new[] { N }).ToDoubleArray());
        Assert.InRange(m, -0.02, 0.02);
        Assert.InRange(v, 0.97, 1.03);
        var (m64, v64) = Moments(Rng.Normal(Rng.Key(2), new[] { N }, DType.Float64).ToDoubleArray());
        Assert.InRange(m64, -0.02, 0.02);
        Assert.InRange(v64, 0.97, 1.03);
    }

    [Fact]
    public void UniformBucketsChiSquare()
    {
        var u = Rng.Uniform(Rng.Key(3), new[] { N }).ToDoubleArray();
        Assert.All(u, x => Assert.InRange(x, 0.0, 0.99999995));
        var counts = new long[100];
        foreach (var x in u) counts[(int)(x * 100)]++;
        // 99 degrees of freedom: mean 99, standard deviation 14.
        Assert.InRange(ChiSquare(counts, Enumerable.Repeat(0.01, 100).ToArray()), 40, 200);
        var s = Rng.Uniform(Rng.Key(4), new[] { N }, DType.Float32, -3, 5).ToDoubleArray();
        Assert.All(s, x => Assert.InRange(x, -3.0, 5.0 - 1e-7));
        Assert.InRange(s.Average(), 0.95, 1.05);
    }

    [Fact]
    public void RandIntChiSquareAndRanges()
    {
        var r = Rng.RandInt(Rng.Key(5), new[] { N }, 3, 13).ToArray<int>();
        Assert.All(r, x => Assert.InRange(x, 3, 12));
        var counts = new long[10];
        foreach (var x in r) counts[x - 3]++;
        Assert.InRange(ChiSquare(counts, Enumerable.Repeat(0.1, 10).ToArray()), 0.5, 50); // 9 dof
        // maxval <= minval gives minval; negative ranges; uint8 with maxval 256 (one past the dtype's range).
        Assert.All(Rng.RandInt(Rng.Key(6), new[] { 50 }, 7, 7).ToArray<int>(), x => Assert.Equal(7, x));
        Assert.All(Rng.RandInt(Rng.Key(6), new[] { 50 }, 7, 2).ToArray<int>(), x => Assert.Equal(7, x));
        Assert.All(Rng.RandInt(Rng.Key(7), new[] { 1000 }, -20, -10).ToArray<int>(), x => Assert.InRange(x, -20, -11));
        var bytes = Rng.RandInt(Rng.Key(8), new[] { 20000 }, 0, 256, DType.UInt8).ToArray<byte>();
        Assert.Contains((byte)255, bytes);
        Assert.Contains((byte)0, bytes);
        var full = Rng.RandInt(Rng.Key(9), new[] { 20000 }, int.MinValue, int.MaxValue).ToArray<int>();
        Assert.True(full.Count(x => x < 0) is > 9000 and < 11000);
        var u32 = Rng.RandInt(Rng.Key(10), new[] { 1000 }, 5, 9, DType.UInt32).ToArray<uint>();
        Assert.All(u32, x => Assert.InRange(x, 5u, 8u));
        // Per-element bounds broadcast.
        var lo = Tensor.FromArray(new[] { 0, 100, 1000 }, 3, 1);
        var b = Rng.RandInt(Rng.Key(11), new[] { 3, 400 }, lo, Np.Add(lo, 10)).ToArray<int>();
        for (int i = 0; i < b.Length; i++) Assert.InRange(b[i], new[] { 0, 100, 1000 }[i / 400], new[] { 0, 100, 1000 }[i / 400] + 9);
    }

    [Fact]
    public void BernoulliAndGumbelAndTruncatedNormal()
    {
        var b = Rng.Bernoulli(Rng.Key(12), 0.3, new Shape(N));
        Assert.Equal(DType.Bool, b.DType);
        Assert.InRange(b.ToDoubleArray().Average(), 0.29, 0.31);
        var pv = Tensor.FromArray(new[] { 0f, 1f }, 2);
        var edge = Rng.Bernoulli(Rng.Key(13), pv, new Shape(1000, 2)).ToDoubleArray();
        for (int i = 0; i < edge.Length; i++) Assert.Equal(i % 2, edge[i]);
        Assert.InRange(Rng.Bernoulli(Rng.Key(14), shape: new Shape(N)).ToDoubleArray().Average(), 0.49, 0.51);

        var g = Rng.Gumbel(Rng.Key(15), new[] { N }).ToDoubleArray();
        Assert.InRange(g.Average(), 0.5772 - 0.025, 0.5772 + 0.025); // Euler-Mascheroni; sd 1.28
        Assert.All(g, x => Assert.True(double.IsFinite(x)));

        var t = Rng.TruncatedNormal(Rng.Key(16), -1.0, 2.0, new Shape(N)).ToDoubleArray();
        Assert.All(t, x => Assert.True(x > -1 && x < 2, $"{x} outside (-1, 2)"));
        // Mean of N(0,1) truncated to (-1, 2): (phi(-1) - phi(2)) / (Phi(2) - Phi(-1)) = 0.2288.
        Assert.InRange(t.Average(), 0.2288 - 0.02, 0.2288 + 0.02);
        var tight = Rng.TruncatedNormal(Rng.Key(17), 0.5, 0.5000001, new Shape(100), DType.Float64).ToDoubleArray();
        Assert.All(tight, x => Assert.True(x > 0.5 && x < 0.5000001));
    }

    [Fact]
    public void CategoricalFrequencies()
    {
        var p = new[] { 0.1, 0.2, 0.3, 0.4 };
        var logits = Tensor.FromArray(p.Select(x => (float)Math.Log(x)).ToArray(), 4);
        var c = Rng.Categorical(Rng.Key(18), logits, shape: new Shape(N)).ToArray<int>();
        var counts = new long[4];
        foreach (var x in c) counts[x]++;
        Assert.InRange(ChiSquare(counts, p), 0.01, 25); // 3 dof
        // Batched logits along axis 0: column j always picks its certain category.
        var certain = Tensor.FromArray(new[] { 0f, -1e30f, -1e30f, 0f }, 2, 2);
        var pick = Rng.Categorical(Rng.Key(19), certain, axis: 0, shape: new Shape(5, 2)).ToArray<int>();
        for (int i = 0; i < pick.Length; i++) Assert.Equal(i % 2, pick[i]);
        Assert.Equal(new Shape(2), Rng.Categorical(Rng.Key(19), certain).Shape);
    }

    static void AssertPermutationOf(int[] expectedSorted, int[] got) => Assert.Equal(expectedSorted, got.OrderBy(x => x).ToArray());

    [Fact]
    public void Permutations()
    {
        foreach (int n in new[] { 0, 1, 2, 10, 100, 2000 }) // 2000 takes two sort rounds
        {
            var perm = Rng.Permutation(Rng.Key(20 + n), n).ToArray<int>();
            AssertPermutationOf(Enumerable.Range(0, n).ToArray(), perm);
            if (n >= 100) Assert.True(perm.Where((v, i) => v != i).Count() > n / 2, "a permutation of 100+ elements moves most of them");
        }
        // Rows move together; independent shuffles each column on its own.
        var x = Tensor.FromArray(Enumerable.Range(0, 40).ToArray(), 10, 4);
        var rows = Rng.Permutation(Rng.Key(30), x).ToArray<int>();
        for (int i = 0; i < 10; i++)
            for (int j = 1; j < 4; j++) Assert.Equal(rows[4 * i] + j, rows[4 * i + j]);
        AssertPermutationOf(Enumerable.Range(0, 40).ToArray(), rows);
        var cols = Rng.Permutation(Rng.Key(31), x, axis: 1).ToArray<int>();
        for (int i = 0; i < 10; i++) AssertPermutationOf(Enumerable.Range(4 * i, 4).ToArray(), cols[(4 * i)..(4 * i + 4)]);
        var ind = Rng.Permutation(Rng.Key(32), x, axis: 0, independent: true).ToArray<int>();
        for (int j = 0; j < 4; j++)
            AssertPermutationOf(Enumerable.Range(0, 10).Select(i => 4 * i + j).ToArray(), Enumerable.Range(0, 10).Select(i => ind[4 * i + j]).ToArray());
        Assert.Equal(Rng.Permutation(Rng.Key(33), Np.Arange(50)).ToArray<int>(), Rng.Permutation(Rng.Key(33), 50).ToArray<int>());
        Assert.Equal(Rng.Permutation(Rng.Key(33), 50).ToArray<int>(), Rng.Shuffle(Rng.Key(33), Np.Arange(50)).ToArray<int>());
    }

    [Fact]
    public void Choices()
    {
        var without = Rng.Choice(Rng.Key(40), 100, new Shape(10, 5), replace: false).ToArray<int>();
        Assert.Equal(50, without.Distinct().Count());
        Assert.All(without, v => Assert.InRange(v, 0, 99));
        var all = Rng.Choice(Rng.Key(41), 30, new Shape(30), replace: false).ToArray<int>();
        AssertPermutationOf(Enumerable.Range(0, 30).ToArray(), all);

        var with = Rng.Choice(Rng.Key(42), 5, new Shape(N)).ToArray<int>();
        var counts = new long[5];
        foreach (var v in with) counts[v]++;
        Assert.InRange(ChiSquare(counts, Enumerable.Repeat(0.2, 5).ToArray()), 0.01, 30); // 4 dof

        var p = new[] { 0.5f, 0f, 0.25f, 0.25f };
        var pw = Rng.Choice(Rng.Key(43), 4, new Shape(N), p: Tensor.FromArray(p, 4)).ToArray<int>();
        counts = new long[4];
        foreach (var v in pw) counts[v]++;
        Assert.Equal(0, counts[1]);
        Assert.InRange(ChiSquare(new[] { counts[0], counts[2], counts[3] }, new[] { 0.5, 0.25, 0.25 }), 0.001, 25);
        var pn = Rng.Choice(Rng.Key(44), 4, new Shape(3), replace: false, p: Tensor.FromArray(p, 4)).ToArray<int>();
        Assert.Equal(new[] { 0, 2, 3 }, pn.OrderBy(v => v).ToArray());

        // Choosing slices of an array along an axis: shape a.shape[:axis] ++ shape ++ a.shape[axis+1:].
        var a = Tensor.FromArray(Enumerable.Range(0, 12).Select(v => (float)v).ToArray(), 3, 4);
        var picked = Rng.Choice(Rng.Key(45), a, new Shape(2), replace: false, axis: 1);
        Assert.Equal(new Shape(3, 2), picked.Shape);
        var pv = picked.ToArray<float>();
        Assert.NotEqual(pv[0], pv[1]);
        for (int i = 1; i < 3; i++) { Assert.Equal(pv[0] + 4 * i, pv[2 * i]); Assert.Equal(pv[1] + 4 * i, pv[2 * i + 1]); }
        Assert.Equal(new Shape(5, 4), Rng.Choice(Rng.Key(46), a, new Shape(5)).Shape);
        Assert.Equal(Shape.Scalar, Rng.Choice(Rng.Key(47), 7).Shape);
        Assert.Equal(new Shape(0, 4), Rng.Choice(Rng.Key(47), a, new Shape(0)).Shape);
    }
}
