using System.Diagnostics;
using Stax.Backends;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Bench;

/// <summary>
/// <c>soak</c>: runs a workload for many steps and prints the process's memory every N steps, so
/// that memory claims come from a command (docs/reliability.md). Workloads: <c>jit</c> (the jitted,
/// donating MLP Adam step of the comparison), <c>eager</c> (the same step without jit),
/// <c>varying</c> (eager inference of the MLP with the batch size cycling through 1..600).
/// </summary>
public static class SoakCommand
{
    const string Usage = "usage: soak [--workload jit|eager|varying] [--steps N] [--every N] [--backend cpu|vulkan] [--batch N]";

    public static int Run(string[] args)
    {
        string workload = "jit", backend = "cpu";
        int steps = 10_000, every = 1_000, batch = 128;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--workload": workload = Next(); break;
                case "--steps": steps = int.Parse(Next()); break;
                case "--every": every = int.Parse(Next()); break;
                case "--backend": backend = Next(); break;
                case "--batch": batch = int.Parse(Next()); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }
        if (backend == "vulkan")
        {
            Vulkan.VulkanBackend.Register();
            BackendRegistry.Default = BackendRegistry.Get("vulkan");
        }
        Func<int, float> step = workload switch
        {
            "jit" => JitStep(batch),
            "eager" => EagerStep(batch),
            "varying" => VaryingStep(),
            _ => throw new ArgumentException($"unknown workload '{workload}'\n{Usage}"),
        };
        Console.WriteLine($"soak: workload {workload}, backend {BackendRegistry.Default.Name}, {steps} steps{(workload == "varying" ? ", batch 1..600" : $", batch {batch}")}, {Environment.ProcessorCount} cpus");
        Console.WriteLine($"{"step",7} {"ms/step",8} {"rss MB",8} {"heap MB",8} {"live MB",8} {"pooled MB",9} {"gen2 GCs",8}");
        var sw = Stopwatch.StartNew();
        int gen2Start = GC.CollectionCount(2);
        double firstRss = 0, maxRss = 0, lastRss = 0;
        float last = 0;
        for (int s = 1; s <= steps; s++)
        {
            last = step(s);
            if (s % every != 0 && s != steps) continue;
            double ms = sw.Elapsed.TotalMilliseconds / (s % every == 0 ? every : s % every);
            sw.Restart();
            var (live, pooled, _) = BackendRegistry.Default is IMemoryStatistics m ? m.MemoryStats : (0, 0, 0);
            lastRss = Environment.WorkingSet / 1e6;
            if (firstRss == 0) firstRss = lastRss;
            maxRss = Math.Max(maxRss, lastRss);
            Console.WriteLine($"{s,7} {ms,8:F2} {lastRss,8:F0} {GC.GetTotalMemory(false) / 1e6,8:F0} {live / 1e6,8:F1} {pooled / 1e6,9:F1} {GC.CollectionCount(2) - gen2Start,8}");
        }
        Console.WriteLine($"soak: rss {firstRss:F0} MB at step {every}, {lastRss:F0} MB at the end, at most {maxRss:F0} MB; last value {last:G4}");
        return 0;
    }

    static Func<int, float> JitStep(int batch)
    {
        var train = TrainStep.Mlp(batch: batch);
        return _ => train.Run();
    }

    static readonly Module Mlp = Serial(Dense(512), Relu, Dense(512), Relu, Dense(10));

    static Func<int, float> EagerStep(int batch)
    {
        var (x, y) = Batch(batch, 0);
        var (_, parameters) = Mlp.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
        var adam = Optimizers.Adam(1e-3);
        var state = adam.Init(parameters);
        return s =>
        {
            var p = adam.GetParams(state)!;
            var (loss, grads) = Transforms.ValueAndGrad((object q) => Losses.SoftmaxCrossEntropy(Mlp.Apply(q, x, training: true), y))(p);
            state = adam.Update(Tensor.Scalar(s, DType.Int32), grads, state);
            return loss.Item<float>();
        };
    }

    static Func<int, float> VaryingStep()
    {
        var (_, parameters) = Mlp.Initialize(Rng.Key(0), new AbstractValue(new Shape(1, 784), DType.Float32));
        var host = Batch(600, 1).X.ToArray<float>();
        return s =>
        {
            int b = 1 + (s - 1) % 600;
            var x = Tensor.From<float>(host.AsSpan(0, b * 784), new Shape(b, 784));
            return Np.Sum(Mlp.Apply(parameters, x, training: false)).Item<float>();
        };
    }

    static (Tensor X, Tensor Y) Batch(int batch, int seed)
    {
        var rng = new Random(seed);
        var xs = new float[batch * 784];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)rng.NextDouble();
        return (Tensor.FromArray(xs, batch, 784), Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray()));
    }
}
