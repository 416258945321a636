using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>threefry2x32 on Vulkan against the reference (gather and scatter run in the shared suite,
/// Conformance.IndexingTests; dynamic_slice and dynamic_update_slice in Conformance.MovementTests).</summary>
[Trait("Backend", "Vulkan")]
public class VulkanIndexingTests
{
    [VulkanFact]
    public void Threefry2x32IsBitIdenticalToTheReference()
    {
        foreach (var shape in TestData.Shapes.Append(TestData.Large))
        {
            var ins = Enumerable.Range(0, 4).Select(k => TestData.Tensor(900 + k, shape, DType.UInt32, specials: true)).ToArray();
            VulkanCheck.AgainstReference(Prims.Threefry2x32, Params.None, ins, context: $"threefry {Shape.Format(shape)}");
        }
        // Random123 known answer: key (0, 0), counter (0, 0) -> 0x6b200159, 0x99ba4efe.
        var z = VulkanCheck.Put(Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1));
        var r = Prims.Threefry2x32.Bind(Params.None, z);
        Assert.Equal(0x6b200159u, r[0].ToArray<uint>()[0]);
        Assert.Equal(0x99ba4efeu, r[1].ToArray<uint>()[0]);
    }
}
