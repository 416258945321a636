using System.Collections.Concurrent;
using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Transformations;

/// <summary>
/// C# numbers in tree Jit arguments are traced (weakly typed, as Python scalars in JAX); static
/// values are opt-in; the cache is bounded and repeated retracing warns once.
/// </summary>
public class JitScalarTests
{
    [Fact]
    public void AChangingIntStepCounterTracesOnce()
    {
        var (f, info) = Transforms.JitWithInfo((object?[] a) => (Tensor)a[0]! * (Tensor)a[1]!, "scale");
        var x = Tensor.FromArray(new float[] { 1, -2 });
        for (int step = 0; step < 1000; step++)
        {
            var y = f(new object?[] { x, step });
            if (step % 250 == 1) Assert.Equal(new double[] { step, -2 * step }, y.ToDoubleArray());
        }
        Assert.Equal(1, info.TraceCount);
        Assert.Equal(1, info.CacheSize);
    }

    [Fact]
    public void AnOptimizerStepAsIntInsideAJittedUpdateTracesOnce()
    {
        var sgd = Optimizers.Sgd(Schedules.ExponentialDecay(0.5, 10, 0.5));
        var parameters = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[] { 1, 2 }) };
        var grads = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[] { 1, 1 }) };
        var (update, info) = Transforms.JitWithInfo((object?[] a) => sgd.Update((Tensor)a[1]!, grads, (OptState)a[0]!), "update");
        var jitted = sgd.Init(parameters);
        var eager = sgd.Init(parameters);
        for (int step = 0; step < 1000; step++)
        {
            jitted = update(new object?[] { jitted, step });
            if (step >= 30) continue;
            eager = sgd.Update(step, grads, eager);                       // the int overload, eagerly
            Check.Close(sgd.GetParams<Dictionary<string, Tensor>>(eager)["w"].ToDoubleArray(),
                        sgd.GetParams<Dictionary<string, Tensor>>(jitted)["w"].ToDoubleArray(), 1e-6, 1e-6);
        }
        Assert.Equal(1, info.TraceCount);
    }

    [Fact]
    public void TracedNumbersAreWeaklyTyped()
    {
        var f = Transforms.Jit((object?[] a) => (Tensor)a[0]! * (Tensor)a[1]!);
        var h = Tensor.FromArray(new Half[] { (Half)1.5f });
        Assert.Equal(DType.Float16, f(new object?[] { h, 2.0 }).DType);      // 2.0 takes float16
        Assert.Equal(DType.Float16, f(new object?[] { h, 3 }).DType);
        var d = new Dictionary<string, object?> { ["x"] = h, ["k"] = 4 };
        var (g, info) = Transforms.JitWithInfo((Dictionary<string, object?> t) => (Tensor)t["x"]! + (Tensor)t["k"]!);
        g(d); d["k"] = 5; Assert.Equal(6.5, g(d).ToDoubleArray()[0]);
        Assert.Equal(1, info.TraceCount);
    }

    [Fact]
    public void StaticValuesAreOptIn()
    {
        // Static<T>: the function sees the C# value; each new value retraces.
        var (f, info) = Transforms.JitWithInfo((object?[] a) =>
        {
            var x = (Tensor)a[0]!;
            for (int i = 0; i < ((Static<int>)a[1]!).Value; i++) x = x * 2.0;
            return x;
        });
        var one = Tensor.FromArray(new float[] { 1 });
        Assert.Equal(8.0, f(new object?[] { one, new Static<int>(3) }).ToDoubleArray()[0]);
        Assert.Equal(4.0, f(new object?[] { one, new Static<int>(2) }).ToDoubleArray()[0]);
        Assert.Equal(8.0, f(new object?[] { one, new Static<int>(3) }).ToDoubleArray()[0]);
        Assert.Equal(2, info.TraceCount);
        // Bools stay static (mode flags), and an int-typed parameter keeps its C# value.
        var g = Transforms.Jit((Tensor x, int n) => x * (double)n);
        Assert.Equal(5.0, g(one, 5).ToDoubleArray()[0]);
        var flag = Transforms.Jit((object?[] a) => (bool)a[1]! ? (Tensor)a[0]! : -(Tensor)a[0]!);
        Assert.Equal(-1.0, flag(new object?[] { one, false }).ToDoubleArray()[0]);
    }

    [Fact]
    public void TheCacheIsBoundedAndRetracingWarnsOnce()
    {
        var warnings = new ConcurrentQueue<string>();
        var (f, info) = Transforms.JitWithInfo((object?[] a) => (Tensor)a[0]! + (double)((Static<int>)a[1]!).Value, "retracer");
        void Capture(JitFunction j, string m) { if (ReferenceEquals(j, info)) warnings.Enqueue(m); }
        info.MaxCacheSize = 4;
        JitFunction.Warning += Capture;
        try
        {
            var x = Tensor.FromArray(new float[] { 0 });
            for (int i = 0; i < 30; i++) Assert.Equal(i, f(new object?[] { x, new Static<int>(i) }).ToDoubleArray()[0]);
            Assert.Equal(29.0, f(new object?[] { x, new Static<int>(29) }).ToDoubleArray()[0]);   // still cached
        }
        finally { JitFunction.Warning -= Capture; }
        Assert.Equal(30, info.TraceCount);
        Assert.Equal(4, info.CacheSize);
        Assert.Equal(0.0, f(new object?[] { Tensor.FromArray(new float[] { 0 }), new Static<int>(0) }).ToDoubleArray()[0]);   // evicted: retraced
        Assert.Equal(31, info.TraceCount);
        Assert.Equal(2, warnings.Count);                                         // one of each kind, once
        Assert.Contains(warnings, m => m.Contains("retracer") && m.Contains("evicts"));
        Assert.Contains(warnings, m => m.Contains("traced 10 times") && m.Contains("Tensor"));
    }
}
