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
    /// <summary>Runs <paramref name="f"/> at <paramref name="threads"/> threads: its bytes and most chunks per region.</summary>
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StridedReductionToFewColumnsSplitsItsTree(bool max)
    {
        // A bias gradient's form: (64, 26, 26, 32) summed to 32 channels is one column tile of
        // 43264 rows; at 16 threads its tree's top four levels run as 16 subtrees. An odd row
        // count leaves a short last block; an int32 max checks another operation.
        var x = TestData.Tensor(31, new[] { 64, 26, 26, 32 }, lo: -1, hi: 1);
        var y = TestData.Tensor(32, new[] { 1001, 3, 40 }, DType.Int32);
        Func<Tensor> run = max ? () => Lax.ReduceMax(y, 0, 1) : () => Lax.ReduceSum(x, 0, 1, 2);
        var (b1, chunks1) = At(1, run);
        var (b2, chunks2) = At(2, run);
        var (b16, chunks16) = At(16, run);
        Assert.Equal(b1, b2);
        Assert.Equal(b1, b16);
        Assert.Equal(1, chunks1);
        Assert.Equal(2, chunks2);
        // The int32 case: 16 subtrees of about 7,500 values; a grain is 4 of them, a chunk half a grain.
        Assert.Equal(max ? 8 : 16, chunks16);
        if (max) return;
        // Against float64 sums of the same values (one output per channel).
        var xs = x.ToArray<float>();
        var sums = run().ToArray<float>();
        for (int c = 0; c < 32; c++)
        {
            double exact = 0;
            for (long i = c; i < xs.Length; i += 32) exact += xs[i];
            Assert.InRange(sums[c], exact - 1e-3, exact + 1e-3);
        }
    }

    [Fact]
    public void ElementwiseRegionsOfSeveralGrainsFeedEveryThread()
    {
        // 12.25 grains of elementwise work (the MLP's Adam pass over 401,408 weights): 12 whole
        // grains, so 12 chunks at 16 threads by whole grains; half grains give all 16 threads work.
        var x = TestData.Tensor(41, new[] { 784, 512 }, lo: -1, hi: 1);
        var y = TestData.Tensor(42, new[] { 784, 512 }, lo: -1, hi: 1);
        Func<Tensor> run = () => Lax.Add(Lax.Mul(x, y), x);
        var (b1, _) = At(1, run);
        var (b2, chunks2) = At(2, run);
        var (b16, chunks16) = At(16, run);
        Assert.Equal(b1, b2);
        Assert.Equal(b1, b16);
        Assert.Equal(2, chunks2);
        Assert.Equal(16, chunks16);
        var xs = x.ToArray<float>();
        var ys = y.ToArray<float>();
        var r = run().ToArray<float>();
        for (int i = 0; i < xs.Length; i += 997) Assert.Equal(xs[i] * ys[i] + xs[i], r[i]);
    }

    [Fact]
    public void RegionsBelowTwoGrainsKeepTheirSplit()
    {
        var stats = new ParallelStats();
        var previous = ParallelStats.Install(stats);
        try
        {
            using (Config.UseThreads(16))
            {
                // 1.5 grains: one chunk, as before (half grains only once a region splits anyway).
                CpuParallel.For(3 * CpuParallel.ElementwiseGrain / 2, CpuParallel.ElementwiseGrain, 0, static (_, _, _) => { });
                Assert.Equal(1, stats.MaxChunks);
                // 3 grains: 6 chunks of half a grain.
                CpuParallel.For(3 * CpuParallel.ElementwiseGrain, CpuParallel.ElementwiseGrain, 0, static (_, _, _) => { });
                Assert.Equal(6, stats.MaxChunks);
            }
        }
        finally { ParallelStats.Install(previous); }
    }
}
