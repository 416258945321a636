using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>
/// The discrete-GPU memory path, taken on any driver by a backend of its own: device memory is never
/// mapped, so every upload and download goes through staging copies (what NVIDIA and AMD cards do;
/// lavapipe's memory is host-visible and would otherwise be mapped directly).
/// </summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // sets process-wide switches or counts backend work
public class VulkanStagingTests
{
    static readonly Lazy<VulkanBackend> Own =
        new(() => new VulkanBackend(Environment.GetEnvironmentVariable("STAX_VULKAN_DEVICE"), null, staging: true));

    [VulkanFact]
    public void BytesRoundTripThroughStagingForEveryLengthAndDType()
    {
        var vk = Own.Value;
        Assert.NotNull(vk.Staging);
        var rng = new Random(5);
        foreach (int n in new[] { 0, 1, 3, 5, 1023, (3 << 20) + 5 })
            foreach (var dtype in new[] { DType.UInt8, DType.Bool, DType.Float16, DType.BFloat16, DType.Int32, DType.Float32 })
            {
                var bytes = new byte[n * dtype.SizeOf()];
                rng.NextBytes(bytes);
                if (dtype == DType.Bool) for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
                var b = vk.Upload(bytes, dtype);
                var back = new byte[bytes.Length];
                vk.Download(b, back);
                Assert.True(bytes.AsSpan().SequenceEqual(back), $"{dtype} x {n}: bytes changed on the way");
                b.ReleaseNow();
            }
    }

    [VulkanFact]
    public void EagerOperationsOnStagedTensorsMatchTheCpu()
    {
        var vk = Own.Value;
        var host = Enumerable.Range(0, 5000).Select(i => (float)(i % 97) - 40.5f).ToArray();
        var x = Tensor.FromArray(host, host.Length);
        var gpu = x.DevicePut(vk);
        var onGpu = (gpu * 2f + 1f).ToArray<float>();
        var onCpu = (x * 2f + 1f).ToArray<float>();
        Assert.Equal(onCpu, onGpu);
        Assert.Equal(Lax.ReduceMax(x, 0).Item<float>(), Lax.ReduceMax(gpu, 0).Item<float>());
        var ints = Tensor.FromArray(Enumerable.Range(0, 777).ToArray(), 777).DevicePut(vk);
        Assert.Equal(Enumerable.Range(0, 777).Select(i => i * 3).ToArray(), (ints * 3).ToArray<int>());
    }

    [VulkanFact]
    public void ACompiledTrainStepIsOneSubmissionPerCallAndMatchesTheCpu()
    {
        var vk = Own.Value;
        vk.FusionOverride = true;
        var cpu = new VulkanCompiledTests.AdamStep(CpuBackend.Instance, 32, 20, 24);
        var gpu = new VulkanCompiledTests.AdamStep(vk, 32, 20, 24);
        // One submission per call, the first call too: the tables it uploads while recording take fresh
        // staging chunks instead of submitting the open command buffer to reuse one (the staging pool
        // runs ahead); results, state and dispatch bound as on unified memory.
        VulkanCompiledTests.Steps(vk, cpu, gpu, vk.ProgramRecordings);
    }
}
