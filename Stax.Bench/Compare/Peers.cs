using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Stax.Bench.Compare;

/// <summary>The result line of one peer script run (see Stax.Bench/peers/peer_env.py).</summary>
/// <param name="Seconds">Best-of-N seconds per GEMM call, or the median seconds per train step.</param>
/// <param name="Json">The whole result object.</param>
internal sealed record PeerResult(double Seconds, JsonElement Json)
{
    /// <summary>"openblas 0.3.21 Cooperlake pthreads" style description of the BLAS pool, if reported.</summary>
    public string Blas()
    {
        if (!Json.TryGetProperty("pools", out var pools)) return "?";
        foreach (var p in pools.EnumerateArray())
            if (p.TryGetProperty("internal_api", out var api) && api.GetString() == "openblas")
                return $"openblas {Str(p, "version")} kernel {Str(p, "architecture")} ({Str(p, "threading_layer")})";
        return "BLAS pool not reported by threadpoolctl";
    }

    /// <summary>A string property, or "?".</summary>
    public static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "?";
}

/// <summary>Installs (when missing) and runs the Python peers with Debian's interpreter.</summary>
internal sealed class Peers
{
    /// <summary>The Debian packages the peers need.</summary>
    public const string Packages = "python3-numpy python3-torch python3-threadpoolctl libopenblas0-pthread";

    readonly string _python, _dir;

    Peers(string python, string dir) { _python = python; _dir = dir; }

    /// <summary>Finds the peer scripts, checks the interpreter and packages, installs them when allowed.</summary>
    public static Peers Prepare(CompareOptions o, TextWriter log)
    {
        var dir = FindScripts();
        var problems = Check(o.Python);
        if (problems.Count > 0)
        {
            string what = string.Join("; ", problems);
            if (o.NoInstall)
                throw new CompareException($"the peers cannot run: {what}. Install them with `apt-get install -y {Packages}` (as root), or drop --no-install.");
            Install(what, log);
            problems = Check(o.Python);
            if (problems.Count > 0)
                throw new CompareException($"the peers still cannot run after installing {Packages}: {string.Join("; ", problems)}");
        }
        return new Peers(o.Python, dir);
    }

    static string FindScripts()
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "peers") };
        for (var d = new DirectoryInfo(Environment.CurrentDirectory); d != null; d = d.Parent)
            candidates.Add(Path.Combine(d.FullName, "Stax.Bench", "peers"));
        foreach (var c in candidates)
            if (File.Exists(Path.Combine(c, "sgemm.py")) && File.Exists(Path.Combine(c, "train.py"))) return c;
        throw new CompareException($"the peer scripts (sgemm.py, train.py) were not found; looked in {string.Join(", ", candidates.Take(3))}");
    }

    static List<string> Check(string python)
    {
        var problems = new List<string>();
        if (!File.Exists(python))
        {
            problems.Add($"{python} does not exist");
            return problems;
        }
        var (rc, _, err) = Run(python, new[] { "-c", "import numpy, torch" }, 120);
        if (rc != 0) problems.Add($"{python} cannot import numpy and torch ({LastLine(err)})");
        if (File.Exists("/usr/bin/dpkg-query"))
        {
            var (qrc, qout, _) = Run("dpkg-query", new[] { "-W", "-f=${Status}", "libopenblas0-pthread" }, 60);
            if (qrc != 0 || !qout.Contains("install ok installed"))
                problems.Add("libopenblas0-pthread is not installed (numpy and torch would use the ~30x slower reference BLAS)");
        }
        return problems;
    }

    static void Install(string why, TextWriter log)
    {
        log.WriteLine($"# compare: {why}.");
        log.WriteLine($"# compare: installing {Packages} with apt-get (once per machine; about 2 minutes) ...");
        log.Flush();
        if (!File.Exists("/usr/bin/apt-get"))
            throw new CompareException($"cannot install the peers: apt-get not found (this needs Debian/Ubuntu with the packages {Packages})");
        if (Environment.UserName != "root")
            throw new CompareException($"cannot install the peers: not running as root; run `sudo apt-get install -y {Packages}` and retry");
        var args = new[] { "-o", "DPkg::Lock::Timeout=600", "install", "-y" }.Concat(Packages.Split(' ')).ToArray();
        var (rc, _, err) = Run("apt-get", args, 1800);
        if (rc != 0)
        {
            log.WriteLine("# compare: apt-get install failed; running apt-get update and retrying ...");
            Run("apt-get", new[] { "-o", "DPkg::Lock::Timeout=600", "update" }, 600);
            (rc, _, err) = Run("apt-get", args, 1800);
        }
        if (rc != 0)
            throw new CompareException($"apt-get install -y {Packages} failed (exit {rc}): {Tail(err, 5)}");
        log.WriteLine("# compare: installed.");
    }

    /// <summary>numpy sgemm, best-of-N seconds per call.</summary>
    public PeerResult Sgemm(Workload w, string threads, CompareOptions o)
    {
        var args = new List<string> { "--m", I(w.M), "--k", I(w.K), "--n", I(w.N), "--threads", threads,
            "--repeats", I(o.SgemmRepeats), "--min-time", o.SgemmMinTime.ToString(CultureInfo.InvariantCulture) };
        if (w.TransA) args.Add("--ta");
        if (w.TransB) args.Add("--tb");
        var r = Script("sgemm.py", args, "best_s", 1.0);
        double err = r.Json.GetProperty("max_rel_err").GetDouble();
        if (err > 1e-4) throw new CompareException($"{w.Name}: the numpy peer's result is wrong (max relative error {err:g3}); its BLAS kernel is broken");
        return r;
    }

    /// <summary>torch train step, median seconds per step.</summary>
    public PeerResult Train(Workload w, string threads, CompareOptions o)
    {
        bool mlp = w.Kind == WorkloadKind.MlpStep;
        var args = new List<string> { "--model", mlp ? "mlp" : "cnn", "--threads", threads,
            "--steps", I(mlp ? o.MlpSteps : o.CnnSteps), "--warmup", I(mlp ? 20 : 5) };
        return Script("train.py", args, "median_ms", 1e-3);
    }

    PeerResult Script(string script, List<string> args, string field, double scale)
    {
        var all = new List<string> { Path.Combine(_dir, script) };
        all.AddRange(args);
        var (rc, output, err) = Run(_python, all.ToArray(), 900);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("PEER_RESULT ", StringComparison.Ordinal));
        if (rc != 0 || line == null)
            throw new CompareException($"peer {script} {string.Join(" ", args)} failed (exit {rc}): {Tail(err, 6)}");
        var json = JsonDocument.Parse(line["PEER_RESULT ".Length..]).RootElement.Clone();
        return new PeerResult(json.GetProperty(field).GetDouble() * scale, json);
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    static string LastLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "no output";

    static string Tail(string s, int lines) =>
        string.Join(" | ", s.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines).Select(l => l.Trim()));

    /// <summary>Runs a process to completion; a missing executable becomes a <see cref="CompareException"/>.</summary>
    static (int Rc, string Out, string Err) Run(string file, string[] args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        Process p;
        try { p = Process.Start(psi) ?? throw new CompareException($"could not start {file}"); }
        catch (Win32Exception e) { throw new CompareException($"could not start {file}: {e.Message}"); }
        using (p)
        {
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutSeconds * 1000))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new CompareException($"{file} {string.Join(" ", args)} did not finish within {timeoutSeconds} s");
            }
            p.WaitForExit();
            return (p.ExitCode, so.Result, se.Result);
        }
    }
}
