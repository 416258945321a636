namespace Stax.Bench;

/// <summary>
/// <c>profile</c>: wall time per program step (primitive and operand shapes) of the comparison's
/// jitted train steps at 1 and 2 threads, averaged over the measured steps, largest first. Shows
/// where a step's time goes; the total includes the steps' own overheads.
/// <c>profile [cnn|mlp] [steps]</c>; <c>profile [cnn|mlp] [steps] --threads N</c> (chunks per step at N threads);
/// <c>profile conv [rounds]</c>; <c>profile adam [rounds]</c> (<see cref="AdamPassBench"/>).
/// </summary>
public static class ProfileCommand
{
    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--threads");
        if (at >= 0)
        {
            if (at + 1 >= args.Length || !int.TryParse(args[at + 1], out int n) || n < 1)
                throw new ArgumentException("profile: --threads needs a positive thread count");
            var rest = args.Take(at).Concat(args.Skip(at + 2)).ToArray();
            return Parallelism(rest.Length > 0 ? rest[0] : "cnn", rest.Length > 1 ? int.Parse(rest[1]) : 20, n);
        }
        string which = args.Length > 0 ? args[0] : "cnn";
        if (which == "adam") return AdamPassBench.Run(args.Length > 1 ? int.Parse(args[1]) : 5);
        if (which == "conv") return Convs(args.Length > 1 ? int.Parse(args[1]) : 10);
        int steps = args.Length > 1 ? int.Parse(args[1]) : 20;
        foreach (int threads in new[] { 1, 2 })
        {
            var (wall, top) = Measure(which, steps, threads, parallelism: false);
            Console.WriteLine($"{which}-step-t{threads}: {wall:F2} ms per step, "
                              + $"{top.Sum(e => e.Ms) / steps:F2} ms in program steps");
            foreach (var e in top.Take(30))
                Console.WriteLine($"    {e.Ms / steps,8:F3} ms  x{e.Count / steps}  {e.Name}");
        }
        return 0;
    }

    static (double Wall, (string Name, double Ms, int Count, int MaxChunks, int SplitRegions, double SerialMs)[] Steps)
        Measure(string which, int steps, int threads, bool parallelism)
    {
        using (Config.UseThreads(threads))
        {
            var step = which == "mlp" ? TrainStep.Mlp() : TrainStep.Cnn();
            for (int i = 0; i < 5; i++) step.Run();
            var profile = new Stax.Backends.Cpu.StepProfile { Parallelism = parallelism };
            Stax.Backends.Cpu.CpuExecutable.Profile = profile;
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++) step.Run();
            double wall = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds / steps;
            Stax.Backends.Cpu.CpuExecutable.Profile = null;
            profile.Detach();
            return (wall, profile.Detail().ToArray());
        }
    }

    // profile cnn|mlp [steps] --threads N: each step's work (its time at 1 thread) beside how its
    // parallel regions split at N threads (most chunks of one region) and the time it spends outside
    // them at N threads (serial). Chunk counts do not depend on the cores present, so a small
    // machine shows what a large one could run in parallel; wall times at N only mean something
    // with N cores.
    static int Parallelism(string which, int steps, int threads)
    {
        var (wall1, work) = Measure(which, steps, 1, parallelism: true);
        var (wallN, atN) = Measure(which, steps, threads, parallelism: true);
        var byName = atN.ToDictionary(e => e.Name);
        double total = work.Sum(e => e.Ms) / steps;
        Console.WriteLine($"{which}-step: {wall1:F2} ms at 1 thread ({total:F2} ms in program steps), "
                          + $"{wallN:F2} ms at {threads} threads on {Environment.ProcessorCount} cores");
        Console.WriteLine($"    {"work ms",8} {"%",5} {"t" + threads + " ms",8} {"chunks",6} {"regions",7} "
                          + $"{"serial ms",9}  step");
        var bottlenecks = new List<string>();
        double serialSum = 0;
        foreach (var e in work)
        {
            byName.TryGetValue(e.Name, out var n);
            double ms = e.Ms / steps, share = 100 * ms / total, serial = n.SerialMs / steps;
            serialSum += serial;
            if (share >= 0.5)
                Console.WriteLine($"    {ms,8:F3} {share,5:F1} {n.Ms / steps,8:F3} {n.MaxChunks,6} "
                                  + $"{(double)n.SplitRegions / n.Count,7:F1} {serial,9:F3}  x{e.Count / steps} {e.Name}");
            // Matters (over 2% of the step's work) and cannot use every thread: too few chunks, or
            // most of its time outside parallel regions.
            if (share > 2 && (n.MaxChunks < threads || serial > 0.5 * n.Ms / steps))
                bottlenecks.Add($"    {share,5:F1}% {n.MaxChunks,3} chunks, {serial:F3} ms serial  {e.Name}");
        }
        Console.WriteLine($"    serial total at {threads} threads: {serialSum:F2} ms of {total:F2} ms work");
        Console.WriteLine($"bottlenecks at {threads} threads (over 2% of the work, fewer than {threads} chunks "
                          + "or mostly serial):");
        foreach (var b in bottlenecks) Console.WriteLine(b);
        return 0;
    }

    // The CNN step's convolutions one by one, each path timed alternately in the same process
    // (best of the rounds): the GEMM and, where it applies, Winograd. CPU time (all threads of the
    // process, coarse) is shown too: on a loaded machine it is steadier than wall time.
    static int Convs(int rounds)
    {
        var cases = new (string Name, int[] L, int[] R, (int, int)[] Pads, (string, string, string) Specs)[]
        {
            ("conv2 forward", new[] { 64, 26, 26, 32 }, new[] { 3, 3, 32, 64 },
                new[] { (0, 0), (0, 0) }, ("NHWC", "HWIO", "NHWC")),
            ("conv2 input gradient", new[] { 64, 24, 24, 64 }, new[] { 3, 3, 32, 64 },
                new[] { (2, 2), (2, 2) }, ("NHWC", "HWOI", "NHWC")),
            ("conv2 weight gradient", new[] { 64, 26, 26, 32 }, new[] { 64, 24, 24, 64 },
                new[] { (0, 0), (0, 0) }, ("CHWN", "IHWO", "HWNC")),
            ("conv1 forward", new[] { 64, 28, 28, 1 }, new[] { 3, 3, 1, 32 },
                new[] { (0, 0), (0, 0) }, ("NHWC", "HWIO", "NHWC")),
            ("64->128 at 14x14, SAME", new[] { 64, 14, 14, 64 }, new[] { 3, 3, 64, 128 },
                new[] { (1, 1), (1, 1) }, ("NHWC", "HWIO", "NHWC")),
            ("128->256 at 7x7, SAME", new[] { 64, 7, 7, 128 }, new[] { 3, 3, 128, 256 },
                new[] { (1, 1), (1, 1) }, ("NHWC", "HWIO", "NHWC")),
            ("conv1 weight gradient", new[] { 64, 28, 28, 1 }, new[] { 64, 26, 26, 32 },
                new[] { (0, 0), (0, 0) }, ("CHWN", "IHWO", "HWNC")),
        };
        var rng = new Random(1);
        foreach (int threads in new[] { 1, 2 })
            using (Config.UseThreads(threads))
                foreach (var c in cases)
                {
                    var x = Tensor.FromArray(Enumerable.Range(0, c.L.Aggregate(1, (a, b) => a * b))
                        .Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), c.L);
                    var w = Tensor.FromArray(Enumerable.Range(0, c.R.Aggregate(1, (a, b) => a * b))
                        .Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), c.R);
                    var p = new ConvParams(new[] { 1, 1 }, c.Pads.Select(q => q.Item1).ToArray(),
                        c.Pads.Select(q => q.Item2).ToArray(), new[] { 1, 1 }, new[] { 1, 1 },
                        ConvDimensionNumbers.FromStrings(c.Specs.Item1, c.Specs.Item2, c.Specs.Item3));
                    double gemm = double.MaxValue, wino = double.MaxValue, gemmCpu = double.MaxValue, winoCpu = double.MaxValue;
                    var proc = System.Diagnostics.Process.GetCurrentProcess();
                    for (int r = 0; r < rounds; r++)
                        foreach (bool on in new[] { false, true })
                        {
                            Stax.Backends.Cpu.CpuConv.WinogradEnabled = on;
                            // The last output's array back in the pool (as in a compiled step), so the
                            // timing does not include first-touch page faults of a fresh output.
                            GC.Collect();
                            GC.WaitForPendingFinalizers();
                            proc.Refresh();
                            var c0 = proc.TotalProcessorTime;
                            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                            Prims.ConvGeneralDilated.Bind1(p, x, w);
                            double ms = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            proc.Refresh();
                            double cpu = (proc.TotalProcessorTime - c0).TotalMilliseconds;
                            if (on) { wino = Math.Min(wino, ms); winoCpu = Math.Min(winoCpu, cpu); }
                            else { gemm = Math.Min(gemm, ms); gemmCpu = Math.Min(gemmCpu, cpu); }
                        }
                    Stax.Backends.Cpu.CpuConv.WinogradEnabled = true;
                    Console.WriteLine($"t{threads} {c.Name,-24} gemm {gemm,7:F2} ms ({gemmCpu,6:F1} ms CPU)  "
                                      + $"default {wino,7:F2} ms ({winoCpu,6:F1} ms CPU)");
                }
        return 0;
    }
}
