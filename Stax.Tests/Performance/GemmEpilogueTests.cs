using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;
using Stax.Tracing;
using Xunit;

namespace Stax.Tests.Performance;

/// <summary>
/// Elementwise chains folded into the CPU GEMM's epilogue (<see cref="CpuDotEpilogue"/>): the same bits as the
/// unfused program (the switch off), for 1 and 2 threads and every ISA, within float32 rounding of a float64
/// reference, and no folding where the chain does not read the product at the same element.
/// </summary>
[Collection("cpu-pool")]
public class GemmEpilogueTests
{
    static float[] Values(int seed, int n)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    static Tensor Rand(int seed, params int[] shape)
        => Tensor.FromArray(Values(seed, shape.Aggregate(1, (a, b) => a * b)), shape);

    /// <summary>Compiles <paramref name="f"/> for the CPU with epilogue folding on or off and runs it.</summary>
    static (Tensor[] Outs, CpuExecutable Exe) Compiled(Func<Tensor[], Tensor[]> f, Tensor[] args, bool fold)
    {
        var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), "epilogue_test");
        var j = closed.Jaxpr;
        var program = new Jaxpr(Array.Empty<Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars);
        bool was = CpuDotEpilogue.Enabled;
        CpuDotEpilogue.Enabled = fold;
        CpuExecutable exe;
        try { exe = Assert.IsType<CpuExecutable>(CpuBackend.Instance.Compile(program)); }
        finally { CpuDotEpilogue.Enabled = was; }
        var all = closed.Consts.Concat(args).ToArray();
        // Two runs: the second reuses pooled buffers (and in-place outputs) of the first.
        exe.Run(all);
        return (exe.Run(all), exe);
    }

    static int Folded(CpuExecutable exe) => exe.StepNames.Count(n => n.StartsWith("dot_general") && n.Contains(" + fused"));

    /// <summary>Runs folded and unfused; asserts identical bits and returns the folded outputs and program.</summary>
    static (Tensor[] Outs, CpuExecutable Exe) SameBitsAsUnfused(Func<Tensor[], Tensor[]> f, Tensor[] args)
    {
        var (plain, plainExe) = Compiled(f, args, fold: false);
        Assert.Equal(0, Folded(plainExe));
        var (folded, exe) = Compiled(f, args, fold: true);
        Assert.Equal(plain.Length, folded.Length);
        for (int k = 0; k < plain.Length; k++)
        {
            Assert.Equal(plain[k].Aval, folded[k].Aval);
            Assert.True(plain[k].ToBytes().AsSpan().SequenceEqual(folded[k].ToBytes()),
                $"output {k} differs from the unfused program");
        }
        return (folded, exe);
    }

    // x @ w in float64.
    static double[] Product(float[] x, float[] w, int m, int n, int k, bool wTransposed = false)
    {
        var r = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)x[i * k + p] * (wTransposed ? w[j * k + p] : w[p * n + j]);
                r[i * n + j] = s;
            }
        return r;
    }

    static double[] Doubles(Tensor t) => t.ToArray<float>().Select(v => (double)v).ToArray();

    // (M, N, K): ragged rows and columns, two K passes (K > 512), taller than wide (row slices on two threads), small K
    // (the direct kernel), a head (N = 10: a path without block callbacks, so the chain runs after the product), tiny.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 128, 512, 784 }, { 37, 45, 23 }, { 130, 515, 600 }, { 300, 160, 40 }, { 64, 96, 10 }, { 200, 10, 64 }, { 3, 5, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasReluAndScalarChainsFoldWithTheSameBits(int m, int n, int k)
    {
        float[] xs = Values(1, m * k), ws = Values(2, k * n), bs = Values(3, n), os = Values(4, m * n);
        var args = new[]
        {
            Tensor.FromArray(xs, m, k), Tensor.FromArray(ws, k, n), Tensor.FromArray(bs, n), Tensor.FromArray(os, m, n),
        };
        // Same-shape (a[3]), row-broadcast (the bias) and scalar operands; two outputs of the chain.
        Tensor[] F(Tensor[] a)
        {
            var h = Np.Matmul(a[0], a[1]) + a[2];
            var y = Np.Maximum(h, 0.0) * 1.5 - a[3];
            return new[] { y, h * h };
        }
        var d = Product(xs, ws, m, n, k);
        var expectY = new double[m * n];
        var expectH2 = new double[m * n];
        for (int i = 0; i < m * n; i++)
        {
            double h = d[i] + bs[i % n];
            expectY[i] = Math.Max(h, 0) * 1.5 - os[i];
            expectH2[i] = h * h;
        }
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Config.UseThreads(threads);
            var (outs, exe) = SameBitsAsUnfused(F, args);
            Assert.Equal(1, Folded(exe));
            Check.Close(expectY, Doubles(outs[0]), rtol: 1e-4, atol: 1e-4 * Math.Sqrt(k));
            Check.Close(expectH2, Doubles(outs[1]), rtol: 1e-4, atol: 1e-4 * k);
        }
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void EveryIsaGivesTheUnfusedBits(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var (m, n, k) in new[] { (70, 99, 530), (9, 40, 16) })
            foreach (int threads in new[] { 1, 2 })
            {
                using var t = Config.UseThreads(threads);
                var args = new[] { Rand(5, m, k), Rand(6, k, n), Rand(7, n) };
                var (_, exe) = SameBitsAsUnfused(a => new[] { Lax.Tanh(Np.Matmul(a[0], a[1]) + a[2]) / 3.0 }, args);
                Assert.Equal(1, Folded(exe));
            }
    }

    [Fact]
    public void ProductReadAfterTheChainIsStillWrittenAndTheBackwardMaskFolds()
    {
        const int m = 129, n = 67, k = 33;
        float[] gs = Values(8, m * k), ws = Values(9, n * k), hs = Values(10, m * n), cs = Values(11, m);
        var args = new[]
        {
            Tensor.FromArray(gs, m, k), Tensor.FromArray(ws, n, k), Tensor.FromArray(hs, m, n), Tensor.FromArray(cs, m, 1),
        };
        // An input gradient (g @ w^T) times a ReLU mask, a column-broadcast operand, and the product kept as an output
        // and read again after the chain (transposed).
        Tensor[] F(Tensor[] a)
        {
            var d = Lax.DotGeneral(a[0], a[1], new[] { 1 }, new[] { 1 });
            var masked = Np.Where(a[2] > 0.0, d, Np.ZerosLike(d)) * Np.BroadcastTo(a[3], new Shape(m, n));
            return new[] { masked, d, Np.Transpose(d, new[] { 1, 0 }) + 1.0, d > 0.25 };
        }
        var p = Product(gs, ws, m, n, k, wTransposed: true);
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Config.UseThreads(threads);
            var (outs, exe) = SameBitsAsUnfused(F, args);
            Assert.Equal(1, Folded(exe));
            var expect = p.Select((v, i) => (hs[i] > 0 ? v : 0) * cs[i / n]).ToArray();
            Check.Close(expect, Doubles(outs[0]), rtol: 1e-4, atol: 1e-5);
            Check.Close(p, Doubles(outs[1]), rtol: 1e-4, atol: 1e-5);
            var t = outs[2].ToArray<float>();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) Assert.Equal(outs[1].ToArray<float>()[i * n + j] + 1f, t[j * m + i]);
            Assert.Equal(outs[1].ToArray<float>().Select(v => v > 0.25f).ToArray(), outs[3].ToArray<bool>());
        }
    }

    [Fact]
    public void ChainsThatDoNotReadTheProductElementwiseAreNotFolded()
    {
        const int m = 40, n = 24, k = 50;
        float[] xs = Values(12, m * k), ws = Values(13, k * n), vs = Values(14, k);
        var args = new[] { Tensor.FromArray(xs, m, k), Tensor.FromArray(ws, k, n), Tensor.FromArray(vs, k) };
        var p = Product(xs, ws, m, n, k);
        var pv = Product(vs, ws, 1, n, k);
        // Transposed (the product is returned too, so the transpose is not folded into the product): the chain reads
        // the product at another index.
        var (t, exeT) = SameBitsAsUnfused(a =>
        {
            var d = Np.Matmul(a[0], a[1]);
            return new[] { Np.Maximum(Np.Transpose(d, new[] { 1, 0 }), 0.0) * 2.0, d };
        }, args);
        Assert.Equal(0, Folded(exeT));
        Check.Close(Enumerable.Range(0, n * m).Select(i => Math.Max(p[(i % m) * n + i / m], 0) * 2).ToArray(), Doubles(t[0]),
            rtol: 1e-4, atol: 1e-5);
        // A reduction of the product.
        var (r, exeR) = SameBitsAsUnfused(a => new[] { Np.Sum(Np.Matmul(a[0], a[1]), 0) * 0.5 + 1.0 }, args);
        Assert.Equal(0, Folded(exeR));
        var sums = Enumerable.Range(0, n).Select(j => Enumerable.Range(0, m).Sum(i => p[i * n + j]) * 0.5 + 1).ToArray();
        Check.Close(sums, Doubles(r[0]), rtol: 1e-4, atol: 1e-4);
        // A vector-matrix product broadcast over rows: the chain is larger than the product.
        var (b, exeB) = SameBitsAsUnfused(
            a => new[] { Np.BroadcastTo(Np.Matmul(a[2], a[1]), new Shape(m, n)) + Np.Matmul(a[0], a[1]) }, args);
        Assert.Equal(1, Folded(exeB));   // only the second product's chain
        Check.Close(Enumerable.Range(0, m * n).Select(i => pv[i % n] + p[i]).ToArray(), Doubles(b[0]), rtol: 1e-4, atol: 1e-5);
        // A batched product (batch dimension 0).
        var bx = Rand(15, 3, 8, 6);
        var bw = Rand(16, 3, 6, 5);
        var (o, exeO) = SameBitsAsUnfused(
            a => new[] { Np.Maximum(Lax.DotGeneral(a[0], a[1], new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), 0.0) },
            new[] { bx, bw });
        Assert.Equal(0, Folded(exeO));
        var (xa, wa) = (bx.ToArray<float>(), bw.ToArray<float>());
        var expect = new double[3 * 8 * 5];
        for (int bi = 0; bi < 3; bi++)
        {
            var q = Product(xa[(bi * 48)..((bi + 1) * 48)], wa[(bi * 30)..((bi + 1) * 30)], 8, 5, 6);
            for (int i = 0; i < 40; i++) expect[bi * 40 + i] = Math.Max(q[i], 0);
        }
        Check.Close(expect, Doubles(o[0]), rtol: 1e-4, atol: 1e-5);
    }

    [Fact]
    public void BiasRowsRideWithTheirOneConsumer()
    {
        const int m = 33, n = 20, k = 17;
        var args = new[] { Rand(19, m, k), Rand(20, k, n), Rand(21, n), Rand(22, n, n), Rand(23, n), Tensor.Scalar(0.75f) };
        // The second layer's bias row is ready long before its add: it must not join the first layer's chain (where it
        // would be written out as a matrix). A row of a broadcast scalar (itself riding) still runs.
        var (outs, exe) = SameBitsAsUnfused(a =>
        {
            var h = Np.Maximum(Np.Matmul(a[0], a[1]) + a[2], 0.0);
            var scale = Np.BroadcastTo(Np.BroadcastTo(a[5], new Shape(n)) * a[4], new Shape(m, n));
            return new[] { Np.Matmul(h, a[3]) + a[4] + scale };
        }, args);
        Assert.Equal(2, Folded(exe));
        Assert.DoesNotContain(exe.StepNames, s => s.Contains("2 writes") || s.Contains("3 writes"));
        float[] xs = args[0].ToArray<float>(), w1 = args[1].ToArray<float>(), b1 = args[2].ToArray<float>(),
            w2 = args[3].ToArray<float>(), b2 = args[4].ToArray<float>();
        var h = Product(xs, w1, m, n, k).Select((v, i) => Math.Max(v + b1[i % n], 0)).ToArray();
        var expect = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < n; p++) sum += h[i * n + p] * w2[p * n + j];
                expect[i * n + j] = sum + b2[j] + 0.75 * b2[j];
            }
        Check.Close(expect, Doubles(outs[0]), rtol: 1e-4, atol: 1e-4);
    }

    [Fact]
    public void TheMlpTrainStepFoldsItsBiasReluAndMaskChains()
    {
        // A Dense-ReLU-Dense-ReLU-Dense Adam step: every hidden layer's bias add and activation, and the backward
        // masks, follow a product.
        var model = Stax.Nn.Layers.Serial(Stax.Nn.Layers.Dense(48), Stax.Nn.Layers.Relu, Stax.Nn.Layers.Dense(40),
            Stax.Nn.Layers.Relu, Stax.Nn.Layers.Dense(10));
        var x = Rand(17, 32, 20);
        var y = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => i % 10).ToArray());
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
        var leaves = Tree.Flatten(parameters);
        Tensor[] F(Tensor[] a)
        {
            var ps = Tree.Unflatten<object>(leaves.Def, a[..^2]);
            var (loss, grads) = Transforms.ValueAndGrad(
                (object q) => Stax.Optim.Losses.SoftmaxCrossEntropy(model.Apply(q, a[^2], training: true), a[^1]))(ps);
            return Tree.Flatten(grads).Leaves.Append(loss).ToArray();
        }
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Config.UseThreads(threads);
            var (_, exe) = SameBitsAsUnfused(F, leaves.Leaves.Append(x).Append(y).ToArray());
            // Two forward bias + ReLU chains, two backward masks.
            Assert.True(Folded(exe) >= 4, string.Join("\n", exe.StepNames));
        }
    }
}
