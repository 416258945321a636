using System.Globalization;

namespace Stax.Tests.Core;

/// <summary>== / != are elementwise (as NumPy/JAX); Equals stays identity; format strings reach the elements.</summary>
public class EqualityAndFormatTests
{
    [Fact]
    public void EqualityIsElementwiseSoMeanGivesTheAccuracy()
    {
        var pred = Tensor.FromArray(new[] { 1, 2, 3, 4 });
        var target = Tensor.FromArray(new[] { 1, 0, 3, 0 });
        Tensor eq = pred == target;
        Assert.Equal(DType.Bool, eq.DType);
        Assert.Equal(new double[] { 1, 0, 1, 0 }, eq.ToDoubleArray());
        Assert.Equal(new double[] { 0, 1, 0, 1 }, (pred != target).ToDoubleArray());
        Assert.Equal(0.5, Np.Mean(pred == target).ToDoubleArray()[0], 6);   // 2 of 4 agree
        Assert.Equal(new double[] { 0, 0, 1, 0 }, (pred == 3).ToDoubleArray());
    }

    [Fact]
    public void EqualityWorksUnderTransformations()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 2 });
        var counted = Transforms.Jit((Tensor v) => Np.Sum(Np.AsType(v == 2.0, DType.Float32)))(x);
        Assert.Equal(2.0, counted.ToDoubleArray()[0]);
    }

    [Fact]
    public void NullComparisonsAndEqualsUseReferences()
    {
        Tensor? none = null;
        var t = Tensor.FromArray(new float[] { 1, 2 });
        var same = Tensor.FromArray(new float[] { 1, 2 });
        Assert.True(none == null ? true : false);
        Tensor? maybe = t;
        Assert.True(maybe != null ? true : false);
        Assert.False(maybe == null ? true : false);
        Assert.False(t.Equals(same));
        Assert.True(t.Equals(t));
        var set = new HashSet<Tensor> { t, same };                   // identity: two entries
        Assert.Equal(2, set.Count);
    }

    [Fact]
    public void FormatStringsApplyToEveryElement()
    {
        var loss = Tensor.Scalar(0.123456);
        Assert.Equal("0.1235", string.Format(CultureInfo.InvariantCulture, "{0:F4}", loss));
        Assert.Equal("0.1235", FormattableString.Invariant($"{loss:F4}"));
        var v = Tensor.FromArray(new float[] { 1, 2.5f, -3 });
        Assert.Equal("[ 1.00,  2.50, -3.00]", v.ToString("F2", CultureInfo.InvariantCulture));
        var m = Tensor.FromArray(new[,] { { 1, 22 }, { 3, 4 } });
        Assert.Equal("[[01, 22],\n [03, 04]]", m.ToString("D2", CultureInfo.InvariantCulture));
        Assert.Equal(v.ToString(), $"{v}");                          // no format: the usual printout
    }
}
