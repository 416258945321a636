namespace Stax.Bench.Compare;

/// <summary>What a compare workload measures.</summary>
internal enum WorkloadKind
{
    /// <summary>fp32 GEMM C = op(A) op(B), best-of-N seconds per call; peer: numpy/OpenBLAS.</summary>
    Sgemm,
    /// <summary>MLP 784-512-512-10 Adam train step, batch 128, median ms; peer: torch.</summary>
    MlpStep,
    /// <summary>Small MNIST CNN Adam train step, batch 64, median ms; peer: torch.</summary>
    CnnStep,
}

/// <summary>One row of the comparison: a Stax workload and the peer settings it is compared with.</summary>
/// <param name="Name">Row name, e.g. <c>sgemm-1024-t2</c>.</param>
/// <param name="Kind">What is measured.</param>
/// <param name="Threads">Stax's <see cref="Config.NumThreads"/> (and the peer's thread budget).</param>
/// <param name="M">GEMM rows of C.</param>
/// <param name="K">GEMM contraction length.</param>
/// <param name="N">GEMM columns of C.</param>
/// <param name="TransA">A is stored K x M and used transposed.</param>
/// <param name="TransB">B is stored N x K and used transposed.</param>
/// <param name="Target">The issue's target for the time ratio stax/peer (at most).</param>
internal sealed record Workload(string Name, WorkloadKind Kind, int Threads, int M, int K, int N, bool TransA, bool TransB,
    double Target)
{
    /// <summary>Peer name used in the RATIO lines.</summary>
    public string Peer => Kind == WorkloadKind.Sgemm ? "openblas" : "torch";

    /// <summary>The peer's thread settings tried (the best one in the run is compared): for two torch
    /// threads plain 2+2, OMP_WAIT_POLICY=PASSIVE, and 1 torch thread with 2 OpenBLAS threads.</summary>
    public string[] PeerSettings => Kind == WorkloadKind.Sgemm || Threads == 1
        ? new[] { Threads.ToString() }
        : new[] { $"{Threads}", $"{Threads}p", $"1x{Threads}" };

    /// <summary>Floating-point operations of one GEMM call (2 m n k); 0 for train steps.</summary>
    public double Flops => Kind == WorkloadKind.Sgemm ? 2.0 * M * N * K : 0;

    /// <summary>A one-line description for the docs and the header.</summary>
    public string Describe() => Kind switch
    {
        WorkloadKind.Sgemm => $"C[{M}x{N}] = {(TransA ? $"A[{K}x{M}]^T" : $"A[{M}x{K}]")} @ {(TransB ? $"B[{N}x{K}]^T" : $"B[{K}x{N}]")}, {Threads} thread(s)",
        WorkloadKind.MlpStep => $"MLP 784-512-512-10 Adam step, batch 128, {Threads} thread(s)",
        _ => $"CNN conv32-conv64-pool-fc128-fc10 Adam step, batch 64, {Threads} thread(s)",
    };

    /// <summary>Every workload of a full run, in run order.</summary>
    public static IReadOnlyList<Workload> All { get; } = Build();

    static List<Workload> Build()
    {
        const double gemmTarget = 1 / 0.9;
        var list = new List<Workload>();
        foreach (var t in new[] { 1, 2 })
            foreach (var n in new[] { 256, 512, 1024, 2048 })
                list.Add(new($"sgemm-{n}-t{t}", WorkloadKind.Sgemm, t, n, n, n, false, false, gemmTarget));
        // The MLP's own GEMMs (batch 128, Dense weights stored in x out): forward x @ W,
        // weight gradients x^T @ dy (A transposed), input gradients dy @ W^T (B transposed).
        var mlp = new (string Name, int M, int K, int N, bool Ta, bool Tb, bool Big)[]
        {
            ("fwd1", 128, 784, 512, false, false, true),
            ("fwd2", 128, 512, 512, false, false, true),
            ("fwd3", 128, 512, 10, false, false, false),
            ("dw1", 784, 128, 512, true, false, true),
            ("dw2", 512, 128, 512, true, false, true),
            ("dw3", 512, 128, 10, true, false, false),
            ("dx2", 128, 512, 512, false, true, true),
            ("dx3", 128, 10, 512, false, true, false),
        };
        foreach (var t in new[] { 1, 2 })
            foreach (var s in mlp)
                if (t == 1 || s.Big)
                    list.Add(new($"sgemm-mlp-{s.Name}-t{t}", WorkloadKind.Sgemm, t, s.M, s.K, s.N, s.Ta, s.Tb, gemmTarget));
        foreach (var t in new[] { 1, 2 }) list.Add(new($"mlp-step-t{t}", WorkloadKind.MlpStep, t, 0, 0, 0, false, false, 0.7));
        foreach (var t in new[] { 1, 2 }) list.Add(new($"cnn-step-t{t}", WorkloadKind.CnnStep, t, 0, 0, 0, false, false, 1.0));
        return list;
    }
}
