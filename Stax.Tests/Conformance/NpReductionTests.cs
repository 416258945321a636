using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>
/// The NumPy-style reductions. Mean, Var, Std, LogSumExp, Softmax, LogSoftmax and OneHot also need
/// the elementwise kernels (sub, div, exp, log, eq, ...); expected values are derived by hand.
/// </summary>
public class NpReductionTests
{
    static Tensor M23() => Tensor.FromArray(new[] { 0f, 1f, 2f, 3f, 4f, 5f }, 2, 3);

    static void Near(double[] expected, Tensor actual, double tol = 1e-6)
        => Check.Close(expected, actual.ToDoubleArray(), tol, tol, "np");

    [Fact]
    public void SumAxesKeepdimsAndDTypes()
    {
        var x = M23();
        Assert.Equal(15f, Np.Sum(x).Item<float>());
        Assert.Equal(new[] { 3f, 5f, 7f }, Np.Sum(x, 0).ToArray<float>());
        Assert.Equal(new[] { 3f, 12f }, Np.Sum(x, -1).ToArray<float>());
        var k = Np.Sum(x, new[] { 1 }, keepdims: true);
        Assert.Equal(new Shape(2, 1), k.Shape);
        Assert.Equal(new[] { 3f, 12f }, k.ToArray<float>());
        Assert.Equal(new Shape(1, 1), Np.Sum(x, keepdims: true).Shape);
        Assert.Equal(x.ToArray<float>(), Np.Sum(x, new int[0]).ToArray<float>());
        var b = Tensor.FromArray(new[] { true, false, true });
        Assert.Equal(DType.Int32, Np.Sum(b).DType);
        Assert.Equal(2, Np.Sum(b).Item<int>());
        var u8 = Tensor.FromArray(new byte[] { 200, 100 });
        Assert.Equal(DType.UInt32, Np.Sum(u8).DType);
        Assert.Equal(300u, Np.Sum(u8).Item<uint>());
        Assert.Equal(15.0, Np.Sum(x, dtype: DType.Float64).Item<double>());
        Assert.Equal(15f, x.Sum().Item<float>());
        Assert.Equal(new[] { 3f, 12f }, x.Sum(1).ToArray<float>());
    }

    [Fact]
    public void ProdMaxMin()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        Assert.Equal(new[] { 3f, 8f }, Np.Prod(x, 0).ToArray<float>());
        Assert.Equal(24f, x.Prod().Item<float>());
        Assert.Equal(4f, Np.Max(x).Item<float>());
        Assert.Equal(new[] { 2f, 4f }, x.Max(1).ToArray<float>());
        Assert.Equal(new[] { 1f, 2f }, Np.Min(x, 0).ToArray<float>());
        Assert.Equal(new[] { 1f, 3f }, Np.Amin(x, new[] { -1 }).ToArray<float>());
        Assert.Equal(new Shape(2, 1), Np.Amax(x, new[] { 1 }, keepdims: true).Shape);
        var n = Tensor.FromArray(new[] { 1f, float.NaN, 3f });
        Assert.True(float.IsNaN(Np.Max(n).Item<float>()));
        Assert.True(float.IsNaN(n.Min().Item<float>()));
        Assert.Equal(new Shape(0), Np.Max(Tensor.Zeros(new Shape(3, 0)), 0).Shape);
    }

    [Fact]
    public void ArgmaxArgmin()
    {
        var x = Tensor.FromArray(new[] { 1f, 9f, 9f, 0f }, 2, 2);
        Assert.Equal(1, Np.Argmax(x).Item<int>());
        Assert.Equal(3, Np.Argmin(x).Item<int>());
        Assert.Equal(new[] { 1, 0 }, Np.Argmax(x, -1).ToArray<int>());
        Assert.Equal(new[] { 0, 1 }, x.Argmin(0).ToArray<int>());
        Assert.Equal(new Shape(1, 1), Np.Argmax(x, keepdims: true).Shape);
        Assert.Equal(new Shape(2, 1), Np.Argmax(x, 1, keepdims: true).Shape);
        Assert.Equal(DType.Int32, x.Argmax().DType);
    }

    [Fact]
    public void AllAnyAndCumulative()
    {
        var x = Tensor.FromArray(new[] { 1f, 0f, float.NaN, 2f }, 2, 2);
        Assert.Equal(new[] { false, true }, Np.All(x, 1).ToArray<bool>());
        Assert.Equal(new[] { true, true }, Np.Any(x, 1).ToArray<bool>());
        Assert.False(x.All().Item<bool>());
        Assert.True(x.Any().Item<bool>());
        Assert.True(Np.All(Tensor.Zeros(new Shape(0))).Item<bool>());
        Assert.False(Np.Any(Tensor.Zeros(new Shape(0))).Item<bool>());

        var b = Tensor.FromArray(new[] { true, false, true });
        Assert.Equal(DType.Int32, Np.CumSum(b).DType);
        Assert.Equal(new[] { 1, 1, 2 }, Np.CumSum(b).ToArray<int>());
        var m = Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2);
        Assert.Equal(new[] { 1, 3, 6, 10 }, Np.CumSum(m).ToArray<int>());
        Assert.Equal(new[] { 1, 3, 3, 7 }, Np.CumSum(m, -1).ToArray<int>());
        Assert.Equal(new[] { 1, 2, 3, 8 }, Np.CumProd(m, 0).ToArray<int>());
        Assert.Equal(new[] { 1, 3, 6, 10 }, m.CumSum().ToArray<int>());
    }

    [Fact]
    public void MeanVarStd()
    {
        var x = Tensor.FromArray(new[] { 1, 2, 3, 4 }, 2, 2);
        Assert.Equal(DType.Float32, Np.Mean(x).DType);
        Assert.Equal(2.5f, Np.Mean(x).Item<float>());
        Assert.Equal(new[] { 2f, 3f }, Np.Mean(x, 0).ToArray<float>());
        Assert.Equal(new Shape(2, 1), x.Mean(1, keepdims: true).Shape);
        Assert.Equal(new[] { 1.5f, 3.5f }, x.Mean(1, keepdims: true).ToArray<float>());
        Assert.True(float.IsNaN(Np.Mean(Tensor.Zeros(new Shape(0))).Item<float>()));
        var v = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f });
        Near(new[] { 1.25 }, Np.Var(v));
        Near(new[] { 5.0 / 3 }, Np.Var(v, ddof: 1));
        Near(new[] { Math.Sqrt(1.25) }, Np.Std(v));
        Near(new[] { 0.25, 0.25 }, Np.Var(x, 1));
        Near(new[] { 1.0, 1.0 }, x.Std(new[] { 0 }));
        Assert.Equal(DType.Float64, Np.Var(Tensor.FromArray(new[] { 1.0, 3.0 })).DType);
    }

    [Fact]
    public void LogSumExpIsStable()
    {
        Near(new[] { Math.Log(2) }, Np.LogSumExp(Tensor.FromArray(new[] { 0f, 0f })));
        Near(new[] { 1000 + Math.Log(2) }, Np.LogSumExp(Tensor.FromArray(new[] { 1000f, 1000f })), 1e-4);
        Near(new[] { -1000 + Math.Log(2) }, Np.LogSumExp(Tensor.FromArray(new[] { -1000f, -1000f })), 1e-4);
        Assert.Equal(float.NegativeInfinity, Np.LogSumExp(Tensor.FromArray(new[] { float.NegativeInfinity, float.NegativeInfinity })).Item<float>());
        Assert.Equal(float.PositiveInfinity, Np.LogSumExp(Tensor.FromArray(new[] { float.PositiveInfinity, 0f })).Item<float>());
        Near(new[] { 1.0 }, Np.LogSumExp(Tensor.FromArray(new[] { float.NegativeInfinity, 1f })));
        var m = Tensor.FromArray(new[] { 0f, (float)Math.Log(3), float.NegativeInfinity, float.NegativeInfinity }, 2, 2);
        var r = Np.LogSumExp(m, 1, keepdims: true);
        Assert.Equal(new Shape(2, 1), r.Shape);
        Near(new[] { Math.Log(4), double.NegativeInfinity }, r);
        Near(new[] { 0.0, Math.Log(3) }, Np.LogSumExp(m, 0));
    }

    [Fact]
    public void SoftmaxAndLogSoftmax()
    {
        var x = Tensor.FromArray(new[] { 0f, (float)Math.Log(3) });
        Near(new[] { 0.25, 0.75 }, Np.Softmax(x));
        Near(new[] { Math.Log(0.25), Math.Log(0.75) }, Np.LogSoftmax(x));
        var big = Tensor.FromArray(new[] { 1000f, 1000f, -1000f, 0f }, 2, 2);
        Near(new[] { 0.5, 0.5, 0.0, 1.0 }, Np.Softmax(big));
        Near(new[] { -Math.Log(2), -Math.Log(2), -1000.0, 0.0 }, Np.LogSoftmax(big), 1e-4);
        // Along axis 0: columns (1000, -1000) and (1000, 0).
        Near(new[] { 1.0, 1.0, 0.0, 0.0 }, Np.Softmax(big, 0));
        var masked = Tensor.FromArray(new[] { float.NegativeInfinity, 0f });
        Near(new[] { 0.0, 1.0 }, Np.Softmax(masked));
        Assert.Equal(DType.Float32, Np.Softmax(Tensor.FromArray(new[] { 1, 2 })).DType);
    }

    [Fact]
    public void OneHotComparesWithIota()
    {
        var labels = Tensor.FromArray(new[] { 0, 2, 5, -1 });
        var h = Np.OneHot(labels, 3);
        Assert.Equal(new Shape(4, 3), h.Shape);
        Assert.Equal(DType.Float32, h.DType);
        Assert.Equal(new[] { 1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 0f, 0f }, h.ToArray<float>());
        var h2 = Np.OneHot(Tensor.FromArray(new[] { 1, 0 }, 2, 1), 2, DType.Int32);
        Assert.Equal(new Shape(2, 1, 2), h2.Shape);
        Assert.Equal(new[] { 0, 1, 1, 0 }, h2.ToArray<int>());
        Assert.Equal(new Shape(0, 4), Np.OneHot(Tensor.Zeros(new Shape(0), DType.Int32), 4).Shape);
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        var x = M23();
        Check.Throws<ArgumentException>(() => Np.Sum(x, 2), "sum", "axis 2", "(2, 3)");
        Check.Throws<ArgumentException>(() => Np.Sum(x, new[] { 0, -2 }), "sum", "duplicate axis");
        Check.Throws<ArgumentException>(() => Np.Max(Tensor.Zeros(new Shape(0))), "max", "zero-size");
        Check.Throws<ArgumentException>(() => Np.Min(Tensor.Zeros(new Shape(2, 0)), 1), "min", "zero-size");
        Check.Throws<ArgumentException>(() => Np.Argmax(Tensor.Zeros(new Shape(0))), "argmax", "empty");
        Check.Throws<ArgumentException>(() => Np.Argmin(x, 3), "argmin", "axis 3");
        Check.Throws<ArgumentException>(() => Np.CumSum(x, -3), "cumsum", "axis -3");
        Check.Throws<ArgumentException>(() => Np.Softmax(x, 2), "softmax", "axis 2");
        Check.Throws<ArgumentException>(() => Np.OneHot(Tensor.FromArray(new[] { 1, 2 }), -1), "one_hot", "numClasses");
    }
}
