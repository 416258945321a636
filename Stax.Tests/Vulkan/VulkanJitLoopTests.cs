namespace Stax.Tests.Vulkan;

/// <summary>A <see cref="JitLoop"/> on the Vulkan backend: it runs through the backend's ordinary
/// call (no object reuse there) and gives the values of a loop of plain calls.</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // alone: other classes count backend-wide submissions
public class VulkanJitLoopTests
{
    [VulkanFact]
    public void JitLoopGivesTheValuesOfCall()
    {
        var vk = VulkanCheck.Vk;
        // state ← state * 0.5 + x; also returns the state's sum (a result that is not fed back).
        var f = Transforms.Jit((Tensor[] a) => new[] { a[0] * 0.5 + a[1], a[0].Sum() }, "halve", 0);
        var x = Tensor.FromArray(new float[] { 1, 2, 4 }).DevicePut(vk);
        var first = Tensor.FromArray(new float[] { 8, 8, 8 }).DevicePut(vk);
        var loop = f.Loop(new[] { first, x }, 0);
        float[] state = { 8, 8, 8 };
        for (int step = 0; step < 4; step++)
        {
            loop.Step();
            float sum = state.Sum();
            state = state.Select((v, i) => v * 0.5f + new float[] { 1, 2, 4 }[i]).ToArray();
            Assert.Equal(sum, loop.Item<float>(1));
        }
        Assert.Equal(state, loop.Result(0).ToArray<float>());
        Assert.Throws<InvalidOperationException>(() => first.ToArray<float>());
    }
}
