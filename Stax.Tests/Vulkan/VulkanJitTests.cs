using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Vulkan;

/// <summary>Jitted programs on Vulkan: one command buffer per call, same results as eager.</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanJitTests
{
    static Tensor Mlp(Tensor x, Tensor w)
    {
        var h = Np.Tanh(Lax.DotGeneral(x, w, new[] { 1 }, new[] { 0 }));
        var s = Lax.ReduceSum(Np.Exp(h), 1);
        return Lax.Cumsum(s, 0);
    }

    [VulkanFact]
    public void JittedProgramIsOneSubmissionAndMatchesEager()
    {
        var vk = VulkanCheck.Vk;
        var v = VulkanCheck.Put(TestData.Tensor(1, new[] { 9, 13 }), TestData.Tensor(2, new[] { 13, 5 }));
        var f = Jit((Func<Tensor, Tensor, Tensor>)Mlp);
        var eager = Mlp(v[0], v[1]).ToBytes();
        Assert.Equal(eager, f(v[0], v[1]).ToBytes());           // traces and compiles
        vk.Synchronize();
        var (d0, s0) = vk.CommandCounts;
        var r = f(v[0], v[1]);
        var (d1, s1) = vk.CommandCounts;
        Assert.True(d1 - d0 >= 4, $"expected the program's dispatches, got {d1 - d0}");
        Assert.Equal(1, s1 - s0);
        Assert.Same(vk, r.Backend);
        Assert.Equal(eager, r.ToBytes());
    }
}
