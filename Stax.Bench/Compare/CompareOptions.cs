using System.Globalization;

namespace Stax.Bench.Compare;

/// <summary>Command-line options of <c>Stax.Bench compare</c>.</summary>
internal sealed class CompareOptions
{
    /// <summary>Rounds; each round runs every workload once for the peer and once for Stax.</summary>
    public int Rounds { get; set; } = 3;
    /// <summary>Substrings; a workload runs when its name contains any of them (empty: all).</summary>
    public List<string> Only { get; } = new();
    /// <summary>Fewer rounds, samples and steps (a smoke run, a few minutes).</summary>
    public bool Quick { get; set; }
    /// <summary>The Debian interpreter that has numpy and torch.</summary>
    public string Python { get; set; } = "/usr/bin/python3";
    /// <summary>Do not try apt-get when the peers are missing.</summary>
    public bool NoInstall { get; set; }
    /// <summary>Only list the workloads.</summary>
    public bool List { get; set; }
    /// <summary>Best-of-N samples per GEMM measurement.</summary>
    public int SgemmRepeats => Quick ? 3 : 5;
    /// <summary>Seconds one GEMM sample lasts at least.</summary>
    public double SgemmMinTime => Quick ? 0.05 : 0.1;
    /// <summary>Timed MLP steps per measurement (after warm-up).</summary>
    public int MlpSteps => Quick ? 50 : 200;
    /// <summary>Timed CNN steps per measurement (after warm-up).</summary>
    public int CnnSteps => Quick ? 15 : 60;

    /// <summary>Usage text.</summary>
    public const string Usage = """
        usage: dotnet run -c Release --project Stax.Bench -- compare [options]
          --rounds N        rounds (default 3; at least 2 recommended: peer and Stax alternate per workload)
          --only A,B,...    run only workloads whose name contains one of these (e.g. sgemm, mlp-step, -t2)
          --quick           2 rounds, fewer samples and steps (a smoke run)
          --python PATH     interpreter with numpy and torch (default /usr/bin/python3)
          --no-install      fail instead of installing python3-numpy/python3-torch/libopenblas0-pthread
          --list            list the workloads and exit
        """;

    /// <summary>Parses the arguments after <c>compare</c>; throws <see cref="CompareException"/> on bad input.</summary>
    public static CompareOptions Parse(string[] args)
    {
        var o = new CompareOptions();
        bool roundsGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new CompareException($"option {a} needs a value\n{Usage}");
            switch (a)
            {
                case "--rounds":
                    var v = Value();
                    if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) || r < 1)
                        throw new CompareException($"--rounds must be a positive integer, got '{v}'");
                    o.Rounds = r; roundsGiven = true;
                    break;
                case "--only":
                    o.Only.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--quick": o.Quick = true; break;
                case "--python": o.Python = Value(); break;
                case "--no-install": o.NoInstall = true; break;
                case "--list": o.List = true; break;
                case "-h" or "--help": throw new CompareException(Usage, exitCode: 0);
                default: throw new CompareException($"unknown option '{a}'\n{Usage}");
            }
        }
        if (o.Quick && !roundsGiven) o.Rounds = 2;
        return o;
    }

    /// <summary>The workloads selected by <see cref="Only"/>.</summary>
    public List<Workload> Selected()
    {
        var w = Workload.All.Where(x => Only.Count == 0 || Only.Any(s => x.Name.Contains(s, StringComparison.OrdinalIgnoreCase))).ToList();
        if (w.Count == 0)
            throw new CompareException($"--only {string.Join(",", Only)} matches no workload (see --list)");
        return w;
    }
}

/// <summary>A failure reported as one clear message (no stack trace).</summary>
internal sealed class CompareException(string message, int exitCode = 1) : Exception(message)
{
    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; } = exitCode;
}
