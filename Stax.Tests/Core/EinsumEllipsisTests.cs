namespace Stax.Tests.Core;

/// <summary>Einsum with an ellipsis against explicit loops in float64.</summary>
public class EinsumEllipsisTests
{
    static Tensor Range(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.7) + 0.1 * i).ToArray(), shape);
    }

    [Fact]
    public void BatchedMatmulWithBroadcastingEllipsis()
    {
        var a = Range(2, 3, 4, 5);
        var b = Range(3, 5, 6);                   // ellipsis (3) broadcasts against (2, 3)
        var r = Np.Einsum("...ij,...jk->...ik", a, b);
        Assert.Equal(new Shape(2, 3, 4, 6), r.Shape);
        var av = a.ToArray<double>(); var bv = b.ToArray<double>(); var rv = r.ToArray<double>();
        for (int p = 0; p < 2; p++) for (int q = 0; q < 3; q++) for (int i = 0; i < 4; i++) for (int k = 0; k < 6; k++)
        {
            double s = 0;
            for (int j = 0; j < 5; j++) s += av[((p * 3 + q) * 4 + i) * 5 + j] * bv[(q * 5 + j) * 6 + k];
            Assert.Equal(s, rv[((p * 3 + q) * 4 + i) * 6 + k], 1e-10);
        }
    }

    [Fact]
    public void SizeOneEllipsisDimensionsStretch()
    {
        var a = Range(1, 4, 3);
        var b = Range(2, 3);
        var r = Np.Einsum("...ij,...j->...i", a, b);   // (1,) and (2,) broadcast to (2,)
        Assert.Equal(new Shape(2, 4), r.Shape);
        var av = a.ToArray<double>(); var bv = b.ToArray<double>(); var rv = r.ToArray<double>();
        for (int p = 0; p < 2; p++) for (int i = 0; i < 4; i++)
        {
            double s = 0;
            for (int j = 0; j < 3; j++) s += av[i * 3 + j] * bv[p * 3 + j];
            Assert.Equal(s, rv[p * 4 + i], 1e-10);
        }
    }

    [Fact]
    public void ImplicitOutputPutsEllipsisFirstThenSortedLetters()
    {
        var a = Range(2, 3, 4);
        // "...ji" without '->' is "...ij": the ellipsis dimension first, then i, j alphabetically.
        var r = Np.Einsum("...ji", a);
        Assert.Equal(new Shape(2, 4, 3), r.Shape);
        Assert.Equal(Np.Transpose(a, 0, 2, 1).ToArray<double>(), r.ToArray<double>());
        // Trace over the last two axes of each batch element: "...ii->...".
        var m = Range(5, 3, 3);
        var t = Np.Einsum("...ii->...", m).ToArray<double>();
        var mv = m.ToArray<double>();
        for (int b = 0; b < 5; b++) Assert.Equal(mv[b * 9] + mv[b * 9 + 4] + mv[b * 9 + 8], t[b], 1e-12);
        // An ellipsis that stands for no dimensions.
        Assert.Equal(Np.Einsum("ij,jk->ik", Range(2, 3), Range(3, 2)).ToArray<double>(), Np.Einsum("...ij,...jk->...ik", Range(2, 3), Range(3, 2)).ToArray<double>());
    }

    [Fact]
    public void MismatchedEllipsisDimensionsThrow()
    {
        var ex = Assert.Throws<ArgumentException>(() => Np.Einsum("...ij,...jk->...ik", Range(2, 4, 5), Range(3, 5, 6)));
        Assert.Contains("einsum", ex.Message);
    }
}
