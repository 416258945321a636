namespace Stax.Backends.Cpu;

/// <summary>
/// What <see cref="CpuParallel"/> did on one thread while installed (benchmark diagnostics and
/// tests): the most chunks any region was split into, how many regions split, and the wall time
/// spent inside split regions. Off unless a caller installs one with <see cref="Install"/>; it is
/// per thread, so concurrent tests and nested regions on worker threads do not mix in.
/// </summary>
internal sealed class ParallelStats
{
    [ThreadStatic] static ParallelStats? _current;

    /// <summary>The calling thread's statistics, or null when off (the normal case).</summary>
    public static ParallelStats? Current => _current;

    /// <summary>Installs <paramref name="stats"/> (null: off) for the calling thread; returns the previous one.</summary>
    public static ParallelStats? Install(ParallelStats? stats)
    {
        var previous = _current;
        _current = stats;
        return previous;
    }

    /// <summary>Most chunks of one region since the last <see cref="Reset"/>.</summary>
    public int MaxChunks { get; private set; }

    /// <summary>Regions split into two or more chunks since the last <see cref="Reset"/>.</summary>
    public int SplitRegions { get; private set; }

    /// <summary>Regions that ran inline as one chunk since the last <see cref="Reset"/>.</summary>
    public int InlineRegions { get; private set; }

    /// <summary>Stopwatch ticks spent inside outermost split regions since the last <see cref="Reset"/>.</summary>
    public long ParallelTicks { get; private set; }

    int _depth;

    /// <summary>Clears the counts.</summary>
    public void Reset()
    {
        MaxChunks = 0; SplitRegions = 0; InlineRegions = 0; ParallelTicks = 0;
    }

    internal void Inline()
    {
        InlineRegions++;
        if (MaxChunks < 1) MaxChunks = 1;
    }

    /// <summary>Enters a split region; returns its start timestamp.</summary>
    internal long Enter(int chunks)
    {
        SplitRegions++;
        if (chunks > MaxChunks) MaxChunks = chunks;
        return _depth++ == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>Leaves a split region; a region nested in another adds no time of its own.</summary>
    internal void Exit(long start)
    {
        if (--_depth == 0) ParallelTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
    }
}
