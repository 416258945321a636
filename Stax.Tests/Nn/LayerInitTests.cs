using System.Diagnostics;
using Stax.Nn;
using Stax.Tests.Infrastructure;
using Xunit.Abstractions;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

public class LayerInitTests(ITestOutputHelper output)
{
    // Q viewed as (rows, cols) with cols = shape[columnAxis]: returns the Gram matrix of the
    // smaller side (QᵀQ when rows >= cols, QQᵀ otherwise), computed in plain double.
    static double[,] Gram(Tensor q, int columnAxis)
    {
        var moved = Np.MoveAxis(q, columnAxis, -1);
        int cols = moved.Shape[-1], rows = (int)(moved.Shape.Size / Math.Max(1, cols));
        var a = moved.ToDoubleArray();
        bool tall = rows >= cols;
        int n = tall ? cols : rows;
        var g = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                if (tall) for (int r = 0; r < rows; r++) s += a[r * cols + i] * a[r * cols + j];
                else for (int c = 0; c < cols; c++) s += a[i * cols + c] * a[j * cols + c];
                g[i, j] = s;
            }
        return g;
    }

    static void AssertScaledIdentity(double[,] g, double scale2, double tol)
    {
        for (int i = 0; i < g.GetLength(0); i++)
            for (int j = 0; j < g.GetLength(1); j++)
                Assert.True(Math.Abs(g[i, j] - (i == j ? scale2 : 0)) <= tol, $"Gram[{i},{j}] = {g[i, j]}, expected {(i == j ? scale2 : 0)}");
    }

    [Theory]
    [InlineData(new[] { 6, 4 }, -1, 1.0)]
    [InlineData(new[] { 3, 5 }, -1, 1.0)]
    [InlineData(new[] { 3, 3, 4, 8 }, -1, 1.0)]
    [InlineData(new[] { 5, 2, 3 }, 0, 2.0)]
    [InlineData(new[] { 16, 16 }, 1, 0.5)]
    public void OrthogonalHasOrthonormalColumnsOrRows(int[] shape, int columnAxis, double scale)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var q = Initializers.Orthogonal(scale, columnAxis)(Rng.Key(1), new Shape(shape), dtype);
            Assert.Equal(new Shape(shape), q.Shape);
            Assert.Equal(dtype, q.DType);
            AssertScaledIdentity(Gram(q, columnAxis), scale * scale, dtype == DType.Float32 ? 2e-5 : 1e-12);
        }
    }

    [Fact]
    public void OrthogonalIsQOfTheQrOfANormalMatrixWithPositiveDiagonalR()
    {
        // As jax: A = normal(key, (rows, cols)); Q from A = QR with diag(R) > 0, so R = QᵀA is
        // upper triangular with a positive diagonal.
        var key = Rng.Key(9);
        var q = Initializers.Orthogonal()(key, new Shape(7, 4), DType.Float64).ToDoubleArray();
        var a = Rng.Normal(key, new Shape(7, 4), DType.Float64).ToDoubleArray();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double r = 0;
                for (int k = 0; k < 7; k++) r += q[k * 4 + i] * a[k * 4 + j];
                if (i > j) Assert.True(Math.Abs(r) < 1e-12, $"R[{i},{j}] = {r}");
                if (i == j) Assert.True(r > 0, $"R[{i},{i}] = {r}");
            }
        Check.Throws<ArgumentException>(() => Initializers.Orthogonal()(key, new Shape(5), DType.Float32), "Orthogonal", "two dimensions");
        Check.Throws<ArgumentException>(() => Initializers.Orthogonal()(key, new Shape(5, 3), DType.Int32), "Orthogonal", "floating");
    }

    [Fact]
    public void OrthogonalVmapsOverKeysForEnsembles()
    {
        var keys = Rng.Split(Rng.Key(0), new Shape(3));
        var init = Initializers.Orthogonal();
        var stacked = Transforms.Vmap((Tensor k) => init(Rng.WrapKeyData(k), new Shape(5, 3), DType.Float32))(Rng.KeyData(keys));
        Assert.Equal(new Shape(3, 5, 3), stacked.Shape);
        for (int m = 0; m < 3; m++)
        {
            var single = init(keys[m], new Shape(5, 3), DType.Float32);
            Check.Close(single.ToDoubleArray(), stacked[m].ToDoubleArray(), 1e-5, 1e-6, $"member {m}");
            AssertScaledIdentity(Gram(stacked[m], -1), 1, 2e-5);
        }
        // A whole model with orthogonal weights, initialised as an ensemble.
        var model = Serial(Dense(4, wInit: Initializers.Orthogonal()), Tanh, Dense(2, wInit: Initializers.Orthogonal()));
        var spec = new AbstractValue(new Shape(2, 6), DType.Float32);
        var ws = Transforms.Vmap((Tensor k) => L.D(L.A(model.Initialize(Rng.WrapKeyData(k), spec).Parameters)[0])["w"])(Rng.KeyData(keys));
        for (int m = 0; m < 3; m++)
            Check.Close(L.D(L.A(model.Initialize(keys[m], spec).Parameters)[0])["w"].ToDoubleArray(), ws[m].ToDoubleArray(), 1e-5, 1e-6);
    }

    [Fact]
    public void TwentyLayerNetworkInitializationTime()
    {
        var layers = new List<Module>();
        for (int i = 0; i < 10; i++) { layers.Add(Dense(256)); layers.Add(Relu); }
        var model = Serial(layers.ToArray());                          // 20 layers, 10 of them Dense(256)
        var spec = new AbstractValue(new Shape(128, 256), DType.Float32);
        // Warm-up of the .NET code paths on a small copy of the same structure.
        Serial(Enumerable.Range(0, 10).SelectMany(_ => new[] { Dense(8), Relu }).ToArray()).Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 8), DType.Float32));
        var sw = Stopwatch.StartNew();
        var (o, p) = model.Initialize(Rng.Key(1), spec);
        sw.Stop();
        Assert.Equal(new Shape(128, 256), o.Shape);
        Assert.Equal(10 * (256 * 256 + 256), Tree.Leaves(p).Sum(t => t.Shape.Size));
        var conv = new List<Module>();
        for (int i = 0; i < 5; i++) { conv.Add(Conv(32, new[] { 3, 3 }, padding: "SAME")); conv.Add(BatchNorm()); conv.Add(Relu); conv.Add(MaxPool(new[] { 2, 2 }, new[] { 2, 2 }, "SAME")); }
        var convNet = Serial(conv.ToArray());                          // 20 layers: 5 x (Conv, BatchNorm, Relu, MaxPool)
        var cspec = new AbstractValue(new Shape(32, 64, 64, 3), DType.Float32);
        convNet.InitializeWithState(Rng.Key(0), new AbstractValue(new Shape(1, 32, 32, 3), DType.Float32));   // warm-up
        var sw2 = Stopwatch.StartNew();
        var (co, _, _) = convNet.InitializeWithState(Rng.Key(1), cspec);
        sw2.Stop();
        Assert.Equal(new Shape(32, 2, 2, 32), co.Shape);
        output.WriteLine($"20-layer MLP (10 x Dense(256) + Relu, input (128, 256)) Initialize: {sw.Elapsed.TotalMilliseconds:F1} ms");
        output.WriteLine($"20-layer CNN (5 x Conv(32, 3x3) + BatchNorm + Relu + MaxPool, input (32, 64, 64, 3)) Initialize: {sw2.Elapsed.TotalMilliseconds:F1} ms");
    }
}
