using BenchmarkDotNet.Attributes;
using Stax;
using static Stax.Transforms;

namespace Stax.Bench;

/// <summary>
/// Cost of the tracer machinery: a jitted call that hits the cache on tiny inputs (against the
/// same function run eagerly), and tracing + compiling an MLP training step.
/// </summary>
[MemoryDiagnoser]
public class JitBench
{
    Tensor _x = null!;
    JitFunction _addOne = null!;
    JitFunction _identity = null!;
    Tensor[] _mlpArgs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _x = Tensor.FromArray(new float[] { 1, 2, 3, 4 });
        _addOne = Jit((Tensor[] xs) => new[] { xs[0] + 1.0 });
        _identity = Jit((Tensor[] xs) => xs);
        _addOne.Call(new[] { _x });
        _identity.Call(new[] { _x });
        var rng = new Random(0);
        Tensor R(params int[] s) => Tensor.FromArray(Enumerable.Range(0, s.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray(), s);
        _mlpArgs = new[] { R(784, 512), R(512), R(512, 512), R(512), R(512, 10), R(10), R(128, 784), R(128, 10) };
    }

    /// <summary>Eager x + 1 on 4 floats (three primitives: convert, broadcast, add).</summary>
    [Benchmark(Baseline = true)]
    public Tensor EagerAddOne() => _x + 1.0;

    /// <summary>Jitted x + 1 on 4 floats, cache hit.</summary>
    [Benchmark]
    public Tensor JitAddOneCacheHit() => _addOne.Call(new[] { _x })[0];

    /// <summary>Jitted identity, cache hit: the pure dispatch overhead of a jitted call.</summary>
    [Benchmark]
    public Tensor JitIdentityCacheHit() => _identity.Call(new[] { _x })[0];

    /// <summary>Traces and stages the gradient step of an MLP 784-512-512-10 (a fresh Jit each time).</summary>
    [Benchmark]
    public int TraceMlpTrainStep()
    {
        var step = Jit((Func<Tensor[], Tensor[]>)MlpStep);
        return step.Lower(_mlpArgs).Jaxpr.Eqns.Length;
    }

    internal static Tensor[] MlpStep(Tensor[] a)
    {
        var p = a[..6];
        var (x, y) = (a[6], a[7]);
        var grads = Grad(ps =>
        {
            var h = Np.Relu(Np.Matmul(x, ps[0]) + ps[1]);
            h = Np.Relu(Np.Matmul(h, ps[2]) + ps[3]);
            var logits = Np.Matmul(h, ps[4]) + ps[5];
            return -Np.Mean(Np.Sum(y * Np.LogSoftmax(logits, axis: -1), axis: -1));
        }, 0, 1, 2, 3, 4, 5)(p);
        return p.Select((w, i) => w - 0.01 * grads[i]).ToArray();
    }
}
