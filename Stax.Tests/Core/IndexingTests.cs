using Stax.Tests.Infrastructure;

namespace Stax.Tests.Core;

// NumPy basic indexing with C# Index/Range. Expected values are worked out by hand from NumPy's
// rules for x = arange(24).reshape(2, 3, 4), where x[i, j, k] = 12 i + 4 j + k.
public class IndexingTests
{
    static Tensor X => Np.Arange(24).Reshape(2, 3, 4);

    static void Is(Tensor t, int[] shape, params int[] values)
    {
        Assert.Equal(new Shape(shape), t.Shape);
        Assert.Equal(values, t.ToArray<int>());
    }

    [Fact]
    public void IntegersRemoveDimensions()
    {
        Is(X[0], new[] { 3, 4 }, Enumerable.Range(0, 12).ToArray());
        Is(X[^1], new[] { 3, 4 }, Enumerable.Range(12, 12).ToArray());
        Is(X[-1], new[] { 3, 4 }, Enumerable.Range(12, 12).ToArray());
        Is(X[1, .., ^1], new[] { 3 }, 15, 19, 23);
        Is(X[-1, -1, -1], new int[0], 23);
        Is(X[0, 2], new[] { 4 }, 8, 9, 10, 11);
        Is(X[1, ^3, 2], new int[0], 14);
    }

    [Fact]
    public void RangesClampLikePythonSlices()
    {
        Is(X[.., 1..^1], new[] { 2, 1, 4 }, 4, 5, 6, 7, 16, 17, 18, 19);
        Is(X[.., .., 2..], new[] { 2, 3, 2 }, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23);
        Is(X[.., 5..10], new[] { 2, 0, 4 });
        Is(X[.., 2..1], new[] { 2, 0, 4 });
        Is(X[.., ^10..], new[] { 2, 3, 4 }, Enumerable.Range(0, 24).ToArray());
        Is(X[0, 0, ..^1], new[] { 3 }, 0, 1, 2);
        Is(X[0, 0, ^0..], new[] { 0 });
        Is(X[1..3, 0, 0], new[] { 1 }, 12);
    }

    [Fact]
    public void EllipsisAndNewAxis()
    {
        Is(X[Idx.Ellipsis, 0], new[] { 2, 3 }, 0, 4, 8, 12, 16, 20);
        Is(X[1, Idx.Ellipsis], new[] { 3, 4 }, Enumerable.Range(12, 12).ToArray());
        Is(X[0, Idx.Ellipsis, 1], new[] { 3 }, 1, 5, 9);
        Is(X[Idx.NewAxis, ..], new[] { 1, 2, 3, 4 }, Enumerable.Range(0, 24).ToArray());
        Is(X[1..3, Idx.NewAxis, ^2], new[] { 1, 1, 4 }, 16, 17, 18, 19);
        Is(X[Idx.Ellipsis, Idx.NewAxis], new[] { 2, 3, 4, 1 }, Enumerable.Range(0, 24).ToArray());
        Is(X[0, Idx.NewAxis, 1, Idx.NewAxis], new[] { 1, 1, 4 }, 4, 5, 6, 7); // remaining axes go last
        var s = Tensor.Scalar(7, DType.Int32);
        Is(s[Idx.Ellipsis], new int[0], 7);
        Is(s[Idx.NewAxis], new[] { 1 }, 7);
        Is(X[Idx.Ellipsis, 0, 0, 0], new int[0], 0);
    }

    [Fact]
    public void SteppedSlices()
    {
        var y = Np.Arange(10);
        Is(y[Idx.Slice(step: -1)], new[] { 10 }, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        Is(y[Idx.Slice(8, 2, -3)], new[] { 2 }, 8, 5);
        Is(y[Idx.Slice(null, null, 3)], new[] { 4 }, 0, 3, 6, 9);
        Is(y[Idx.Slice(1, null, 4)], new[] { 3 }, 1, 5, 9);
        Is(y[Idx.Slice(-2)], new[] { 2 }, 8, 9);
        Is(y[Idx.Slice(-3, -1)], new[] { 2 }, 7, 8);
        Is(y[Idx.Slice(100, -100, -4)], new[] { 3 }, 9, 5, 1);
        Is(y[Idx.Slice(2, 8, -1)], new[] { 0 });
        Is(y[Idx.Slice(3, -100, -1)], new[] { 4 }, 3, 2, 1, 0);
        Is(X[.., .., Idx.Slice(3, 0, -2)], new[] { 2, 3, 2 }, 3, 1, 7, 5, 11, 9, 15, 13, 19, 17, 23, 21);
        Is(X[Idx.Slice(step: -1), 0, 0], new[] { 2 }, 12, 0);
        Is(X.Slice(2, 1, null, 2), new[] { 2, 3, 2 }, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23);
        Is(X.Slice(-2, step: -1)[0], new[] { 3, 4 }, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
        Is(X.Slice(0, 1)[.., 0, 0], new[] { 1 }, 12);
    }

    [Fact]
    public void WorksForOtherDTypes()
    {
        var f = Tensor.FromArray(new[] { 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f }, 2, 3);
        Assert.Equal(new[] { 3.5f, 6.5f }, f[.., ^1].ToArray<float>());
        var b = Tensor.FromArray(new[] { true, false, false, true }, 2, 2);
        Assert.Equal(new[] { false, true }, b[1].ToArray<bool>());
        var d = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 });
        Assert.Equal(new[] { 3.0, 2.0, 1.0 }, d[Idx.Slice(step: -1)].ToArray<double>());
    }

    [Fact]
    public void IdxFormatting()
    {
        Assert.Equal("3", ((Idx)3).ToString());
        Assert.Equal("^1", ((Idx)(^1)).ToString());
        Assert.Equal("1..^1", ((Idx)(1..^1)).ToString());
        Idx all = ..;
        Assert.Equal("..", all.ToString());
        Assert.Equal("..0", ((Idx)(..0)).ToString());
        Assert.Equal(":5:-1", Idx.Slice(null, 5, -1).ToString());
        Assert.Equal("...", Idx.Ellipsis.ToString());
        Assert.Equal(Idx.All.ToString(), all.ToString());
    }

    [Fact]
    public void BadIndicesGiveClearErrors()
    {
        Check.Throws<ArgumentException>(() => _ = X[2], "index:", "out of bounds", "axis 0", "size 2", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => _ = X[-3], "index:", "axis 0", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => _ = X[0, ^0], "index:", "^0", "axis 1", "size 3");
        Check.Throws<ArgumentException>(() => _ = X[0, 0, 4], "index:", "axis 2", "size 4");
        Check.Throws<ArgumentException>(() => _ = X[0, 0, 0, 0], "index:", "too many indices", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => _ = X[Idx.Ellipsis, 0, Idx.Ellipsis], "index:", "single ellipsis");
        Check.Throws<ArgumentException>(() => Idx.Slice(1, 2, 0), "Idx.Slice:", "step");
        Check.Throws<ArgumentException>(() => X.Slice(3, 0, 1), "Tensor.Slice:", "axis 3", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => X.Slice(0, 0, 1, 0), "Tensor.Slice:", "step");
        Check.Throws<ArgumentException>(() => _ = Tensor.Scalar(1)[0], "index:", "too many indices", "()");
    }
}
