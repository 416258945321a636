using Stax.Tests.Infrastructure;

namespace Stax.Tests.Core;

public class TensorTests
{
    [Fact]
    public void CreatesFromArraysSpansAndScalars()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new Shape(2, 3), a.Shape);
        Assert.Equal(DType.Float32, a.DType);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, a.ToArray<float>());

        var m = Tensor.FromArray(new int[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        Assert.Equal(new Shape(3, 2), m.Shape);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, m.ToArray<int>());

        var s = Tensor.From<double>(new double[] { 7 }, Shape.Scalar);
        Assert.Equal(0, s.Rank);
        Assert.Equal(7.0, s.Item<double>());

        Tensor weak = 2.5;
        Assert.True(weak.IsWeak);
        Assert.Equal(DType.Float32, weak.DType);
        Assert.False(Tensor.Scalar(2.5).IsWeak);

        var b = Tensor.FromArray(new[] { true, false, true });
        Assert.Equal(DType.Bool, b.DType);
        Assert.Equal(new[] { true, false, true }, b.ToArray<bool>());

        var bf = Tensor.FromArray(new[] { (BFloat16)1.5f, (BFloat16)(-2f) });
        Assert.Equal(DType.BFloat16, bf.DType);
        Assert.Equal(new[] { 1.5, -2.0 }, bf.ToDoubleArray());
    }

    [Fact]
    public void FullZerosOnesEye()
    {
        Assert.Equal(new[] { 3.0, 3, 3, 3 }, Tensor.Full(new Shape(2, 2), 3).ToDoubleArray());
        Assert.Equal(new[] { 0, 0, 0 }, Tensor.Zeros(new Shape(3), DType.Int32).ToArray<int>());
        Assert.Equal(new byte[] { 1, 1 }, Tensor.Ones(new Shape(2), DType.UInt8).ToArray<byte>());
            }

    [Fact]
    public void Eye()
    {
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0 }, Np.Eye(2, 3).ToArray<float>());
        Assert.Equal(new float[] { 0, 1, 0, 0, 0, 1 }, Np.Eye(2, 3, k: 1).ToArray<float>());
    }

    [Fact]
    public void LinspaceAndIota()
    {
        Assert.Equal(new float[] { 0, 0.25f, 0.5f, 0.75f, 1 }, Np.Linspace(0, 1, 5).ToArray<float>());
        Assert.Equal(new float[] { 0, 0.2f, 0.4f, 0.6f, 0.8f }, Np.Linspace(0, 1, 5, endpoint: false).ToArray<float>());
        Assert.Equal(new[] { 0, 1, 2, 3 }, Np.Arange(4).ToArray<int>());
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1 }, Lax.Iota(DType.Int32, new Shape(2, 3), 0).ToArray<int>());
        Assert.Equal(new[] { 0.0, 1, 2, 0, 1, 2 }, Lax.Iota(DType.Float64, new Shape(2, 3), 1).ToDoubleArray());
    }

    [Fact]
    public void PrintsLikeNumPy()
    {
        var x = Tensor.FromArray(new float[] { 1, 2.5f, -3, 4 }, 2, 2);
        Assert.Equal("Tensor([[ 1. ,  2.5],\n        [-3. ,  4. ]], dtype=float32)", x.ToString());
        Assert.Equal("Tensor([1, 2, 3], dtype=int32)", Tensor.FromArray(new[] { 1, 2, 3 }).ToString());
        Assert.Equal("Tensor([ True, False], dtype=bool)", Tensor.FromArray(new[] { true, false }).ToString());
        Assert.Equal("Tensor(2.5, dtype=float32, weak_type=True)", ((Tensor)2.5).ToString());
        Assert.Equal("Tensor([], dtype=float32, shape=(0, 3))", Tensor.Zeros(new Shape(0, 3)).ToString());
        Assert.Equal("Tensor([nan, inf], dtype=float64)", Tensor.FromArray(new[] { double.NaN, double.PositiveInfinity }).ToString());
    }

    [Fact]
    public void SummarisesLargeTensors()
    {
        var big = Lax.Iota(DType.Int32, new Shape(2000));
        Assert.Equal("Tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int32)", big.ToString());
        var m = Lax.Iota(DType.Int32, new Shape(100, 100), 1);
        var lines = m.ToString().Split('\n');
        Assert.Equal(7, lines.Length); // three rows, "...", three rows
        Assert.Contains("...", lines[3]);
    }

    [Fact]
    public void BadInputGivesClearErrors()
    {
        Check.Throws<ArgumentException>(() => Tensor.FromArray(new float[] { 1, 2, 3 }, 2, 2), "Tensor.From", "3 elements", "(2, 2)");
        Check.Throws<InvalidOperationException>(() => Tensor.FromArray(new[] { 1, 2 }).ToArray<float>(), "ToArray<Single>", "int32", "AsType");
        Check.Throws<InvalidOperationException>(() => Tensor.FromArray(new[] { 1, 2 }).Item<int>(), "Item", "(2,)");
        Check.Throws<ArgumentException>(() => Tensor.FromBytes(new byte[] { 2 }, new Shape(1), DType.Bool), "bool elements must be 0 or 1");
        Check.Throws<ArgumentException>(() => new Shape(2, -1), "non-negative", "(2, -1)");
        Check.Throws<ArgumentException>(() => Np.Reshape(Np.Zeros(new Shape(2, 3)), 4, -1), "reshape", "(2, 3)", "(4, -1)");
        Check.Throws<ArgumentException>(() => Lax.Reshape(Np.Zeros(new Shape(2, 3)), new Shape(5)), "reshape", "(2, 3)", "(5,)");
        Check.Throws<ArgumentException>(() => Np.BroadcastTo(Np.Zeros(new Shape(3)), new Shape(2, 4)), "broadcast_to", "(3,)", "(2, 4)");
        Check.Throws<ArgumentException>(() => Lax.BroadcastInDim(Np.Zeros(new Shape(3)), new Shape(2, 4), 1), "broadcast_in_dim", "(3,)", "(2, 4)");
        Check.Throws<ArgumentException>(() => Np.BroadcastShapes("add", new Shape(2, 3), new Shape(4)), "add", "(2, 3)", "(4,)");
        Check.Throws<ArgumentException>(() => Lax.BitcastConvertType(Np.Zeros(new Shape(2)), DType.UInt8), "bitcast_convert_type", "float32", "uint8");
        Check.Throws<ArgumentException>(() => Lax.Iota(DType.Int32, new Shape(2), 1), "iota", "dimension 1", "(2,)");
    }

    [Fact]
    public void BackendsDoNotMixSilently()
    {
        var other = new ReferenceBackend();
        var a = Tensor.FromBytes(new byte[8], new Shape(2), DType.Float32, other);
        var b = Np.Zeros(new Shape(2));
        var e = Check.Throws<InvalidOperationException>(() => Lax.Select(Tensor.FromArray(new[] { true, false }), a, b), "select", "reference", "cpu");
        Assert.Equal(new[] { 0.0, 0.0 }, b.DevicePut(other).ToDoubleArray());
        Assert.Same(other, b.DevicePut(other).Backend);
    }

    [Fact]
    public void ScalarsFollowTheBackendOfCommittedOperands()
    {
        var other = new ReferenceBackend();
        var a = Tensor.FromBytes(new byte[8], new Shape(2), DType.Float32, other);
        var y = a * 2.0 + 1;                       // C# scalars are created on the default backend
        Assert.Same(other, y.Backend);
        Assert.Equal(new[] { 1.0, 1.0 }, y.ToDoubleArray());
        Assert.Same(other, (a + Np.ZerosLike(a)).Backend);
    }

    [Fact]
    public void ScalarsAreBroadcastOnTheCommittedOperandsBackend()
    {
        // host data / 255.0 with a device default must not materialise a full-size scalar on the
        // default backend (a dataset larger than one device buffer failed that way).
        var other = new ReferenceBackend();
        var a = Tensor.FromBytes(new byte[4 * 6], new Shape(2, 3), DType.Float32, other);
        long before = other.KernelCalls;
        var y = a / 255.0;
        Assert.Same(other, y.Backend);
        Assert.Equal(2, other.KernelCalls - before);   // broadcast_in_dim and div, both on the committed backend
    }

    [Fact]
    public void ConversionFollowsXla()
    {
        var f = Tensor.FromArray(new[] { 1.9f, -1.9f, float.NaN, 3e9f, -3e9f, float.PositiveInfinity });
        // XLA's CPU: NaN, +-Inf and out-of-range values give INT_MIN (x86's cvttss2si).
        Assert.Equal(new[] { 1, -1, int.MinValue, int.MinValue, int.MinValue, int.MinValue }, f.AsType(DType.Int32).ToArray<int>());
        Assert.Equal(new[] { true, true, true, true, true, true }, f.AsType(DType.Bool).ToArray<bool>());
        var i = Tensor.FromArray(new[] { -1, 256, 7 });
        Assert.Equal(new byte[] { 255, 0, 7 }, i.AsType(DType.UInt8).ToArray<byte>());
        Assert.Equal(new uint[] { uint.MaxValue, 256, 7 }, i.AsType(DType.UInt32).ToArray<uint>());
        var bits = Lax.BitcastConvertType(Tensor.FromArray(new[] { 1.0f }), DType.UInt32);
        Assert.Equal(0x3F800000u, bits.Item<uint>());
    }
}
