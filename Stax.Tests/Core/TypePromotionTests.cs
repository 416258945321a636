namespace Stax.Tests.Core;

public class TypePromotionTests
{
    // Expected results from JAX's documented promotion table (jax.numpy type promotion semantics,
    // x64 disabled for integers): row/column operands, weak marks a Python scalar.
    [Theory]
    [InlineData(DType.Bool, false, DType.Bool, false, DType.Bool, false)]
    [InlineData(DType.Bool, false, DType.UInt8, false, DType.UInt8, false)]
    [InlineData(DType.UInt8, false, DType.Int32, false, DType.Int32, false)]
    [InlineData(DType.UInt8, false, DType.UInt32, false, DType.UInt32, false)]
    [InlineData(DType.UInt32, false, DType.Int32, false, DType.Int32, false)]
    [InlineData(DType.Int32, false, DType.Float16, false, DType.Float16, false)]
    [InlineData(DType.Float16, false, DType.BFloat16, false, DType.Float32, false)]
    [InlineData(DType.Float32, false, DType.Float64, false, DType.Float64, false)]
    [InlineData(DType.BFloat16, false, DType.Float32, false, DType.Float32, false)]
    // weak scalars take the other operand's type...
    [InlineData(DType.Float16, false, DType.Float32, true, DType.Float16, false)]
    [InlineData(DType.UInt8, false, DType.Int32, true, DType.UInt8, false)]
    [InlineData(DType.Int32, false, DType.Int32, true, DType.Int32, false)]
    // ...unless a weak float meets an integer: the result is a weak float.
    [InlineData(DType.Int32, false, DType.Float32, true, DType.Float32, true)]
    [InlineData(DType.Bool, false, DType.Int32, true, DType.Int32, true)]
    [InlineData(DType.Int32, true, DType.Float32, true, DType.Float32, true)]
    [InlineData(DType.Int32, true, DType.Int32, true, DType.Int32, true)]
    public void MatchesJaxLattice(DType a, bool aw, DType b, bool bw, DType expected, bool expectedWeak)
    {
        Assert.Equal((expected, expectedWeak), TypePromotion.Result(a, aw, b, bw));
        Assert.Equal((expected, expectedWeak), TypePromotion.Result(b, bw, a, aw));
    }

    [Fact]
    public void PromoteConvertsOperands()
    {
        var h = Tensor.FromArray(new Half[] { (Half)1.5f });
        var p = Np.Promote(h, 2.0);
        Assert.All(p, t => Assert.Equal(DType.Float16, t.DType));
        Assert.False(p[0].IsWeak);
        Assert.Equal(2.0, p[1].ToDoubleArray()[0]);
        var q = Np.Promote(Tensor.FromArray(new[] { 1, 2 }), 2.5);
        Assert.Equal(DType.Float32, q[0].DType);
        Assert.True(q[0].IsWeak);
        Assert.Equal(new[] { 1.0, 2.0 }, q[0].ToDoubleArray());
    }
}

public class WeakScalarPrecisionTests
{
    [Fact]
    public void WeakFloatScalarsKeepTheirCSharpValueForFloat64()
    {
        var x = Tensor.FromArray(new[] { 1.0 });
        Assert.Equal(0.1, (x * 0.1).Item<double>());          // not 0.1f widened (0.10000000149011612)
        Assert.Equal(0.1f, (Tensor.FromArray(new[] { 1.0f }) * 0.1).Item<float>());
        Assert.Equal(DType.Float64, (x * 0.1).DType);
    }
}
