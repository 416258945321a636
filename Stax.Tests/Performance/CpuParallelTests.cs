using Stax.Backends.Cpu;

namespace Stax.Tests.Performance;

/// <summary>
/// <see cref="CpuParallel"/> on its persistent workers: every chunk runs once with the same
/// boundaries, scoped settings reach the workers, nested regions complete and a chunk's exception
/// reaches the caller.
/// </summary>
[Collection("cpu-pool")]
public class CpuParallelTests
{
    [Fact]
    public void EveryChunkRunsOnceWithFixedBoundaries()
    {
        using var threads = Config.UseThreads(4);
        var seen = new int[1000];
        var ranges = new System.Collections.Concurrent.ConcurrentBag<(long, long)>();
        CpuParallel.For(seen.Length, 1, (seen, ranges), static (st, s, e) =>
        {
            st.ranges.Add((s, e));
            for (long i = s; i < e; i++) Interlocked.Increment(ref st.seen[i]);
        }, align: 8);
        Assert.All(seen, c => Assert.Equal(1, c));
        // 4 chunks of ceil(1000 / 4) = 250 rounded up to the alignment: 256, 256, 256, 232.
        Assert.Equal(new[] { (0L, 256L), (256L, 512L), (512L, 768L), (768L, 1000L) }, ranges.OrderBy(r => r.Item1));
    }

    [Fact]
    public void ScopedIsaReachesEveryChunk()
    {
        using var threads = Config.UseThreads(3);
        using var isa = Config.UseIsa(Isa.Scalar);
        var isas = new Isa[3];
        CpuParallel.For(3, 1, isas, static (a, s, e) => { for (long i = s; i < e; i++) a[i] = Config.Isa; }, align: 1);
        Assert.All(isas, i => Assert.Equal(Isa.Scalar, i));
    }

    [Fact]
    public void NestedRegionsComplete()
    {
        using var threads = Config.UseThreads(2);
        var sums = new long[2];
        CpuParallel.For(2, 1, sums, static (outer, s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                var inner = new long[100];
                CpuParallel.For(100, 1, inner, static (a, s2, e2) => { for (long j = s2; j < e2; j++) a[j] = j; }, align: 1);
                outer[i] = inner.Sum();
            }
        }, align: 1);
        Assert.Equal(new[] { 4950L, 4950L }, sums);
    }

    [Fact]
    public void AChunksExceptionReachesTheCaller()
    {
        using var threads = Config.UseThreads(2);
        var e = Assert.Throws<InvalidOperationException>(() =>
            CpuParallel.For(2, 1, 0, static (_, s, _) => { if (s == 1) throw new InvalidOperationException("chunk 1"); }, align: 1));
        Assert.Equal("chunk 1", e.Message);
        // The workers are free again afterwards.
        var done = new bool[2];
        CpuParallel.For(2, 1, done, static (d, s, e2) => { for (long i = s; i < e2; i++) d[i] = true; }, align: 1);
        Assert.All(done, Assert.True);
    }
}
