using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Stax.Bench.Compare;

/// <summary>
/// <c>dotnet run -c Release --project Stax.Bench -- compare</c>: runs the peer scripts
/// (Stax.Bench/peers: numpy/OpenBLAS sgemm, torch train steps) and the same Stax workloads
/// alternately, prints a markdown table and one <c>RATIO &lt;workload&gt; stax/&lt;peer&gt; &lt;value&gt;</c>
/// line per workload (time ratio, below 1 = Stax faster). See docs/performance.md.
/// </summary>
internal static class CompareCommand
{
    sealed class Row(Workload w)
    {
        public Workload W { get; } = w;
        public List<double> Stax { get; } = new();
        public Dictionary<string, List<double>> Peer { get; } = w.PeerSettings.ToDictionary(s => s, _ => new List<double>());
        public List<double> RoundRatios { get; } = new();
    }

    /// <summary>Entry point for the arguments after <c>compare</c>; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        try
        {
            return RunCore(args, Console.Out);
        }
        catch (CompareException e) when (e.ExitCode == 0)
        {
            Console.Out.WriteLine(e.Message);
            return 0;
        }
        catch (CompareException e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"compare: error: {e.Message}");
            return e.ExitCode;
        }
    }

    static int RunCore(string[] args, TextWriter o)
    {
        var opt = CompareOptions.Parse(args);
        var work = opt.Selected();
        if (opt.List)
        {
            foreach (var w in work) o.WriteLine($"{w.Name,-20} target <= {w.Target:0.00}  {w.Describe()}");
            return 0;
        }
        var wall = Stopwatch.StartNew();
        o.WriteLine($"# Stax.Bench compare: {work.Count} workloads x {opt.Rounds} rounds{(opt.Quick ? " (quick)" : "")}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        o.WriteLine($"# machine: {CpuModel()}, {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, Stax ISA {Config.BestIsa}");
#if DEBUG
        o.WriteLine("# WARNING: Debug build; run with -c Release for meaningful numbers");
#endif
        var peers = Peers.Prepare(opt, o);
        o.WriteLine($"# peers: {opt.Python}; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for them (here: {Env("OPENBLAS_CORETYPE")}/{Env("OPENBLAS_L2_SIZE")}); " +
                    "torch with MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296");
        o.WriteLine($"# method: per workload peer and Stax alternate (peer first in odd rounds); sgemm = best of {opt.SgemmRepeats} samples of >= {opt.SgemmMinTime} s; " +
                    $"train = median of {opt.MlpSteps} (MLP) / {opt.CnnSteps} (CNN) steps after warm-up; summary = median over rounds");
        o.WriteLine($"# load average at start: {LoadAverage()} (other processes on these cores make every number noisier)");
        o.WriteLine();

        var stax = new StaxSide();
        var rows = work.Select(w => new Row(w)).ToList();
        var peerInfo = new SortedDictionary<string, string>();
        for (int round = 1; round <= opt.Rounds; round++)
        {
            foreach (var row in rows)
            {
                var w = row.W;
                double s = double.NaN;
                var peerNow = new Dictionary<string, double>();
                void RunPeer()
                {
                    foreach (var setting in w.PeerSettings)
                    {
                        var r = w.Kind == WorkloadKind.Sgemm ? peers.Sgemm(w, setting, opt) : peers.Train(w, setting, opt);
                        peerNow[setting] = r.Seconds;
                        row.Peer[setting].Add(r.Seconds);
                        string name = PeerResult.Str(r.Json, "peer");
                        if (!peerInfo.ContainsKey(name))
                            peerInfo[name] = $"{name} {PeerResult.Str(r.Json, "version")}, {r.Blas()}" +
                                             (name == "torch" ? $", mkldnn={PeerResult.Str(r.Json, "mkldnn")}" : "");
                    }
                }
                void RunStax()
                {
                    s = w.Kind == WorkloadKind.Sgemm
                        ? stax.Sgemm(w, opt.SgemmRepeats, opt.SgemmMinTime)
                        : stax.Train(w, w.Kind == WorkloadKind.MlpStep ? opt.MlpSteps : opt.CnnSteps, w.Kind == WorkloadKind.MlpStep ? 20 : 5);
                    row.Stax.Add(s);
                }
                if (round % 2 == 1) { RunPeer(); RunStax(); } else { RunStax(); RunPeer(); }
                double bestPeer = peerNow.Values.Min();
                row.RoundRatios.Add(s / bestPeer);
                var peerText = string.Join(" ", peerNow.Select(kv => $"[{kv.Key}] {Ms(kv.Value)}"));
                o.WriteLine($"r{round} {w.Name,-20} stax {Ms(s),9}   {(w.Kind == WorkloadKind.Sgemm ? "numpy" : "torch")} {peerText}   ratio {s / bestPeer:0.000}");
            }
        }

        o.WriteLine();
        o.WriteLine($"## Stax vs peers, {opt.Rounds} rounds (median over rounds; ratio = time stax / time peer, below 1 = Stax faster)");
        foreach (var kv in peerInfo) o.WriteLine($"# {kv.Value}");
        foreach (var kv in peerInfo)
            if (kv.Value.Contains("kernel") && !kv.Value.Contains("Cooperlake") && !kv.Value.Contains("SkylakeX") && !kv.Value.Contains("Zen"))
                o.WriteLine($"# WARNING: {kv.Key}'s OpenBLAS is not on an AVX-512 kernel: the peer is slower than it can be");
        o.WriteLine();
        o.WriteLine("| workload | stax | peer | peer setting | ratio | ratio per round | target | met |");
        o.WriteLine("|---|---|---|---|---|---|---|---|");
        var ratios = new List<(string Name, string Peer, double Ratio)>();
        var details = new List<string>();
        foreach (var row in rows)
        {
            var w = row.W;
            double st = Stats.Median(row.Stax);
            var peerMed = row.Peer.ToDictionary(kv => kv.Key, kv => Stats.Median(kv.Value));
            var best = peerMed.MinBy(kv => kv.Value);
            double ratio = st / best.Value;
            ratios.Add((w.Name, w.Peer, ratio));
            string setting = w.Kind == WorkloadKind.Sgemm ? $"numpy, {best.Key} thr" : $"torch {best.Key}";
            o.WriteLine($"| {w.Name} | {Cell(w, st)} | {Cell(w, best.Value)} | {setting} | {ratio:0.000} | " +
                        $"{string.Join(" ", row.RoundRatios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | " +
                        $"<= {w.Target:0.00} | {(ratio <= w.Target ? "yes" : "no")} |");
            if (peerMed.Count > 1)
                details.Add($"# {w.Name}: torch settings " + string.Join(", ", peerMed.Select(kv => $"{kv.Key} = {Ms(kv.Value)}")));
        }
        if (details.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("# torch 2-thread settings: 2 = 2 torch + 2 OpenBLAS threads, 2p = the same with OMP_WAIT_POLICY=PASSIVE, 1x2 = 1 torch + 2 OpenBLAS threads");
            foreach (var d in details) o.WriteLine(d);
        }
        o.WriteLine();
        foreach (var (name, peer, ratio) in ratios)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RATIO {name} stax/{peer} {ratio:0.000}"));
        o.WriteLine();
        o.WriteLine($"# compare finished in {wall.Elapsed.TotalMinutes:0.0} min; load average at end: {LoadAverage()}");
        return 0;
    }

    /// <summary>"AMD EPYC (family 25 model 17)" from /proc/cpuinfo: Zen 4 (family 25) runs 512-bit FMAs
    /// at half the rate of Zen 5 (family 26), so absolute GFLOP/s differ by about 2x between them.</summary>
    static string CpuModel()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Trim().Length > 0).ToList();
            string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + "\t", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim() ?? "?";
            return $"{Field("model name")} (family {Field("cpu family")} model {Field("model")})";
        }
        catch (IOException) { return "cpu unknown"; }
        catch (UnauthorizedAccessException) { return "cpu unknown"; }
    }

    static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "<unset>";

    static string Ms(double seconds)
    {
        double ms = seconds * 1e3;
        string f = ms < 10 ? "0.000" : ms < 100 ? "0.00" : "0.0";
        return ms.ToString(f, CultureInfo.InvariantCulture) + " ms";
    }

    static string Cell(Workload w, double seconds) => w.Kind == WorkloadKind.Sgemm
        ? $"{Ms(seconds)} ({(w.Flops / seconds / 1e9).ToString("0", CultureInfo.InvariantCulture)} GFLOP/s)"
        : Ms(seconds);
}
