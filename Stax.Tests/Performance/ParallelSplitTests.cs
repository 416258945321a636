using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Performance;

/// <summary>
/// Steps split for many threads: the result is bit-identical at 1, 2 and 16 threads (16 threads on
/// a small machine is fine for correctness) and the parallel region really has more chunks at 16
/// threads (counted by <see cref="ParallelStats"/>), so removing the split fails the test.
/// </summary>
public class ParallelSplitTests
{
    /// <summary>Runs <paramref name="f"/> at <paramref name="threads"/> threads; returns its bytes and the most chunks of one region.</summary>
    static (byte[] Bytes, int Chunks) At(int threads, Func<Tensor> f)
    {
        var stats = new ParallelStats();
        var previous = ParallelStats.Install(stats);
        try
        {
            using (Config.UseThreads(threads))
                return (f().ToBytes(), stats.MaxChunks);
        }
        finally { ParallelStats.Install(previous); }
    }

    [Fact]
    public void StatsCountTheChunksOfASplitRegionAndAreOffByDefault()
    {
        Assert.Null(ParallelStats.Current);
        var stats = new ParallelStats();
        ParallelStats.Install(stats);
        try
        {
            using (Config.UseThreads(16))
            {
                // 2^20 items with the elementwise grain (2^15): 32 possible chunks, 16 threads.
                CpuParallel.For(1 << 20, CpuParallel.ElementwiseGrain, 0, static (_, _, _) => { });
                Assert.Equal(16, stats.MaxChunks);
                Assert.Equal(1, stats.SplitRegions);
                CpuParallel.For(100, CpuParallel.ElementwiseGrain, 0, static (_, _, _) => { });
                Assert.Equal(1, stats.InlineRegions);
            }
        }
        finally { ParallelStats.Install(null); }
    }

    [Fact]
    public void WinogradWeightGradientSplitsColumnsPastItsChunks()
    {
        // The weight gradient's form (3x3 output): 4 channels x 6x6 kernel pieces is 2 chunks of the
        // contraction; 64 output columns split into 4 parts at 16 threads, so 8 work items.
        var c = new Conformance.ConvTests.Case("weight gradient 32x64", new[] { 4, 14, 14, 32 }, new[] { 4, 12, 12, 64 },
            new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("CHWN", "IHWO", "HWNC"));
        using var _ = Config.UseIsa(Isa.Vector512);
        var x = TestData.Tensor(21, c.Lhs, lo: -1, hi: 1);
        var w = TestData.Tensor(22, c.Rhs, lo: -1, hi: 1);
        Tensor Run() => Prims.ConvGeneralDilated.Bind1(c.Params(), x, w);
        // Sums of 576 products in float32 through the Winograd transforms: an absolute tolerance of 1e-4.
        using (Config.UseThreads(16))
            Check.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, c.Name);
        var (b1, _) = At(1, Run);
        var (b2, chunks2) = At(2, Run);
        var (b16, chunks16) = At(16, Run);
        Assert.Equal(b1, b2);
        Assert.Equal(b1, b16);
        Assert.Equal(2, chunks2);
        Assert.Equal(8, chunks16);
    }
}
