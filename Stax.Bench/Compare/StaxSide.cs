using System.Diagnostics;

namespace Stax.Bench.Compare;

/// <summary>The Stax side of each workload, measured in this process the way the peers measure theirs.</summary>
internal sealed class StaxSide
{
    readonly Dictionary<(WorkloadKind, int), TrainStep> _steps = new();

    /// <summary>
    /// GEMM through the public API (eager <see cref="Lax.DotGeneral"/>, transposed operands as
    /// contracting dimensions, no copies): one warm-up call (checked against a float64 product on
    /// sampled entries), calibrate the calls per sample to last <c>minTime</c>, then <c>repeats</c>
    /// samples; the best seconds per call. The CPU backend runs eagerly, so a call returns when C is
    /// complete. Each output's buffer goes back to the pool as soon as the call returned (nothing
    /// reads it again), so the next call gets the same array, as numpy writes into its one
    /// <c>out=</c> array: neither side pays for fresh memory per call.
    /// </summary>
    public double Sgemm(Workload w, int repeats, double minTime)
    {
        Config.NumThreads = w.Threads;
        var rng = new Random(1);
        float[] Rand(int n) { var v = new float[n]; for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble() - 0.5f; return v; }
        float[] ha = Rand(w.M * w.K), hb = Rand(w.K * w.N);
        var a = w.TransA ? Tensor.FromArray(ha, w.K, w.M) : Tensor.FromArray(ha, w.M, w.K);
        var b = w.TransB ? Tensor.FromArray(hb, w.N, w.K) : Tensor.FromArray(hb, w.K, w.N);
        int[] lc = { w.TransA ? 0 : 1 }, rc = { w.TransB ? 1 : 0 };
        Tensor Mm() => Lax.DotGeneral(a, b, lc, rc);
        void MmReleased() => Mm().Buffer!.ReleaseNow();

        Check(w, Mm().ToArray<float>(), ha, hb);
        var sw = Stopwatch.StartNew();
        MmReleased();
        double one = Math.Max(sw.Elapsed.TotalSeconds, 1e-7);
        int inner = Math.Max(1, (int)(minTime / one));
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            sw.Restart();
            for (int i = 0; i < inner; i++) MmReleased();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / inner);
        }
        return best;
    }

    static void Check(Workload w, float[] c, float[] ha, float[] hb)
    {
        var rng = new Random(7);
        for (int t = 0; t < 64; t++)
        {
            int i = rng.Next(w.M), j = rng.Next(w.N);
            double s = 0, mag = 0;
            for (int k = 0; k < w.K; k++)
            {
                double x = w.TransA ? ha[k * w.M + i] : ha[i * w.K + k];
                double y = w.TransB ? hb[j * w.K + k] : hb[k * w.N + j];
                s += x * y;
                mag += Math.Abs(x * y);
            }
            double got = c[i * w.N + j];
            if (Math.Abs(got - s) > 1e-5 * mag + 1e-6)
                throw new CompareException($"{w.Name}: Stax's GEMM result is wrong at C[{i},{j}]: {got} instead of {s:g9}");
        }
    }

    /// <summary>
    /// A jitted, donating Adam train step (<see cref="TrainStep"/>, the loss read back each step):
    /// <paramref name="warmup"/> untimed steps, then the median seconds of <paramref name="steps"/>
    /// individually timed steps. The step is built (and compiled) once per model and thread count.
    /// </summary>
    public double Train(Workload w, int steps, int warmup)
    {
        Config.NumThreads = w.Threads;
        if (!_steps.TryGetValue((w.Kind, w.Threads), out var step))
        {
            step = w.Kind == WorkloadKind.MlpStep ? TrainStep.Mlp() : TrainStep.Cnn();
            _steps[(w.Kind, w.Threads)] = step;
            warmup += 3;
        }
        for (int i = 0; i < warmup; i++) step.Run();
        var times = new double[steps];
        var sw = new Stopwatch();
        for (int i = 0; i < steps; i++)
        {
            sw.Restart();
            float loss = step.Run();
            times[i] = sw.Elapsed.TotalSeconds;
            if (float.IsNaN(loss)) throw new CompareException($"{w.Name}: the Stax train step's loss became NaN");
        }
        return Stats.Median(times);
    }
}

/// <summary>Small statistics helpers.</summary>
internal static class Stats
{
    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(x => x).ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
