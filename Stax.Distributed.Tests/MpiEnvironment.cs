using System.Diagnostics;
using System.Text;

namespace Stax.Distributed.Tests;

/// <summary>Whether MPI jobs can run here: <c>mpirun</c> on PATH and Open MPI's library loadable.</summary>
public static class MpiEnvironment
{
    static readonly Lazy<string> Missing = new(() =>
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
        if (!path.Any(d => File.Exists(Path.Combine(d, "mpirun")))) return "MPI not available: mpirun is not on PATH";
        return Distributed.IsAvailable(out var reason) ? "" : $"MPI not available: {reason}";
    });

    /// <summary>True when STAX_REQUIRE_MPI=1: the MPI tests then fail instead of skipping.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("STAX_REQUIRE_MPI") == "1";

    /// <summary>The skip reason, or null to run.</summary>
    public static string? SkipReason => Missing.Value == "" || Required ? null : Missing.Value;

    /// <summary>The worker program's path (copied next to the test assembly).</summary>
    public static string Worker => Path.Combine(AppContext.BaseDirectory, "Stax.Distributed.Tests.Worker.dll");

    /// <summary>Runs <c>mpirun -np <paramref name="np"/> dotnet Worker.dll args</c>; kills it after <paramref name="limit"/>.</summary>
    public static MpiRun Run(int np, TimeSpan limit, params string[] args) => RunProgram(np, limit, Worker, args);

    /// <summary>Runs <c>mpirun -np <paramref name="np"/> dotnet <paramref name="dll"/> args</c>, or plain
    /// <c>dotnet dll args</c> when <paramref name="np"/> is 0; kills it after <paramref name="limit"/>.</summary>
    public static MpiRun RunProgram(int np, TimeSpan limit, string dll, params string[] args)
    {
        if (Missing.Value != "") throw new InvalidOperationException($"{Missing.Value} (STAX_REQUIRE_MPI=1 makes this a failure)");
        var psi = new ProcessStartInfo(np > 0 ? "mpirun" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var launcher = np > 0 ? new[] { "-np", np.ToString(), "--allow-run-as-root", "--oversubscribe", "dotnet" } : Array.Empty<string>();
        foreach (var a in launcher.Append(dll).Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["STAX_NUM_THREADS"] = "1"; // two ranks share the cores
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        bool exited = p.WaitForExit(limit);
        if (!exited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        lock (output) return new MpiRun(exited ? p.ExitCode : -1, exited, clock.Elapsed, output.ToString());
    }
}

/// <summary>The outcome of one mpirun.</summary>
public sealed record MpiRun(int ExitCode, bool Exited, TimeSpan Elapsed, string Output)
{
    /// <summary>The value printed by rank <paramref name="rank"/> as "rank R key value".</summary>
    public string Value(int rank, string key)
    {
        string prefix = $"rank {rank} {key} ";
        var line = Output.Split('\n').Select(l => l.TrimEnd('\r')).Select(l => l.IndexOf(prefix, StringComparison.Ordinal) is int i && i >= 0 ? l[(i + prefix.Length)..] : null)
            .FirstOrDefault(l => l != null);
        return line ?? throw new Xunit.Sdk.XunitException($"no '{prefix}' line in the job's output (exit {ExitCode}):\n{Output}");
    }

    /// <summary>Comma-separated floats printed by a rank.</summary>
    public float[] Floats(int rank, string key) => Value(rank, key).Split(',').Select(s => float.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}

/// <summary>A fact that needs mpirun and Open MPI: skipped without them unless STAX_REQUIRE_MPI=1.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiEnvironment.SkipReason is { } r) Skip = r;
    }
}

/// <summary>A theory that needs mpirun and Open MPI: skipped without them unless STAX_REQUIRE_MPI=1.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute()
    {
        if (MpiEnvironment.SkipReason is { } r) Skip = r;
    }
}

/// <summary>The MPI jobs run one at a time (each uses both cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiJobs
{
    public const string Name = "mpi-jobs";
}
