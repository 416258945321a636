namespace Stax.Backends.Cpu;

/// <summary>Splits work over <see cref="Config.NumThreads"/> threads in fixed, deterministic chunks.</summary>
internal static class CpuParallel
{
    /// <summary>Minimum elements per chunk for cheap elementwise work.</summary>
    public const long ElementwiseGrain = 1 << 15;

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, n) in contiguous chunks of at least
    /// <paramref name="grain"/> items (half a grain when a region of two grains or more has more
    /// threads than grains); runs inline when one chunk suffices. Chunk boundaries are
    /// multiples of <paramref name="align"/> so vector loops see the same element groups.
    /// </summary>
    public static void For(long n, long grain, Action<long, long> body, long align = 64)
        => For(n, grain, body, static (b, s, e) => b(s, e), align);

    /// <summary>
    /// As <see cref="For(long, long, Action{long, long}, long)"/> with the body's data passed as
    /// <paramref name="state"/>: with a static lambda, a call that runs inline allocates nothing
    /// (a capturing lambda allocates its closure on every call).
    /// </summary>
    public static void For<TState>(long n, long grain, TState state, Action<TState, long, long> body, long align = 64)
    {
        int threads = Config.NumThreads;
        long chunks = Math.Min(threads, Math.Max(1, n / Math.Max(1, grain)));
        // A region worth splitting (two grains or more) pays its wake-up once; more threads than
        // whole grains then take chunks down to half a grain. Below two grains, and on two
        // threads, the split is unchanged.
        if (chunks >= 2 && chunks < threads) chunks = Math.Min(threads, n / Math.Max(1, grain / 2));
        var stats = ParallelStats.Current;
        if (chunks <= 1)
        {
            stats?.Inline();
            body(state, 0, n);
            return;
        }
        long per = (n + chunks - 1) / chunks;
        per = (per + align - 1) / align * align;
        if (stats == null) { Run(n, per, (int)chunks, threads, state, body); return; }
        // Chunks with work: rounding the chunk size up to the alignment can leave the last ones empty.
        long t0 = stats.Enter((int)((n + per - 1) / per));
        try { Run(n, per, (int)chunks, threads, state, body); }
        finally { stats.Exit(t0); }
    }

    static void Run<TState>(long n, long per, int chunks, int threads, TState state, Action<TState, long, long> body)
    {
        // The persistent workers when free (no allocation per region), else the runtime's loop.
        var job = CpuWorkers.Job<TState>.Rent();
        job.State = state; job.Body = body; job.N = n; job.Per = per;
        try
        {
            if (CpuWorkers.TryRun(job, chunks)) return;
        }
        finally { job.Return(); }
        Fallback(n, per, chunks, threads, state, body);
    }

    // A method of its own: its lambda's captures (parameters) would otherwise be allocated on
    // entry to For, on every call, even when the work runs inline.
    static void Fallback<TState>(long n, long per, int chunks, int threads, TState state, Action<TState, long, long> body)
    {
        // Parallel.For flows the caller's ExecutionContext, so a scoped Config.Isa reaches workers.
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            long s = c * per, e = Math.Min(n, s + per);
            if (s >= e) return;
            body(state, s, e);
        });
    }
}
