using System.Diagnostics;
using System.Globalization;
using Stax.Backends;
using Stax.Vulkan;

namespace Stax.Bench;

/// <summary>
/// <c>vulkan</c>: the comparison workloads on the Vulkan backend (docs/performance.md, GPU
/// section). Per workload and mode (compiled: the default jit; interpreted:
/// <c>STAX_VULKAN_JIT=interpret</c>; eager for the single kernels): the median time per step or
/// call including the wait for its result, dispatches and queue submissions per call, and the host
/// time per call (until the call returns, before waiting). Prints JSON lines, then a table.
/// </summary>
public static class VulkanCommand
{
    const string Usage = "usage: vulkan [--quick] [--large] [--steps N] [--fused-steps N] [--plan] [--workload PREFIX] "
                         + "[--gemm [--gemm-sizes N,N,...] [--gemm-tiles BMxBNxBK/TMxTN,...]]";

    sealed record Row(string Workload, string Mode, double Ms, double HostMs, double Dispatches, double Submissions,
                      long Recordings, string Note, double Gflops = double.NaN);

    public static int Run(string[] args)
    {
        bool quick = false, large = false, plan = false, gemm = false;
        string only = "";
        int[]? gemmSizes = null;
        GemmTile[]? gemmTiles = null;
        int steps = 20, fusedSteps = -1;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--large": large = true; break;
                case "--plan": plan = true; break;
                case "--workload": only = args[++i]; break;
                case "--gemm": gemm = true; break;
                case "--gemm-sizes":
                    gemmSizes = args[++i].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--gemm-tiles":
                    gemmTiles = args[++i].Split(',').Select(v => GemmTile.Parse(v, "--gemm-tiles")).ToArray();
                    break;
                case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--fused-steps": fusedSteps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        if (quick) steps = Math.Min(steps, 5);
        if (!VulkanBackend.IsAvailable(out var reason)) { Console.Error.WriteLine(reason); return 1; }
        var vk = VulkanBackend.Shared;
        BackendRegistry.Default = vk;
        Console.WriteLine($"vulkan bench: {vk.Capabilities.DeviceName}, {steps} timed steps per row, "
                          + $"{Environment.ProcessorCount} cpus");
        var rows = new List<Row>();
        void Emit(Row r)
        {
            rows.Add(r);
            Console.WriteLine(
                FormattableString.Invariant($"{{\"workload\":\"{r.Workload}\",\"mode\":\"{r.Mode}\",\"ms\":{r.Ms:F3},")
                + FormattableString.Invariant(
                    $"\"host_ms\":{r.HostMs:F3},\"dispatches\":{r.Dispatches:F1},\"submissions\":{r.Submissions:F2},")
                + (double.IsNaN(r.Gflops) ? "" : FormattableString.Invariant($"\"gflops\":{r.Gflops:F1},"))
                + FormattableString.Invariant($"\"recordings\":{r.Recordings},\"note\":\"{r.Note}\"}}"));
        }
        if (gemm)
        {
            GemmComparison(vk, gemmSizes ?? (quick ? new[] { 1024 } : new[] { 1024, 2048, 4096, 8192 }),
                           quick ? 2 : Math.Max(3, steps / 4), Emit, gemmTiles);
            Table(rows);
            return 0;
        }
        foreach (var (name, make) in TrainSteps(quick, large).Where(w => w.Item1.StartsWith(only, StringComparison.Ordinal)))
            // compiled: the default jit (chains fused); unfused: STAX_VULKAN_FUSION=0; interpreted:
            // per-call recording (STAX_VULKAN_JIT=interpret).
            foreach (var mode in new[] { "compiled", "unfused", "interpreted" })
            {
                if (quick && mode == "interpreted" && name.StartsWith("cnn", StringComparison.Ordinal)) continue;
                Environment.SetEnvironmentVariable("STAX_VULKAN_JIT", mode == "interpreted" ? "interpret" : null);
                Environment.SetEnvironmentVariable("STAX_VULKAN_FUSION", mode == "unfused" ? "0" : null);
                var step = make();
                var (pc0, pt0) = (vk.Pipelines.Count, vk.Pipelines.CreationTime);
                var row = Measure(vk, name, mode, mode == "compiled" && fusedSteps > 0 ? fusedSteps : steps,
                                  () => step.Launch(), t => t.Item<float>());
                int made = vk.Pipelines.Count - pc0;
                Emit(row with
                {
                    Note = made == 0
                        ? ""
                        : FormattableString.Invariant(
                            $"{made} new pipelines, {(vk.Pipelines.CreationTime - pt0).TotalMilliseconds / made:F1} ms each"),
                });
                if (plan && mode != "interpreted" && vk.LastCompiled is { } ce)
                {
                    Console.WriteLine($"# {name} {mode} equations per primitive: "
                                      + string.Join(", ", ce.Histogram.Select(h => $"{h.Primitive} {h.Count}")));
                    foreach (var c in Environment.GetEnvironmentVariable("STAX_BENCH_PLAN_ALL") == "1" ? ce.StepNames : ce.Chains)
                        Console.WriteLine($"#   {c}");
                }
            }
        Environment.SetEnvironmentVariable("STAX_VULKAN_JIT", null);
        Environment.SetEnvironmentVariable("STAX_VULKAN_FUSION", null);
        foreach (var shader in new[] { "fused_s", "fused_sh", "fused", "fused_h3", "fused_heavy" })
        {
            var (count, time) = vk.Pipelines.Created(shader);
            if (count > 0)
                Console.WriteLine(FormattableString.Invariant(
                    $"# {shader}: {count} pipelines, {time.TotalMilliseconds / count:F0} ms each to create"));
        }
        bool Wanted(string workload) => workload.StartsWith(only, StringComparison.Ordinal);
        int[] sizes = (large && !quick ? new[] { 1024, 2048, 4096, 8192 } : new[] { 1024 })
            .Where(n => Wanted($"sgemm-{n}")).ToArray();
        if (sizes.Length > 0)
            GemmComparison(vk, sizes, quick ? 2 : Math.Max(3, steps / 4), Emit, Array.Empty<GemmTile>(), skinny: false);
        // 64M elements, or the most one storage buffer holds on this device.
        long want = 64L << 20, cap = (long)(vk.Capabilities.MaxStorageBufferRange / 4);
        int len = (int)Math.Min(want, cap);
        string tag = len == want ? "64M" : $"{len >> 20}M";
        if (Wanted($"add-{tag}") || Wanted($"sum-{tag}")) Streaming(vk, len, tag, quick, steps, Emit);
        Table(rows);
        return 0;
    }

    /// <summary>
    /// The 64M-element add and sum (<paramref name="len"/> elements). Per call with a wait after each, eager and
    /// compiled; and the add as the GPU peers measure it: back-to-back calls, one wait after the last, GB/s
    /// counting two reads and one write per element.
    /// </summary>
    static void Streaming(VulkanBackend vk, int len, string tag, bool quick, int steps, Action<Row> emit)
    {
        var x = Random(len, 3);
        var y = Random(len, 4);
        var add = Transforms.Jit((Tensor[] t) => new[] { t[0] + t[1] }, "add");
        var sum = Transforms.Jit((Tensor[] t) => new[] { Lax.ReduceSum(t[0], 0) }, "sum");
        int bigSteps = quick ? 2 : Math.Max(3, steps / 4);
        string capped = len == 64 << 20 ? "" : "capped by maxStorageBufferRange; ";
        Row WithRate(Row r, string note) => r with
        {
            Note = FormattableString.Invariant($"{capped}{12.0 * len / (r.Ms * 1e-3) / 1e9:F0} GB/s{note}"),
        };
        emit(WithRate(Measure(vk, $"add-{tag}", "eager", bigSteps, () => x + y, t => vk.Synchronize()), ""));
        emit(WithRate(Measure(vk, $"add-{tag}", "compiled", bigSteps, () => add.Call(new[] { x, y })[0], t => vk.Synchronize()),
                      ", result copied out of the program"));
        int calls = quick ? 3 : 50;
        emit(WithRate(MeasureStream(vk, $"add-{tag}", $"eager, {calls} calls, one wait", calls, () => x + y), ""));
        emit(Measure(vk, $"sum-{tag}", "eager", bigSteps, () => Lax.ReduceSum(x, 0), t => t.Item<float>()));
        emit(Measure(vk, $"sum-{tag}", "compiled", bigSteps, () => sum.Call(new[] { x })[0], t => t.Item<float>()));
    }

    // The peers' method: `calls` calls with one wait after the last; ms and host ms per call (host: until the
    // last call returns). The warm-up is one untimed pass of the same length (the peers warm up with 3 calls):
    // dead results return to the pool only when collected, so the pool grows to its steady size during the
    // first pass, and that growth (new device memory) is not what the steady state costs.
    static Row MeasureStream(VulkanBackend vk, string name, string mode, int calls, Func<Tensor> call)
    {
        for (int i = 0; i < calls; i++) call();
        vk.Synchronize();
        var (d0, s0) = vk.CommandCounts;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) call();
        double host = sw.Elapsed.TotalMilliseconds;
        vk.Synchronize();
        double total = sw.Elapsed.TotalMilliseconds;
        var (d1, s1) = vk.CommandCounts;
        return new Row(name, mode, total / calls, host / calls, (d1 - d0) / (double)calls, (s1 - s0) / (double)calls, 0, "");
    }

    /// <summary>
    /// sgemm n x n x n per GEMM kernel (auto: the device's choice, blocked, tiled with its size rule, and
    /// tiled with each of <paramref name="tiles"/> that the device fits; null: every built-in shape), then
    /// with <paramref name="skinny"/> skinny products with and without split-K. Modes name the kernel; the
    /// note says what ran.
    /// </summary>
    static void GemmComparison(VulkanBackend vk, int[] sizes, int steps, Action<Row> emit, GemmTile[]? tiles, bool skinny = true)
    {
        var saved = (VulkanBackend.GemmKernelOverride, VulkanBackend.GemmTileOverride, VulkanBackend.GemmSlicesOverride);
        var variants = new List<(string Mode, GemmKernel Kernel, GemmTile? Tile, int Slices)>
        {
            ("auto", GemmKernel.Auto, null, 0), ("blocked", GemmKernel.Blocked, null, 0), ("tiled", GemmKernel.Tiled, null, 0),
        };
        foreach (var t in tiles ?? GemmTiling.Sets)
        {
            if (t.Fits(vk.Capabilities)) variants.Add(($"tiled {t}", GemmKernel.Tiled, t, 1));
            else Console.WriteLine($"# tile {t}: does not fit this device ({t.Invocations} invocations, "
                                   + $"{t.SharedBytes} bytes shared)");
        }
        void One(string name, long m, long n, long k, string mode, GemmKernel kernel, GemmTile? tile, int slices)
        {
            VulkanBackend.GemmKernelOverride = kernel;
            VulkanBackend.GemmTileOverride = tile;
            VulkanBackend.GemmSlicesOverride = slices;
            var a = Random(checked((int)(m * k)), 1).Reshape((int)m, (int)k);
            var b = Random(checked((int)(k * n)), 2).Reshape((int)k, (int)n);
            string ran = vk.GemmChoice(1, m, n, k);
            var r = Measure(vk, name, mode, steps, () => Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0 }), t => vk.Synchronize());
            double gflops = 2.0 * m * n * k / (r.Ms * 1e-3) / 1e9;
            emit(r with { Gflops = gflops, Note = FormattableString.Invariant($"{gflops:F1} GFLOP/s, {ran}") });
        }
        try
        {
            foreach (int n in sizes)
            {
                if ((ulong)n * (ulong)n * 4 > vk.Capabilities.MaxStorageBufferRange)
                {
                    Console.WriteLine($"# sgemm-{n}: skipped (larger than one storage buffer)");
                    continue;
                }
                foreach (var v in variants) One($"sgemm-{n}", n, n, n, v.Mode, v.Kernel, v.Tile, v.Slices);
            }
            if (!skinny) return;
            // Skinny products: few output tiles, a long contraction (split-K's case).
            foreach (var (m, n, k) in new (long, long, long)[] { (64, 64, 65536), (512, 10, 32768) })
            {
                string name = $"skinny-{m}x{n}x{k}";
                One(name, m, n, k, "auto", GemmKernel.Auto, null, 0);
                One(name, m, n, k, "blocked", GemmKernel.Blocked, null, 0);
                One(name, m, n, k, "tiled", GemmKernel.Tiled, null, 0);
                One(name, m, n, k, "tiled no-split", GemmKernel.Tiled, null, 1);
            }
            // Convolutions (implicit GEMM), NHWC / HWIO, 3x3 VALID: the MNIST CNN's second layer, and on GPUs a
            // ResNet-sized one.
            // The kernel gradient of the MNIST CNN's second layer as reverse mode writes it (input with batch and
            // features swapped, the output gradient as the window): 18,432 outputs, a contraction of 36,864.
            var forward = ConvDimensionNumbers.FromStrings("NHWC", "HWIO", "NHWC");
            var kernelGrad = ConvDimensionNumbers.FromStrings("CHWN", "IHWO", "HWNC");
            // Each with its implicit GEMM (output positions x features x contraction; both have features contiguous).
            var convs = new List<(string Name, int[] X, int[] W, ConvDimensionNumbers Dn, long M, long N, long K)>
            {
                ("conv-b64-26x26x32-64", [64, 26, 26, 32], [3, 3, 32, 64], forward, 64 * 24 * 24, 64, 9 * 32),
                ("conv-dw-b64-26x26x32-64", [64, 26, 26, 32], [64, 24, 24, 64], kernelGrad, 32 * 9, 64, 64 * 24 * 24),
            };
            if (vk.Capabilities.DeviceType != "Cpu")
                convs.Add(("conv-b256-56x56x64-64", [256, 56, 56, 64], [3, 3, 64, 64], forward, 256 * 54 * 54, 64, 9 * 64));
            foreach (var (name, xs, ws, dn, gm, gn, gk) in convs)
            {
                double flops = 2.0 * gm * gn * gk;
                var x = Random(xs.Aggregate(1, (p, d) => p * d), 3).Reshape(xs);
                var w = Random(ws.Aggregate(1, (p, d) => p * d), 4).Reshape(ws);
                foreach (var kernel in new[] { GemmKernel.Auto, GemmKernel.Blocked, GemmKernel.Tiled })
                {
                    VulkanBackend.GemmKernelOverride = kernel;
                    VulkanBackend.GemmTileOverride = null;
                    VulkanBackend.GemmSlicesOverride = 0;
                    string mode = kernel.ToString().ToLowerInvariant();
                    var r = Measure(vk, name, mode, steps,
                                    () => Lax.ConvGeneralDilated(x, w, new[] { 1, 1 }, "VALID", dimensionNumbers: dn),
                                    t => vk.Synchronize());
                    double gflops = flops / (r.Ms * 1e-3) / 1e9;
                    string ran = vk.GemmChoice(1, gm, gn, gk);
                    emit(r with { Gflops = gflops, Note = FormattableString.Invariant($"{gflops:F1} GFLOP/s, {ran}") });
                }
            }
        }
        finally
        {
            (VulkanBackend.GemmKernelOverride, VulkanBackend.GemmTileOverride, VulkanBackend.GemmSlicesOverride) = saved;
        }
    }

    static void Table(List<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"{"workload",-22} {"mode",-28} {"ms/step",9} {"host ms",8} "
                          + $"{"dispatch",9} {"submits",8} {"records",8}  note");
        foreach (var r in rows)
            Console.WriteLine(
                FormattableString.Invariant($"{r.Workload,-22} {r.Mode,-28} {r.Ms,9:F2} {r.HostMs,8:F3} ")
                + FormattableString.Invariant($"{r.Dispatches,9:F1} {r.Submissions,8:F2} {r.Recordings,8}  {r.Note}"));
    }

    static IEnumerable<(string, Func<TrainStep>)> TrainSteps(bool quick, bool large)
    {
        yield return ("mlp-step-b128", () => TrainStep.Mlp(batch: 128));
        yield return ("cnn-step-b64", () => TrainStep.Cnn(batch: 64));
        if (large && !quick)
        {
            yield return ("mlp-step-b1024", () => TrainStep.Mlp(batch: 1024));
            yield return ("cnn-step-b256", () => TrainStep.Cnn(batch: 256));
        }
    }

    static Tensor Random(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)rng.NextDouble() - 0.5f;
        return Tensor.FromArray(v, n);
    }

    // Warm-up (compiles and records), then `steps` timed calls: host time until the call returns,
    // total time until its result is read; counters per call.
    static Row Measure(VulkanBackend vk, string name, string mode, int steps, Func<Tensor> call, Action<Tensor> wait)
    {
        for (int i = 0; i < 2; i++) wait(call());
        vk.Synchronize();
        var (d0, s0) = vk.CommandCounts;
        long r0 = vk.ProgramRecordings;
        var total = new double[steps];
        var host = new double[steps];
        var sw = new Stopwatch();
        for (int i = 0; i < steps; i++)
        {
            sw.Restart();
            var t = call();
            host[i] = sw.Elapsed.TotalMilliseconds;
            wait(t);
            total[i] = sw.Elapsed.TotalMilliseconds;
        }
        var (d1, s1) = vk.CommandCounts;
        return new Row(name, mode, Compare.Stats.Median(total), Compare.Stats.Median(host),
                       (d1 - d0) / (double)steps, (s1 - s0) / (double)steps, vk.ProgramRecordings - r0, "");
    }
}
