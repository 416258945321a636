using Stax.Tests.Conformance;

namespace Stax.Tests.Vulkan;

/// <summary>Vulkan-only sort checks (the shared suite is Conformance.SortingTests).</summary>
[Trait("Backend", "Vulkan")]
public class VulkanSortingTests
{
    /// <summary>One line longer than 64K elements: the reference's insertion sort is quadratic, so
    /// this compares with the CPU backend, bit for bit.</summary>
    [VulkanFact]
    public void SortLongerThan64KMatchesCpu()
    {
        var x = SortingTests.WithTies(4, Infrastructure.TestData.Large, DType.Float32);
        var iota = Lax.Iota(DType.Int32, new Shape(Infrastructure.TestData.Large), 0);
        var cpu = Lax.Sort(new[] { x, iota }, 0);
        var vk = Lax.Sort(VulkanCheck.Put(x, iota), 0);
        Assert.Same(VulkanCheck.Vk, vk[0].Backend);
        Assert.Equal(cpu[0].ToBytes(), vk[0].ToBytes());
        Assert.Equal(cpu[1].ToBytes(), vk[1].ToBytes());
    }
}
