using Stax.Backends;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>
/// When the device memory pool waits for queued work, and what it submits early. These tests count
/// the backend's submissions, so they run alone (the counters collection).
/// </summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanPoolSubmissionTests
{
    [VulkanFact]
    public void APoolMissDoesNotSubmitWorkThatHoldsNoChunkOfTheWantedSize()
    {
        var vk = VulkanCheck.Vk;
        var host = new float[4096];
        var t = new AbstractValue(new Shape(host.Length), DType.Float32);
        var x = (VulkanBuffer)vk.Upload(System.Runtime.InteropServices.MemoryMarshal.AsBytes(host.AsSpan()), DType.Float32);
        var args = new Stax.Backends.DeviceBuffer[] { x };
        var y = (VulkanBuffer)vk.Execute(Prims.Exp, Params.None, args, new[] { t }, new[] { t })[0];
        // x and y are released while their work is still being recorded; a request of another
        // size cannot reuse them, so it must neither wait nor submit that work early.
        x.Dispose();
        y.Dispose();
        var (_, before) = vk.CommandCounts;
        var other = new byte[(3 << 20) + 4 * 4097];
        var z = (VulkanBuffer)vk.Upload(other, DType.UInt8);
        Assert.Equal(before, vk.CommandCounts.Submissions);
        z.Dispose();
        vk.Synchronize();
        Assert.Equal(before + 1, vk.CommandCounts.Submissions);
    }
}
