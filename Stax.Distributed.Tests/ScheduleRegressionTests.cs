namespace Stax.Distributed.Tests;

/// <summary>A compiled program whose output is a broadcast scalar (Vmap's unbatched psum result
/// spread over the members) ran into the CPU scheduler's splat handling, which never emitted it.</summary>
public sealed class ScheduleRegressionTests
{
    [Fact]
    public void Jit_of_Vmap_psum_over_scalar_members_broadcasts_the_sum()
    {
        var f = Transforms.Jit((Tensor x) => Transforms.Vmap(a => new[] { Transforms.Psum(a[0], "i") }, new int?[] { 0 }, axisName: "i")(new[] { x })[0]);
        Assert.Equal(new float[] { 10, 10, 10, 10 }, f(Tensor.FromArray(new float[] { 1, 2, 3, 4 })).ToArray<float>());
    }
}
