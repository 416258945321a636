using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using static Stax.Transforms;

namespace Stax.Tests.RandomTests;

/// <summary>Keys: seeds, split, fold_in, deconstruction, batches of keys.</summary>
public class KeyTests
{
    static uint[] Data(Key k) => k.Data.ToArray<uint>();

    [Fact]
    public void SeedsMapAsJaxMapsThem()
    {
        // The seed table of JAX's own tests (tests/random_test.py, test_prng_seeds_and_keys): 32-bit
        // seeds as in the default mode, 64-bit seeds as with jax_enable_x64.
        Assert.Equal(new uint[] { 0, 0 }, Data(Rng.Key(0)));
        Assert.Equal(new uint[] { 0, 1 }, Data(Rng.Key(1)));
        Assert.Equal(new uint[] { 0, 2 }, Data(Rng.Key(2u)));
        Assert.Equal(new uint[] { 0, 3 }, Data(Rng.Key(3L)));
        Assert.Equal(new uint[] { 0, 4294967295 }, Data(Rng.Key(-1)));
        Assert.Equal(new uint[] { 4294967295, 4294967295 }, Data(Rng.Key(-1L)));
        Assert.Equal(new uint[] { 0, 4294967294 }, Data(Rng.Key(-2)));
        Assert.Equal(new uint[] { 4294967295, 4294967293 }, Data(Rng.Key(-3L)));
        Assert.Equal(new uint[] { 0, 2147483747 }, Data(Rng.Key(int.MaxValue + 100L)));
        Assert.Equal(new uint[] { 0, 2147483748 }, Data(Rng.Key((uint)int.MaxValue + 101u)));
        Assert.Equal(new uint[] { 4294967295, 2147483548 }, Data(Rng.Key(int.MinValue - 100L)));
        Assert.Equal(new uint[] { 2147483647, 4294967295 }, Data(Rng.Key(long.MaxValue)));
        Assert.Equal(new uint[] { 0, 4294967294 }, Data(Rng.Key(Tensor.Scalar(-2, DType.Int32))));
    }

    [Fact]
    public void SplitSelfCheck()
    {
        // DESIGN.md: split(key(0)) = [[1797259609, 2579123966], [928981903, 3453687069]].
        var (a, b) = Rng.Key(0);
        Assert.Equal(new uint[] { 1797259609, 2579123966 }, Data(a));
        Assert.Equal(new uint[] { 928981903, 3453687069 }, Data(b));
        var s = Rng.Split(Rng.Key(0), new Shape(2));
        Assert.Equal(new Shape(2), s.Shape);
        Assert.Equal(new uint[] { 1797259609, 2579123966, 928981903, 3453687069 }, s.Data.ToArray<uint>());
        // Split is threefry(key, (0, i)) with both words kept: check against the reference cipher.
        var key = Rng.Key(123456789L);
        var ks = key.Split(5);
        for (uint i = 0; i < 5; i++)
        {
            var (y0, y1) = Ref.Threefry2x32(0, 123456789, 0, i);
            Assert.Equal(new[] { y0, y1 }, Data(ks[i]));
        }
    }

    [Fact]
    public void FoldInEqualsSplit()
    {
        foreach (var key in new[] { Rng.Key(0), Rng.Key(42), Rng.Key(-7L) })
        {
            var ks = Rng.Split(key, 6);
            for (int i = 0; i < 6; i++)
                Assert.Equal(Data(ks[i]), Data(Rng.FoldIn(key, i)));
            Assert.Equal(Data(ks[3]), Data(key.FoldIn(Tensor.Scalar(3, DType.UInt32))));
        }
        // Negative data wraps to uint32, as jnp.uint32 does.
        var (y0, y1) = Ref.Threefry2x32(0, 5, 0, 0xFFFFFFFF);
        Assert.Equal(new[] { y0, y1 }, Data(Rng.FoldIn(Rng.Key(5), -1)));
    }

    [Fact]
    public void SplitShapesAndBatches()
    {
        var key = Rng.Key(9);
        var grid = Rng.Split(key, new Shape(2, 3));
        Assert.Equal(new Shape(2, 3), grid.Shape);
        var flat = Rng.Split(key, 6);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Data(flat[3 * i + j]), Data(grid[i][j]));
        // A batch of keys: each key splits on its own; element i holds the i-th new key of each.
        var batch = Rng.Split(key, new Shape(3));
        var sub = batch.Split(4);
        Assert.Equal(4, sub.Length);
        for (int b = 0; b < 3; b++)
        {
            var single = batch[b].Split(4);
            for (int i = 0; i < 4; i++)
                Assert.Equal(Data(single[i]), Data(sub[i][b]));
        }
        var stacked = Rng.Split(batch, new Shape(4));
        Assert.Equal(new Shape(4, 3), stacked.Shape);
        Assert.Equal(Data(sub[2][1]), Data(stacked[2][1]));
        Assert.Equal(Data(batch[2]), Data(batch[-1]));
        Assert.Empty(Rng.Split(key, 0));
        // FoldIn on a batch folds the same data into every key.
        var folded = Rng.FoldIn(batch, 7);
        for (int b = 0; b < 3; b++) Assert.Equal(Data(Rng.FoldIn(batch[b], 7)), Data(folded[b]));
    }

    [Fact]
    public void DeconstructionArity()
    {
        var key = Rng.Key(2024);
        void Same(Key[] expected, params Key[] got) { Assert.Equal(expected.Length, got.Length); for (int i = 0; i < got.Length; i++) Assert.Equal(Data(expected[i]), Data(got[i])); }
        { var (a, b) = key; Same(key.Split(2), a, b); }
        { var (a, b, c) = key; Same(key.Split(3), a, b, c); }
        { var (a, b, c, d) = key; Same(key.Split(4), a, b, c, d); }
        { var (a, b, c, d, e) = key; Same(key.Split(5), a, b, c, d, e); }
        { var (a, b, c, d, e, f) = key; Same(key.Split(6), a, b, c, d, e, f); }
        { var (a, b, c, d, e, f, g) = key; Same(key.Split(7), a, b, c, d, e, f, g); }
        { var (a, b, c, d, e, f, g, h) = key; Same(key.Split(8), a, b, c, d, e, f, g, h); }
        // The first key of a 2-way split differs from the first of a 3-way split only by count: both are fold_in(key, 0).
        var (x, _) = key;
        var (y, _, _) = key;
        Assert.Equal(Data(x), Data(y));
    }

    [Fact]
    public void BadKeys()
    {
        Check.Throws<ArgumentException>(() => new Key(Tensor.FromArray(new[] { 1, 2 }, 2)), "Key", "uint32", "int32");
        Check.Throws<ArgumentException>(() => new Key(Tensor.FromArray(new uint[] { 1, 2, 3 }, 3)), "Key", "(..., 2)");
        Check.Throws<ArgumentException>(() => new Key(Tensor.Scalar(1, DType.UInt32)), "Key", "(..., 2)");
        Check.Throws<ArgumentException>(() => { var _ = Rng.Key(0)[0]; }, "Key", "single key");
        Check.Throws<ArgumentException>(() => { var _ = Rng.Split(Rng.Key(0), new Shape(3))[3]; }, "Key", "index 3", "shape (3");
        Check.Throws<ArgumentException>(() => Rng.Split(Rng.Key(0), -1), "Rng.Split", "-1");
        Check.Throws<ArgumentException>(() => Rng.FoldIn(Rng.Key(0), 1.5), "Rng.FoldIn", "float32");
        Check.Throws<ArgumentException>(() => Rng.Key(Tensor.Scalar(1.0)), "Rng.Key", "integer scalar");
        Check.Throws<ArgumentException>(() => Rng.Normal(Rng.Split(Rng.Key(0), new Shape(2)), new Shape(3)), "Rng.Normal", "single key", "shape (2");
        Assert.Contains("data=[0, 7]", Rng.Key(7).ToString());
    }

    [Fact]
    public void KeysUnderJitAndVmap()
    {
        var key = Rng.Key(11);
        Func<Tensor[], Tensor[]> split = xs => new[] { Rng.Split(new Key(xs[0]), new Shape(3)).Data, Rng.FoldIn(new Key(xs[0]), xs[1]).Data };
        var args = new[] { key.Data, Tensor.Scalar(5, DType.Int32) };
        TransformCheck.JitMatchesEager(split, args, "split/fold_in");
        TransformCheck.EvalShapeMatches(split, args);
        var batch = Rng.Split(key, new Shape(4));
        TransformCheck.Vmap(split, new[] { batch.Data, Tensor.FromArray(new[] { 1, 2, 3, 4 }, 4) }, new int?[] { 0, 0 }, name: "split/fold_in over keys and data");
        TransformCheck.Vmap(split, new[] { batch.Data, args[1] }, new int?[] { 0, null }, name: "split/fold_in over keys");
        TransformCheck.Vmap(split, new[] { key.Data, Tensor.FromArray(new[] { 1, 2, 3 }, 3) }, new int?[] { null, 0 }, name: "fold_in over data");
        // Keys stored with the batch dimension last (data [2, B]) map along axis 1.
        TransformCheck.Vmap(split, new[] { Np.Transpose(batch.Data), args[1] }, new int?[] { 1, null }, name: "keys mapped along the last axis");
    }
}
