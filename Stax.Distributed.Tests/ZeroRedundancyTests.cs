using System.Globalization;

namespace Stax.Distributed.Tests;

/// <summary>Optimizer-state sharding (ZeroRedundancyOptimizer) under mpirun, against the fused-mean data-parallel step.</summary>
[Collection(MpiJobs.Name)]
public sealed class ZeroRedundancyTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    [Fact]
    public void Shard_layout_splits_contiguously_with_sizes_differing_by_at_most_one()
    {
        // floor(35 r / 3) for r = 0..3: 0, 11, 23, 35.
        Assert.Equal((0, 11), ShardLayout.Range(35, 3, 0));
        Assert.Equal((11, 12), ShardLayout.Range(35, 3, 1));
        Assert.Equal((23, 12), ShardLayout.Range(35, 3, 2));
        Assert.Equal(new[] { 0, 1 }, ShardLayout.Counts(1, 2)); // fewer elements than ranks: no padding
        Assert.Equal(new[] { 5, 5 }, ShardLayout.Counts(10, 2));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ShardLayout.Range(10, 2, 2));
        Assert.Contains("rank 2 is not one of 0..1", e.Message);
    }

    [MpiTheory]
    [InlineData(2, "cpu", "checked")]   // agreement checks, then the blocking MPI_Reduce_scatter / MPI_Allgatherv
    [InlineData(2, "cpu", "unchecked")] // MPI_Ireduce_scatter / MPI_Iallgatherv polled with MPI_Test
    [InlineData(3, "cpu", "checked")]
    [InlineData(2, "vulkan", "checked")] // Vulkan tensors go through host copies
    public void Sharded_optimizer_steps_match_the_data_parallel_step_on_every_rank_and_resume_from_a_gathered_state(
        int ranks, string backend, string variant)
    {
        var run = MpiEnvironment.Run(ranks, Limit, "zero", backend, variant);
        if (backend == "vulkan" && run.Output.Contains("Vulkan not available", StringComparison.Ordinal)
            && Environment.GetEnvironmentVariable("STAX_REQUIRE_VULKAN") != "1")
            return; // no driver here: the CPU cases cover the optimizer
        if (backend == "vulkan") Assert.Equal("vulkan", run.Value(0, "backend"));
        Assert.True(run.Exited && run.ExitCode == 0, $"mpirun exit {run.ExitCode}:\n{run.Output}");
        foreach (var opt in new[] { "adam", "adamw" })
        {
            for (int r = 0; r < ranks; r++)
            {
                // Identical parameters on every rank (every rank adds the same gathered updates).
                Assert.Equal(run.Value(0, opt + "hash"), run.Value(r, opt + "hash"));
                // Adam's count (1 element) is kept whole; mu and nu (67 elements each) are split:
                // rank r holds its ShardLayout share of every leaf, [size*r/n, size*(r+1)/n), and
                // the same share of the parameters (the master copy it updates).
                long shardElems = new[] { 35, 7, 21, 3, 1 }.Sum(s => s * (r + 1) / ranks - s * r / ranks);
                Assert.Equal($"{1 + 3 * shardElems}/{1 + 2 * 67}", run.Value(r, opt + "statesize"));
                // The checkpoint path: the gathered state is the unsharded optimizer's state, and
                // training on from its re-cut shards gives the same parameters as not stopping.
                Assert.Equal(run.Value(r, opt + "resumedhash"), run.Value(r, opt + "hash"));
                // ZeroRedundancyOptimizer.ApplyGradients (gathers parameters) and TrainState.ApplyGradients
                // (gathers updates) give the same parameters and sharded states.
                Assert.Equal(run.Value(r, opt + "updatespathhash"), run.Value(r, opt + "fasthash"));
                // The eager step equals the compiled one.
                var pair = run.Value(r, opt + "eagerhash").Split(' ');
                Assert.Equal(pair[0], pair[1]);
                float diff = float.Parse(run.Value(r, opt + "diff"), CultureInfo.InvariantCulture);
                Assert.True(float.Parse(run.Value(r, opt + "moved"), CultureInfo.InvariantCulture) > 1e-2f, run.Output);
                if (ranks == 2)
                {
                    // Two ranks: each element's sum is one IEEE addition either way and the update
                    // is elementwise, so the sharded step is the data-parallel step bit for bit.
                    Assert.Equal(run.Value(r, opt + "plainhash"), run.Value(r, opt + "hash"));
                    Assert.Equal(run.Value(r, opt + "plainstatehash"), run.Value(r, opt + "gatherhash"));
                    Assert.Equal(0f, diff);
                }
                else
                {
                    // Three ranks: reduce-scatter and all-reduce may add in different orders.
                    Assert.True(diff < 1e-5f, $"rank {r}: max |sharded - data-parallel| = {diff}\n{run.Output}");
                }
            }
        }
    }
}
