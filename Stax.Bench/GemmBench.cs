using BenchmarkDotNet.Attributes;
using Stax;

namespace Stax.Bench;

/// <summary>
/// float32 GEMM through dot_general: n x n x n, 1 and 2 threads. GFLOP/s = 2 n^3 / mean time.
/// (512: 0.268 GFLOP per call; 1024: 2.147 GFLOP per call.)
/// </summary>
[MemoryDiagnoser]
public class GemmBench
{
    [Params(512, 1024)] public int N;
    [Params(1, 2)] public int Threads;

    Tensor _a = null!, _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var a = new float[N * N];
        var b = new float[N * N];
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble() - 0.5f; b[i] = (float)rng.NextDouble() - 0.5f; }
        _a = Tensor.FromArray(a, N, N);
        _b = Tensor.FromArray(b, N, N);
        Config.NumThreads = Threads;
    }

    [Benchmark]
    public Tensor MatMul() => Lax.DotGeneral(_a, _b, new[] { 1 }, new[] { 0 });
}

/// <summary>The small MNIST CNN's convolutions: batch 64, 28x28x1 -> conv3x3(32) -> conv3x3(64), NHWC/HWIO, SAME.</summary>
public class ConvBench
{
    [Params(1, 2)] public int Threads;

    Tensor _x = null!, _w1 = null!, _h = null!, _w2 = null!;

    static Tensor Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new float[shape.Aggregate(1, (p, q) => p * q)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble() - 0.5f;
        return Tensor.FromArray(v, shape);
    }

    [GlobalSetup]
    public void Setup()
    {
        _x = Random(1, 64, 28, 28, 1);
        _w1 = Random(2, 3, 3, 1, 32);
        _h = Random(3, 64, 28, 28, 32);
        _w2 = Random(4, 3, 3, 32, 64);
        Config.NumThreads = Threads;
    }

    [Benchmark]
    public Tensor Conv1() => Lax.ConvWithGeneralDimensionNumbers(_x, _w1, new[] { 1, 1 }, "SAME", ("NHWC", "HWIO", "NHWC"));

    [Benchmark]
    public Tensor Conv2() => Lax.ConvWithGeneralDimensionNumbers(_h, _w2, new[] { 1, 1 }, "SAME", ("NHWC", "HWIO", "NHWC"));
}
