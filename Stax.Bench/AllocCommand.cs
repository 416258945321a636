namespace Stax.Bench;

/// <summary>
/// <c>alloc</c>: managed bytes allocated per jitted train step (all threads), for the comparison's
/// MLP and CNN steps at 1 and 2 threads, after warm-up. The step's results (the new state tensors
/// and the loss) are part of what it allocates; the line reports the bytes besides them (the
/// result array and one Tensor object per result, which a functional call must return), then the
/// bytes of the same step run as a <see cref="JitLoop"/>, results included. <c>--types</c>
/// samples the allocating types, <c>--steps</c> lists the bytes allocated per program step
/// (<c>profile mlp</c> lists the time per program step).
/// </summary>
public static class AllocCommand
{
    public static int Run(string[] args)
    {
        bool types = args.Contains("--types"), perStep = args.Contains("--steps");
        if (args.Contains("--time")) return Time();
        args = args.Where(a => a != "--types" && a != "--steps").ToArray();
        int steps = args.Length > 0 ? int.Parse(args[0]) : 50;
        using var listener = types ? new AllocationTypes() : null;
        int saved = Config.NumThreads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Config.NumThreads = threads;
                Measure($"mlp-step-t{threads}", TrainStep.Mlp(), steps, perStep);
                Measure($"cnn-step-t{threads}", TrainStep.Cnn(), Math.Max(steps / 5, 5), perStep);
            }
        }
        finally { Config.NumThreads = saved; }
        return 0;
    }

    // --time: the fastest of several rounds per step (a quick check that allocation work did not
    // slow the step; compare builds in the same session, ratios only).
    static int Time()
    {
        foreach (int threads in new[] { 1, 2 })
            using (Config.UseThreads(threads))
            {
                foreach (var (name, step, per, rounds) in
                         new[] { ("mlp", TrainStep.Mlp(), 10, 12), ("cnn", TrainStep.Cnn(), 2, 8) })
                {
                    for (int i = 0; i < 3; i++) step.Run();
                    double best = double.MaxValue;
                    for (int r = 0; r < rounds; r++)
                    {
                        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                        for (int i = 0; i < per; i++) step.Run();
                        best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds / per);
                    }
                    Console.WriteLine($"{name}-step-t{threads}: {best:F2} ms (best of {rounds} rounds of {per})");
                    // The same step as a JitLoop (the state moves into the loop).
                    var loop = step.Loop();
                    loop.SetArgument(step.StepArgument, Tensor.Scalar(1, DType.Int32));
                    int lossAt = step.State.Length;
                    best = double.MaxValue;
                    for (int r = 0; r < rounds; r++)
                    {
                        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                        for (int i = 0; i < per; i++)
                        {
                            loop.Step();
                            loop.Item<float>(lossAt);
                        }
                        best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds / per);
                    }
                    Console.WriteLine($"{name}-loop-t{threads}: {best:F2} ms (best of {rounds} rounds of {per})");
                }
            }
        return 0;
    }

    static void Measure(string name, TrainStep step, int steps, bool perStep)
    {
        // Enough warm-up for tiered compilation to settle (its background work allocates too).
        for (int i = 0; i < Math.Max(5, steps / 2); i++) step.Run();
        if (perStep)
        {
            // Bytes per program step on the calling thread (kernels' own allocations; pool workers' not counted).
            var profile = new Stax.Backends.Cpu.StepProfile { Bytes = true };
            Stax.Backends.Cpu.CpuExecutable.Profile = profile;
            for (int i = 0; i < steps; i++) step.Run();
            Stax.Backends.Cpu.CpuExecutable.Profile = null;
            Console.WriteLine($"{name} per program step (bytes per train step, calling thread):");
            foreach (var (n, total, count) in profile.Top().Where(e => e.Ms > 0).Take(25))
            {
                double bytes = total * System.Diagnostics.Stopwatch.Frequency / 1000.0 / steps;
                Console.WriteLine($"    {bytes,9:N0}  x{count / steps}  {n}");
            }
        }
        AllocationTypes.Current?.Clear(); // only the measured steps' allocations
        // The step numbers are made before the measured loop: they are the loop's arguments, not
        // what the step allocates (one scalar Tensor each, counted separately below).
        var numbers = new Tensor[steps];
        for (int i = 0; i < steps; i++) numbers[i] = Tensor.Scalar(1000 + i, DType.Int32);
        long before = GC.GetTotalAllocatedBytes(precise: true), beforeThread = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++) step.Launch(numbers[i]).Item<float>();
        long bytesPerStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / steps;
        long threadPerStep = (GC.GetAllocatedBytesForCurrentThread() - beforeThread) / steps;
        int results = step.State.Length + 1;
        // The new state takes over the donated state's buffer objects; the loss needs a new one.
        long resultBytes = ResultBytes(results) + BufferObjectBytes();
        long scalarBytes = ScalarBytes();
        Console.WriteLine($"{name}: {bytesPerStep - resultBytes:N0} B per step besides its {results} result tensors " +
            $"({bytesPerStep:N0} B in all; the results: {resultBytes:N0} B = the result array, " +
            $"{results} Tensor objects and the loss's buffer object; " +
            $"the loop's step-number tensor adds {scalarBytes:N0} B; " +
            $"on the calling thread alone {threadPerStep - resultBytes:N0} B besides the results)");
        AllocationTypes.Current?.Report();
        MeasureLoop(name, step, numbers);
    }

    // The same step as a JitLoop (results kept and their objects reused): everything counted, the
    // results included. The step numbers are the ones made for the Call loop (its scalars are dead).
    static void MeasureLoop(string name, TrainStep step, Tensor[] numbers)
    {
        var loop = step.Loop();
        int steps = numbers.Length, loss = step.State.Length, k = 0;
        var warm = new Tensor[Math.Max(5, steps / 2)];
        for (int i = 0; i < warm.Length; i++) warm[i] = Tensor.Scalar(i, DType.Int32);
        foreach (var n in warm)
        {
            loop.SetArgument(step.StepArgument, n);
            loop.Step();
            k += loop.Item<float>(loss) > 0 ? 1 : 0;
        }
        AllocationTypes.Current?.Clear();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var n in numbers)
        {
            loop.SetArgument(step.StepArgument, n);
            loop.Step();
            k += loop.Item<float>(loss) > 0 ? 1 : 0;
        }
        long bytesPerStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / steps;
        Console.WriteLine($"{name} as a JitLoop: {bytesPerStep:N0} B per step in all, its results included " +
            $"({k} positive losses)");
        AllocationTypes.Current?.Report();
    }

    /// <summary>Bytes of what a functional call must return: its result array and one Tensor object per result.</summary>
    static long ResultBytes(int n)
    {
        var buffer = ((Stax.Backends.Cpu.CpuBuffer)Tensor.Scalar(1f).Buffer!);
        var aval = new AbstractValue(Shape.Scalar, DType.Float32);
        var keep = new Tensor[n];
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        var array = new Tensor[n];
        for (int i = 0; i < n; i++) keep[i] = new Tensor(buffer, aval);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - b0;
        GC.KeepAlive(array);
        return bytes;
    }

    /// <summary>Bytes of one CPU buffer object (its array comes from the pool).</summary>
    static long BufferObjectBytes()
    {
        var backend = Stax.Backends.Cpu.CpuBackend.Instance;
        backend.Allocate(DType.Float32, 1).Release();
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        var b = backend.Allocate(DType.Float32, 1);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - b0;
        b.Release();
        return bytes;
    }

    /// <summary>Bytes of one Tensor.Scalar (the train loop's step number), pool warm.</summary>
    static long ScalarBytes()
    {
        GC.KeepAlive(Tensor.Scalar(1, DType.Int32));
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        var t = Tensor.Scalar(2, DType.Int32);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - b0;
        GC.KeepAlive(t);
        return bytes;
    }

    /// <summary>Samples the runtime's allocation ticks (one per ~100 KB) by type, for --types.</summary>
    sealed class AllocationTypes : System.Diagnostics.Tracing.EventListener
    {
        public static AllocationTypes? Current;
        readonly Dictionary<string, int> _ticks = new();

        public AllocationTypes() => Current = this;

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose,
                             (System.Diagnostics.Tracing.EventKeywords)0x1);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName != "GCAllocationTick_V4" || e.Payload is null) return;
            int i = e.PayloadNames!.IndexOf("TypeName");
            var name = i >= 0 ? e.Payload[i]?.ToString() ?? "?" : "?";
            lock (_ticks) _ticks[name] = _ticks.GetValueOrDefault(name) + 1;
        }

        public void Clear()
        {
            lock (_ticks) _ticks.Clear();
        }

        public void Report()
        {
            lock (_ticks)
            {
                foreach (var (n, c) in _ticks.OrderByDescending(kv => kv.Value).Take(15)) Console.WriteLine($"    {c,5}  {n}");
                _ticks.Clear();
            }
        }
    }
}
