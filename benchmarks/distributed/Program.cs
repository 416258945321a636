// Measures Stax.Distributed (docs/distributed.md):
//   train [--distributed] [--shard] [--steps N] [--warmup N] [--verify off] [--profile] [--per-rank] [--histogram] [--trace DIR]
//                                       the MLP 784-512-512-10 Adam step, batch 128 per process;
//                                       with --distributed the gradients are fused and averaged;
//                                       with --shard (and --distributed) the optimizer state is sharded
//                                       with --sync-only (and --distributed) only the loss is averaged (a
//                                       diagnostic: the ranks step in lockstep with no gradient data moving)
//                                       (ZeroRedundancyOptimizer: reduce-scatter, 1/n update, all-gather);
//                                       --profile prints rank 0's time per step of the compiled program;
//                                       --histogram the step-time percentiles and means per 50 steps
//   scaling [--block N] [--blocks N]    under mpirun -np 2: 1 process, the independent pair, lockstep and the
//                                       all-reduce step interleaved in blocks of N steps in the same processes
//   allreduce [--verify on|off]         the MLP step's gradient bucket as one psum_fused; then the
//                                       in-place sum of 1 KB .. 64 MB float32 buffers: the binding
//                                       (host buffers) and Psum of a tensor, median of repetitions
// Run under mpirun for more than one process; run.sh runs the whole table.
using System.Diagnostics;
using System.Globalization;
using Stax;
using Stax.Distributed;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

string mode = args.Length > 0 ? args[0] : "train";
bool distributed = args.Contains("--distributed") || mode is "allreduce" or "scaling";
int steps = args.SkipWhile(a => a != "--steps").Skip(1).Select(int.Parse).FirstOrDefault(600);
// Warm-up: with the runtime's tiered compilation the first ~100-150 steps (about 2 s idle, longer
// under load: the background JIT shares the pinned core) run tier-0 / instrumented code at 2.5-3x
// the steady step time; 10 warm-up steps left them in the timed steps, which is what put every
// configuration's mean 20-40% above its median. By default the warm-up lasts until no method has
// been compiled for 100 steps (all ranks agreeing; at least 300, at most 2000 steps); --warmup N
// fixes it at N steps.
int warmup = args.SkipWhile(a => a != "--warmup").Skip(1).Select(int.Parse).FirstOrDefault(-1);
bool shard = args.Contains("--shard");
bool syncOnly = args.Contains("--sync-only");
if (distributed) Distributed.Initialize("batch");
if (args.Contains("off")) Distributed.VerifyCalls = false;
int rank = distributed ? Distributed.Rank : 0, size = distributed ? Distributed.Size : 1;
string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);
static double Median(List<double> list)
{
    var xs = list.OrderBy(v => v).ToList();
    return xs.Count % 2 == 1 ? xs[xs.Count / 2] : 0.5 * (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]);
}

if (mode == "train")
{
    const int batch = 128;
    var rng = new Random(1 + rank); // each rank its own data; same initial parameters (seed 0)
    var x = Tensor.FromArray(Enumerable.Range(0, batch * 784).Select(_ => (float)rng.NextDouble()).ToArray(), batch, 784);
    var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray());
    var model = Serial(Dense(512), Relu, Dense(512), Relu, Dense(10));
    var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
    var tx = distributed && shard ? Distributed.ShardOptimizer(Optax.Adam(1e-3)) : Optax.Adam(1e-3);
    var state = TrainState.Create(parameters, tx);
    var step = Transforms.Jit((TrainState s, Tensor xb, Tensor yb) =>
    {
        var (loss, grads) = Transforms.ValueAndGrad(
            (object p) => Losses.SoftmaxCrossEntropy(model.Apply(p, xb, training: true), yb))(s.Params!);
        if (distributed && shard)
            return (ZeroRedundancyOptimizer.ApplyGradients(s, grads), Transforms.Pmean(loss, "batch")); // local gradients
        if (distributed)
        {
            if (syncOnly) loss = Transforms.Pmean(loss, "batch"); // no gradients move: what lockstep alone costs
            else
            {
                var m = GradientFusion.Pmean(new object?[] { grads, loss }, "batch");
                (grads, loss) = (m[0]!, (Tensor)m[1]!);
            }
        }
        return (s.ApplyGradients(grads), loss);
    }, "train_step", donateArgnums: 0);
    var times = new List<double>();
    var waits = new List<double>();
    var checks = new List<double>();
    // The compiled program's per-step timer is internal to Stax: reached by reflection (diagnostics only).
    var exeType = typeof(Tensor).Assembly.GetType("Stax.Backends.Cpu.CpuExecutable")!;
    var profileField = exeType.GetField("Profile",
        System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
    object? profile = null;
    var clock = new Stopwatch();
    var gcs = new List<int>();
    if (warmup < 0)
    {
        long compiled = -1;
        int quiet = 0, n = 0;
        for (; n < 2000; n++)
        {
            (state, var l) = step(state, x, y);
            l.Item<float>();
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == compiled ? quiet + 1 : 0;
            compiled = now;
            var busy = new[] { n < 300 || quiet < 100 ? 1 : 0 };
            if (distributed) Distributed.AllReduce<int>(busy, ReduceOp.Max); // every rank warms up as long
            if (busy[0] == 0) break;
        }
        if (rank == 0 && args.Contains("--histogram")) Console.WriteLine($"  warm-up: {n + 1} steps");
        warmup = 0;
    }
    for (int i = 0; i < steps + warmup; i++)
    {
        int gc0 = GC.CollectionCount(0);
        double w0 = distributed ? Distributed.CollectiveWaitTime.TotalSeconds : 0;
        double c0 = distributed ? Distributed.Comm.CheckTime.TotalSeconds : 0;
        clock.Restart();
        (state, var loss) = step(state, x, y);
        loss.Item<float>();
        if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
        if (i >= warmup) gcs.Add(GC.CollectionCount(0) - gc0);
        if (i == Math.Max(warmup - 1, 0) && args.Contains("--profile"))
            profileField.SetValue(null, profile = Activator.CreateInstance(profileField.FieldType, nonPublic: true));
        if (i >= warmup && distributed) waits.Add(Distributed.CollectiveWaitTime.TotalSeconds - w0);
        if (i >= warmup && distributed) checks.Add(Distributed.Comm.CheckTime.TotalSeconds - c0);
    }
    // --trace DIR: every timed step's time and collective wait per rank (rank-N.csv), to see which rank a slow phase hits.
    int traceAt = Array.IndexOf(args, "--trace");
    if (traceAt >= 0)
        File.WriteAllLines(Path.Combine(args[traceAt + 1], $"rank-{rank}.csv"), times.Select((v, k) =>
            $"{k},{F(v * 1e3, "F3")},{(distributed ? F(waits[k] * 1e3, "F3") : "0")}"));
    double t = Median(times), wait = distributed ? Median(waits) : 0, check = distributed ? Median(checks) : 0;
    double mean = times.Average();
    double compute = distributed ? Median(times.Zip(waits, (a, b) => a - b).ToList()) : t; // the step outside collectives
    if (distributed && args.Contains("--per-rank"))
        Console.WriteLine($"  rank {rank}: step_ms={F(t * 1e3, "F2")} mean_step_ms={F(mean * 1e3, "F2")}"
            + $" collective_wait_ms={F(wait * 1e3, "F2")} outside_collectives_ms={F(compute * 1e3, "F2")}");
    // The job's speed is its slowest rank's.
    if (distributed) { var tt = new[] { t, mean }; Distributed.AllReduce<double>(tt, ReduceOp.Max); (t, mean) = (tt[0], tt[1]); }
    if (rank == 0)
        Console.WriteLine($"train processes={size}"
            + (distributed && shard ? " sharded" : distributed && syncOnly ? " sync-only" : "")
            + $" threads={Config.NumThreads} batch/process={batch}"
            + $" step_ms={F(t * 1e3, "F2")} mean_step_ms={F(mean * 1e3, "F2")}"
            + $" collective_wait_ms={F(wait * 1e3, "F2")} (check {F(check * 1e3, "F3")})"
            + $" outside_collectives_ms={F(compute * 1e3, "F2")} images_per_s={F(batch * size / t, "F0")}");
    if (args.Contains("--histogram") && rank == 0)
    {
        var sorted = times.OrderBy(v => v).ToList();
        string P(double q) => F(sorted[(int)(q * (sorted.Count - 1))] * 1e3, "F2");
        Console.WriteLine($"  percentiles ms: p10 {P(0.1)} p50 {P(0.5)} p90 {P(0.9)} p99 {P(0.99)} max {P(1)}");
        Console.WriteLine($"  gen0 collections during timed steps: {gcs.Sum()}, gen2: {GC.CollectionCount(2)}");
        double med = Median(times);
        for (int k = 0; k < times.Count; k += 50)
        {
            var part = times.Skip(k).Take(50).ToList();
            Console.WriteLine($"  steps {k}-{k + part.Count - 1}: mean {F(part.Average() * 1e3, "F2")}"
                + $" median {F(Median(part) * 1e3, "F2")} slow(>1.5x median) {part.Count(v => v > 1.5 * med)}"
                + $" gc {gcs.Skip(k).Take(50).Sum()}");
        }
    }
    if (profile != null && rank == 0)
    {
        profileField.SetValue(null, null);
        var top = (System.Collections.IEnumerable)profile.GetType().GetMethod("Top")!.Invoke(profile, null)!;
        foreach (var e in top.Cast<System.Runtime.CompilerServices.ITuple>())
            Console.WriteLine($"  {F((double)e[1]! / steps, "F3")} ms/step  x{(int)e[2]! / steps}  {e[0]}");
    }
}
else if (mode == "scaling")
{
    // The machine's speed swings by several times within seconds (docs/distributed.md), so runs a
    // minute apart do not compare. This mode measures everything in the same two processes, in
    // blocks of `block` steps that rotate through four phases: rank 0 alone (rank 1 sleeps), both
    // ranks without communication (the independent pair), both averaging only the loss (lockstep),
    // and both all-reducing the gradients; `blocks` rounds of the four. Each phase steps its own copy
    // of the state (same initial parameters), so they all train alike.
    if (size != 2) throw new InvalidOperationException("scaling: run it with mpirun -np 2");
    int block = args.SkipWhile(a => a != "--block").Skip(1).Select(int.Parse).FirstOrDefault(50);
    int blocks = args.SkipWhile(a => a != "--blocks").Skip(1).Select(int.Parse).FirstOrDefault(20);
    const int batch = 128;
    var rng = new Random(1 + rank);
    var x = Tensor.FromArray(Enumerable.Range(0, batch * 784).Select(_ => (float)rng.NextDouble()).ToArray(), batch, 784);
    var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray());
    var model = Serial(Dense(512), Relu, Dense(512), Relu, Dense(10));
    string[] names = { "alone", "pair", "lockstep", "allreduce" };
    var stepFns = new Func<TrainState, Tensor, Tensor, (TrainState, Tensor)>[4];
    var states = new TrainState[4];
    for (int k = 0; k < 4; k++)
    {
        int phase = k;
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
        states[k] = TrainState.Create(parameters, Optax.Adam(1e-3));
        stepFns[k] = Transforms.Jit((TrainState s, Tensor xb, Tensor yb) =>
        {
            var (loss, grads) = Transforms.ValueAndGrad(
                (object p) => Losses.SoftmaxCrossEntropy(model.Apply(p, xb, training: true), yb))(s.Params!);
            if (phase == 2) loss = Transforms.Pmean(loss, "batch");
            if (phase == 3)
            {
                var m = GradientFusion.Pmean(new object?[] { grads, loss }, "batch");
                (grads, loss) = (m[0]!, (Tensor)m[1]!);
            }
            return (s.ApplyGradients(grads), loss);
        }, $"{names[k]}_step", donateArgnums: 0);
    }
    double Run(int k, int n)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            (states[k], var loss) = stepFns[k](states[k], x, y);
            loss.Item<float>();
        }
        return clock.Elapsed.TotalSeconds;
    }
    for (int k = 1; k < 4; k++) Run(k, 400); // warm-up: the runtime's tiered compilation settles
    double alone1 = Run(0, 400) / 400;
    var total = new double[4];
    var effs = new List<double>();
    for (int b = 0; b < blocks; b++)
    {
        var t = new double[4];
        for (int j = 0; j < 4; j++)
        {
            int k = (b + j) % 4;
            Distributed.Barrier();
            if (k != 0) t[k] = Run(k, block);
            else if (rank == 0) t[0] = Run(0, block);
            else Thread.Sleep(TimeSpan.FromSeconds(alone1 * block * 1.5 + 0.02)); // rank 1's core idle
        }
        var tt = (double[])t.Clone();
        Distributed.AllReduce<double>(tt, ReduceOp.Max); // a phase lasts as long as its slower rank
        for (int k = 0; k < 4; k++) total[k] += tt[k];
        effs.Add(tt[0] / tt[3]);
        if (rank == 0)
            Console.WriteLine($"  block {b}: ms/step alone {F(tt[0] / block * 1e3, "F2")} pair {F(tt[1] / block * 1e3, "F2")}"
                + $" lockstep {F(tt[2] / block * 1e3, "F2")} allreduce {F(tt[3] / block * 1e3, "F2")}"
                + $" efficiency {F(tt[0] / tt[3], "F2")}");
    }
    if (rank == 0)
        Console.WriteLine($"scaling blocks={blocks}x{block} ms/step alone={F(total[0] / blocks / block * 1e3, "F2")}"
            + $" pair={F(total[1] / blocks / block * 1e3, "F2")} lockstep={F(total[2] / blocks / block * 1e3, "F2")}"
            + $" allreduce={F(total[3] / blocks / block * 1e3, "F2")}"
            + $" efficiency={F(total[0] / total[3], "F3")} vs_pair={F(total[1] / total[3], "F3")}"
            + $" lockstep_efficiency={F(total[0] / total[2], "F3")} block_median={F(Median(effs), "F3")}"
            + $" block_range={F(effs.Min(), "F2")}-{F(effs.Max(), "F2")}");
}
else if (mode == "allreduce")
{
    if (rank == 0) Console.WriteLine($"allreduce processes={size} verify={Distributed.VerifyCalls}");
    {
        // The MLP step's bucket (its 6 gradient leaves, loss and accuracy-sized scalars) as one
        // psum_fused, ranks aligned by a barrier first: the transfer without waiting for a slow rank.
        var leaves = new[]
            {
                new[] { 784, 512 }, new[] { 512 }, new[] { 512, 512 }, new[] { 512 },
                new[] { 512, 10 }, new[] { 10 }, new[] { 1 }, new[] { 1 },
            }
            .Select(d => Np.Ones(new Shape(d))).ToArray();
        long bytes = leaves.Sum(l => l.Size * 4);
        var times = new List<double>();
        var clock = new Stopwatch();
        for (int i = 0; i < 203; i++)
        {
            Distributed.Barrier();
            clock.Restart();
            FusedPsum.Bind(leaves, "batch");
            if (i >= 3) times.Add(clock.Elapsed.TotalSeconds);
        }
        // The same leaves' bytes summed in place through the binding, one host array each: the bound
        // on what psum_fused can reach when it reduces dead gradients in place.
        var hosts = leaves.Select(l => new float[l.Size]).ToArray();
        var inPlace = new List<double>();
        for (int i = 0; i < 203; i++)
        {
            Distributed.Barrier();
            clock.Restart();
            foreach (var h in hosts) Distributed.AllReduce<float>(h);
            if (i >= 3) inPlace.Add(clock.Elapsed.TotalSeconds);
        }
        double m = Median(times), q = Median(inPlace);
        if (rank == 0)
            Console.WriteLine(
                $"mlp_bucket bytes={bytes} tensors={leaves.Length} psum_fused_us={F(m * 1e6)} GBps={F(bytes / m / 1e9, "F3")}"
                + $" in_place_us={F(q * 1e6)} in_place_GBps={F(bytes / q / 1e9, "F3")}");
    }
    for (long bytes = 1024; bytes <= 64L << 20; bytes *= 4)
    {
        int n = (int)(bytes / 4);
        int reps = bytes <= (1 << 20) ? 200 : bytes <= (16 << 20) ? 20 : 8;
        var host = new float[n];
        var raw = new List<double>();
        var psum = new List<double>();
        var t = Tensor.FromArray(host, n);
        var clock = new Stopwatch();
        for (int i = 0; i < reps + 3; i++)
        {
            Distributed.Barrier();
            clock.Restart();
            Distributed.AllReduce<float>(host);
            if (i >= 3) raw.Add(clock.Elapsed.TotalSeconds);
        }
        for (int i = 0; i < reps + 3; i++)
        {
            Distributed.Barrier();
            clock.Restart();
            Transforms.Psum(t, "batch");
            if (i >= 3) psum.Add(clock.Elapsed.TotalSeconds);
        }
        double r = Median(raw), p = Median(psum);
        if (rank == 0)
            Console.WriteLine($"bytes={bytes} binding_us={F(r * 1e6)} binding_GBps={F(bytes / r / 1e9, "F3")}"
                + $" psum_us={F(p * 1e6)} psum_GBps={F(bytes / p / 1e9, "F3")}");
    }
}
if (distributed) Distributed.Shutdown();
return 0;
