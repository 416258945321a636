using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

// NumPy shape functions, checked against values worked out by hand from NumPy's definitions.
// x = arange(24).reshape(2, 3, 4) has x[i, j, k] = 12 i + 4 j + k.
public class MovementNpTests
{
    static Tensor X => Np.Arange(24).Reshape(2, 3, 4);
    static Tensor V(params int[] v) => Tensor.FromArray(v, v.Length);
    static int[] A(Tensor t) => t.ToArray<int>();

    [Fact]
    public void TransposeSwapAxesMoveAxis()
    {
        var t = Np.Transpose(X);
        Assert.Equal(new Shape(4, 3, 2), t.Shape);
        Assert.Equal(new[] { 0, 12, 4, 16, 8, 20, 1, 13 }, A(t).Take(8));
        var t2 = Np.Transpose(X, 0, -1, 1); // shape (2, 4, 3), t2[i, k, j] = x[i, j, k]
        Assert.Equal(new Shape(2, 4, 3), t2.Shape);
        Assert.Equal(new[] { 0, 4, 8, 1, 5, 9 }, A(t2).Take(6));
        Assert.Equal(A(t2), A(Np.SwapAxes(X, 1, 2)));
        var m = Np.MoveAxis(X, 0, -1); // shape (3, 4, 2), m[j, k, i] = x[i, j, k]
        Assert.Equal(new Shape(3, 4, 2), m.Shape);
        Assert.Equal(new[] { 0, 12, 1, 13, 2, 14 }, A(m).Take(6));
        var m2 = Np.MoveAxis(X, new[] { 0, 1 }, new[] { -1, 0 }); // (3, 4, 2): m2[j, k, i]
        Assert.Equal(A(m), A(m2));
        Assert.Equal(new Shape(3, 2), Np.Transpose(Np.Zeros(new Shape(2, 3))).Shape);
        Assert.Equal(Shape.Scalar, Np.Transpose(Tensor.Scalar(1)).Shape);
        Assert.Equal(new Shape(4, 3, 2), X.T.Shape);
        Assert.Equal(23, X.T.ToArray<int>()[3 * 6 + 2 * 2 + 1]); // T[3, 2, 1] = x[1, 2, 3]
    }

    [Fact]
    public void SqueezeExpandDimsFlatten()
    {
        var y = Np.Zeros(new Shape(1, 3, 1));
        Assert.Equal(new Shape(3), Np.Squeeze(y).Shape);
        Assert.Equal(new Shape(1, 3), Np.Squeeze(y, -1).Shape);
        Assert.Equal(new Shape(3), y.Squeeze(0, 2).Shape);
        Assert.Equal(new Shape(1, 3, 1), Np.ExpandDims(Np.Zeros(new Shape(3)), 0, -1).Shape);
        Assert.Equal(new Shape(3, 1), Np.Zeros(new Shape(3)).ExpandDims(1).Shape);
        Assert.Equal(new Shape(24), X.Flatten().Shape);
        Assert.Equal(Enumerable.Range(0, 24).ToArray(), A(X.Flatten()));
    }

    [Fact]
    public void ConcatenateStackSplit()
    {
        Assert.Equal(new[] { 1, 2, 3 }, A(Np.Concatenate(new[] { V(1, 2), V(3) })));
        var c = Np.Concatenate(new[] { V(1, 2), Tensor.FromArray(new[] { 0.5f }, 1) });
        Assert.Equal(DType.Float32, c.DType);
        Assert.Equal(new[] { 1f, 2f, 0.5f }, c.ToArray<float>());
        var s = Np.Stack(new[] { V(1, 2), V(3, 4) }, axis: 1);
        Assert.Equal(new Shape(2, 2), s.Shape);
        Assert.Equal(new[] { 1, 3, 2, 4 }, A(s));
        Assert.Equal(new[] { 1, 2, 3, 4 }, A(Np.Stack(new[] { V(1, 2), V(3, 4) })));
        Assert.Equal(new Shape(2, 2), Np.Stack(new[] { V(1, 2), V(3, 4) }, -1).Shape);
        var parts = Np.Split(V(0, 1, 2, 3, 4, 5), 3);
        Assert.Equal(3, parts.Length);
        Assert.Equal(new[] { 2, 3 }, A(parts[1]));
        var byIdx = Np.Split(V(0, 1, 2, 3, 4, 5), new[] { 2, -1, 10 });
        Assert.Equal(new[] { 0, 1 }, A(byIdx[0]));
        Assert.Equal(new[] { 2, 3, 4 }, A(byIdx[1]));
        Assert.Equal(new[] { 5 }, A(byIdx[2]));
        Assert.Empty(A(byIdx[3]));
        var cols = Np.Split(X, 2, axis: -1); // x[..., 0:2] and x[..., 2:4]
        Assert.Equal(new Shape(2, 3, 2), cols[1].Shape);
        Assert.Equal(new[] { 2, 3, 6, 7 }, A(cols[1]).Take(4));
    }

    [Fact]
    public void FlipPadTileRepeat()
    {
        Assert.Equal(new[] { 3, 2, 1 }, A(Np.Flip(V(1, 2, 3))));
        var f = Np.Flip(X, 1); // f[i, j, k] = x[i, 2 - j, k]
        Assert.Equal(new[] { 8, 9, 10, 11, 4 }, A(f).Take(5));
        Assert.Equal(23 - 0, A(Np.Flip(X))[0]);
        Assert.Equal(new[] { 9, 1, 2, 9, 9 }, A(Np.Pad(V(1, 2), (1, 2), 9)));
        var p = Np.Pad(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), 1);
        Assert.Equal(new Shape(4, 4), p.Shape);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0 }, A(p));
        var p2 = Np.Pad(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), new[] { (0, 1), (1, 0) }, -1);
        Assert.Equal(new[] { -1, 1, 2, -1, 3, 4, -1, -1, -1 }, A(p2));
        Assert.Equal(new[] { 1, 2, 1, 2 }, A(Np.Tile(V(1, 2), 2)));
        var t = Np.Tile(V(1, 2), 2, 1);
        Assert.Equal(new Shape(2, 2), t.Shape);
        Assert.Equal(new[] { 1, 2, 1, 2 }, A(t));
        var t2 = Np.Tile(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), 2);
        Assert.Equal(new[] { 1, 2, 1, 2, 3, 4, 3, 4 }, A(t2));
        Assert.Equal(new[] { 1, 1, 2, 2 }, A(Np.Repeat(V(1, 2), 2)));
        var r = Np.Repeat(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), 2, axis: 1);
        Assert.Equal(new[] { 1, 1, 2, 2, 3, 3, 4, 4 }, A(r));
        var r0 = Np.Repeat(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), 2, axis: 0);
        Assert.Equal(new[] { 1, 2, 1, 2, 3, 4, 3, 4 }, A(r0));
        Assert.Equal(new[] { 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4 }, A(Np.Repeat(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2), 3)));
        Assert.Empty(A(Np.Repeat(V(1, 2), 0)));
    }

    [Fact]
    public void BadInputsNameTheFunctionShapeAndAxis()
    {
        Check.Throws<ArgumentException>(() => Np.Transpose(X, 0, 1), "transpose:", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => Np.Transpose(X, 0, 1, 1), "transpose:", "repeated");
        Check.Throws<ArgumentException>(() => Np.Transpose(X, 0, 1, 3), "transpose:", "axis 3");
        Check.Throws<ArgumentException>(() => Np.SwapAxes(X, 0, -4), "swapaxes:", "axis -4", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => Np.MoveAxis(X, 0, 3), "moveaxis:", "axis 3");
        Check.Throws<ArgumentException>(() => Np.MoveAxis(X, new[] { 0, 1 }, new[] { 2 }), "moveaxis:");
        Check.Throws<ArgumentException>(() => Np.Squeeze(X, 1), "squeeze:", "axis 1", "(2, 3, 4)", "size is 3");
        Check.Throws<ArgumentException>(() => Np.ExpandDims(X, 4), "expand_dims:", "4");
        Check.Throws<ArgumentException>(() => Np.Concatenate(new[] { X, Np.Zeros(new Shape(2, 4, 4), DType.Int32) }), "concatenate:", "(2, 4, 4)", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => Np.Concatenate(new[] { X }, 3), "concatenate:", "axis 3");
        Check.Throws<ArgumentException>(() => Np.Concatenate(new[] { Tensor.Scalar(1) }), "concatenate:", "zero-dimensional");
        Check.Throws<ArgumentException>(() => Np.Concatenate(new Tensor[0]), "concatenate:");
        Check.Throws<ArgumentException>(() => Np.Stack(new[] { V(1), V(1, 2) }), "stack:", "(1,)", "(2,)");
        Check.Throws<ArgumentException>(() => Np.Stack(new[] { V(1) }, 2), "stack:", "axis 2");
        Check.Throws<ArgumentException>(() => Np.Split(X, 2, axis: 1), "split:", "(2, 3, 4)", "2 equal");
        Check.Throws<ArgumentException>(() => Np.Split(X, 0), "split:");
        Check.Throws<ArgumentException>(() => Np.Flip(X, 3), "flip:", "axis 3");
        Check.Throws<ArgumentException>(() => Np.Pad(X, -1), "pad:", "non-negative");
        Check.Throws<ArgumentException>(() => Np.Pad(X, new[] { (1, 1), (1, 1) }), "pad:", "(2, 3, 4)");
        Check.Throws<ArgumentException>(() => Np.Tile(X, -1), "tile:");
        Check.Throws<ArgumentException>(() => Np.Repeat(X, -1), "repeat:");
        Check.Throws<ArgumentException>(() => Np.Repeat(X, 2, 3), "repeat:", "axis 3");
    }
}
