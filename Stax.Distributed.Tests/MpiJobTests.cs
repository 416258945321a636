namespace Stax.Distributed.Tests;

/// <summary>Two-process jobs under mpirun: collectives' values, training, mismatches and faults.</summary>
[Collection(MpiJobs.Name)]
public sealed class MpiJobTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    static void Succeeded(MpiRun run) => Assert.True(run.Exited && run.ExitCode == 0, $"mpirun exit {run.ExitCode} (exited: {run.Exited}):\n{run.Output}");

    // Members hold [r+1, 10(r+1), -(r+1)] for r = 0, 1. Expected, by the definitions: psum, pmean,
    // pmax, pmin, all_gather on axis 0 then axis 1 (flattened), psum_scatter of [0,1]+x[0]
    // (sums [3, 5]: member r keeps element r), axis_index, axis_size.
    static float[] Expected(int r) => new float[]
    {
        3, 30, -3, 1.5f, 15, -1.5f, 2, 20, -1, 1, 10, -2,
        1, 10, -1, 2, 20, -2,
        1, 2, 10, 20, -1, -2,
        r == 0 ? 3 : 5, r, 2,
    };

    [MpiTheory]
    [InlineData("checked")]          // agreement check, then the blocking MPI_Allreduce
    [InlineData("unchecked")]        // MPI_Iallreduce polled with MPI_Test
    [InlineData("reduce-broadcast")] // MPI_Ireduce to rank 0, then MPI_Ibcast
    public void Collectives_over_the_process_axis_match_their_definitions_and_Vmap(string variant)
    {
        var run = MpiEnvironment.Run(2, Limit, "collectives", "cpu", variant);
        Succeeded(run);
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal("2", run.Value(r, "size"));
            Assert.Equal(Expected(r), run.Floats(r, "eager"));
            Assert.Equal(Expected(r), run.Floats(r, "jit"));
            Assert.Equal(Expected(r), run.Floats(r, "vmap")); // the same body under Vmap(axisName: "batch") on one process
            // d/dx sum(psum(x) * w) = psum(w) = 2w (psum's transpose is psum, as in JAX).
            Assert.Equal(new float[] { 2, 4, 6 }, run.Floats(r, "grad"));
            Assert.Equal(run.Floats(r, "vmapgrad"), run.Floats(r, "grad"));
        }
    }

    [MpiFact]
    public void A_process_started_without_mpirun_is_a_job_of_one()
    {
        var run = MpiEnvironment.RunProgram(0, Limit, MpiEnvironment.Worker, "collectives");
        Succeeded(run);
        Assert.Equal("1", run.Value(0, "size"));
        // One member: psum, pmean, pmax, pmin are the value; all_gather adds a dimension of 1;
        // psum_scatter of [0 + 1] keeps element 0; axis_index 0, axis_size 1.
        var x = new float[] { 1, 10, -1 };
        var expected = x.Concat(x).Concat(x).Concat(x).Concat(x).Concat(x).Concat(new float[] { 1, 0, 1 }).ToArray();
        Assert.Equal(expected, run.Floats(0, "eager"));
        Assert.Equal(expected, run.Floats(0, "jit"));
        Assert.Equal(new float[] { 1, 2, 3 }, run.Floats(0, "grad"));
    }

    [MpiFact]
    public void Collectives_on_Vulkan_tensors_are_staged_through_the_host()
    {
        var run = MpiEnvironment.Run(2, Limit, "collectives", "vulkan");
        if (run.Output.Contains("Vulkan not available", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("STAX_REQUIRE_VULKAN") != "1")
            return; // no driver here: the CPU test covers the collectives
        Succeeded(run);
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal("vulkan", run.Value(r, "backend"));
            Assert.Equal(Expected(r), run.Floats(r, "eager"));
            Assert.Equal(Expected(r), run.Floats(r, "jit"));
            Assert.Equal(new float[] { 2, 4, 6 }, run.Floats(r, "grad"));
        }
    }

    [MpiFact]
    public void Data_parallel_steps_give_bit_identical_parameters_on_every_rank_and_match_one_process()
    {
        var run = MpiEnvironment.Run(2, Limit, "train");
        Succeeded(run);
        Assert.Equal(run.Value(0, "hash"), run.Value(1, "hash"));
        Assert.Equal(run.Value(0, "loss"), run.Value(1, "loss"));
        // 20 SGD steps with the fused gradient mean over two half batches against the same steps
        // on the whole batch in one process: equal up to float32 rounding.
        for (int r = 0; r < 2; r++)
            Assert.True(float.Parse(run.Value(r, "singlediff"), System.Globalization.CultureInfo.InvariantCulture) < 1e-5f, run.Output);
    }

    [MpiFact]
    public void Mismatched_shapes_between_ranks_throw_on_every_rank_before_any_data_moves()
    {
        var run = MpiEnvironment.Run(2, Limit, "mismatch");
        Succeeded(run);
        for (int r = 0; r < 2; r++)
        {
            var msg = run.Value(r, "mismatch");
            Assert.Contains("processes disagree", msg);
            Assert.Contains("rank 0: sum of float32[3]", msg);
            Assert.Contains("rank 1: sum of float32[4]", msg);
            Assert.Equal(new float[] { 3, 3 }, run.Floats(r, "after")); // still in step: 1 + 2
        }
    }

    [MpiTheory]
    [InlineData("checked")]
    [InlineData("unchecked")]
    [InlineData("reduce-broadcast")]
    public void Fused_psum_reduces_every_operand_in_one_checked_collective_and_refuses_mismatched_layouts(string variant)
    {
        var run = MpiEnvironment.Run(2, Limit, "fused", "cpu", variant);
        Succeeded(run);
        for (int r = 0; r < 2; r++)
        {
            // Sums of [1, 10, -1] + [2, 20, -2] and of 2 + 4.
            Assert.Equal("3,30,-3;6", run.Value(r, "fused"));
            Assert.Equal("(1, 1)", run.Value(r, "fusedshape"));
            Assert.Equal("3,30,-3;6", run.Value(r, "fusedjit"));
            // 2a summed (in place), 2(r+1)+1 summed, 2a summed again though d is returned, then d itself and a.
            string d = r == 0 ? "2,20,-2" : "4,40,-4", a = r == 0 ? "1,10,-1" : "2,20,-2";
            for (int call = 0; call < 3; call++)
                Assert.Equal($"6,60,-6;8;6,60,-6;{d};{a}", run.Value(r, $"fuseddead{call}"));
            Assert.Equal("2", run.Value(r, "fusedcollectives")); // one per call, not one per operand
            if (variant == "unchecked") continue; // no agreement check: the worker skips the mismatch
            var msg = run.Value(r, "mismatch");
            Assert.Contains("processes disagree", msg);
            Assert.Contains("rank 0: sum of 2 tensors of float32, 4 elements in all", msg);
            Assert.Contains("rank 1: sum of 2 tensors of float32, 5 elements in all", msg);
            Assert.Equal(new float[] { 3, 30, -3 }, run.Floats(r, "after")); // still in step
        }
    }

    [MpiFact]
    public void A_hanging_rank_makes_the_job_fail_with_a_clear_error_within_the_deadline()
    {
        var run = MpiEnvironment.Run(2, TimeSpan.FromSeconds(60), "hang"); // the worker's deadline is 4 s
        Assert.True(run.Exited, "mpirun did not end: the job hangs\n" + run.Output);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("psum over process axis 'batch' did not complete within 4 s on rank 0 of 2", run.Output);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), $"took {run.Elapsed}");
    }

    [MpiFact]
    public void A_killed_rank_makes_the_job_fail_within_bounded_time()
    {
        var run = MpiEnvironment.Run(2, TimeSpan.FromSeconds(60), "die");
        Assert.True(run.Exited, "mpirun did not end: the job hangs\n" + run.Output);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("rank 1 state dying", run.Output);
        Assert.DoesNotContain("rank 0 state returned", run.Output);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), $"took {run.Elapsed}");
    }
}
