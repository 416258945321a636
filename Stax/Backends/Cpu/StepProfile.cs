namespace Stax.Backends.Cpu;

/// <summary>
/// Accumulated wall time per step name of compiled CPU programs (set as <see cref="CpuExecutable.Profile"/>).
/// With <see cref="Parallelism"/>, each step's parallel regions are counted too (<see cref="ParallelStats"/>).
/// </summary>
internal sealed class StepProfile
{
    /// <summary>When true, entries count bytes allocated on the running thread instead of time.</summary>
    public bool Bytes { get; init; }

    /// <summary>When true, entries also keep the step's chunks per region and its time outside split regions.</summary>
    public bool Parallelism { get; init; }

    readonly ParallelStats _stats = new();
    bool _open;

    /// <summary>The current reading: a timestamp, or bytes allocated by this thread. Called as a step starts.</summary>
    public long Now()
    {
        if (Parallelism)
        {
            // Installed on the thread that runs the program. The executable reads Now() before and
            // after a step; only the first resets, so work between steps is not counted.
            if (ParallelStats.Current != _stats) ParallelStats.Install(_stats);
            if (!_open) _stats.Reset();
            _open = true;
        }
        return Bytes ? GC.GetAllocatedBytesForCurrentThread() : System.Diagnostics.Stopwatch.GetTimestamp();
    }

    readonly Dictionary<string, Entry> _entries = new();

    /// <summary>One step name's totals.</summary>
    internal readonly record struct Entry(long Ticks, int Count, int MaxChunks, int SplitRegions, long ParallelTicks);

    /// <summary>Adds one measurement (a step has just finished).</summary>
    public void Add(string name, long ticks)
    {
        int chunks = 0, split = 0;
        long parallel = 0;
        if (Parallelism && ParallelStats.Current == _stats)
        {
            chunks = _stats.MaxChunks; split = _stats.SplitRegions; parallel = _stats.ParallelTicks;
        }
        _open = false;
        lock (_entries)
        {
            _entries.TryGetValue(name, out var e);
            _entries[name] = new Entry(e.Ticks + ticks, e.Count + 1, Math.Max(e.MaxChunks, chunks),
                e.SplitRegions + split, e.ParallelTicks + parallel);
        }
    }

    /// <summary>Stops counting parallel regions on the calling thread.</summary>
    public void Detach()
    {
        if (ParallelStats.Current == _stats) ParallelStats.Install(null);
    }

    static double Ms(long ticks) => ticks * 1000.0 / System.Diagnostics.Stopwatch.Frequency;

    /// <summary>Entries by descending total time: name, total milliseconds, count.</summary>
    public IEnumerable<(string Name, double Ms, int Count)> Top()
    {
        lock (_entries)
            return _entries.Select(kv => (kv.Key, Ms(kv.Value.Ticks), kv.Value.Count))
                .OrderByDescending(e => e.Item2).ToArray();
    }

    /// <summary>
    /// Entries with their parallelism: total milliseconds, count, most chunks of one region, split
    /// regions, and milliseconds outside split regions (serial), by descending total time.
    /// </summary>
    public IEnumerable<(string Name, double Ms, int Count, int MaxChunks, int SplitRegions, double SerialMs)> Detail()
    {
        lock (_entries)
            return _entries.Select(kv => (kv.Key, Ms(kv.Value.Ticks), kv.Value.Count, kv.Value.MaxChunks,
                    kv.Value.SplitRegions, Ms(kv.Value.Ticks - kv.Value.ParallelTicks)))
                .OrderByDescending(e => e.Item2).ToArray();
    }
}
