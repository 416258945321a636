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
        vk.Stream.SubmitWhenIdle = false; // keep the exp open on the host, whatever the queue is doing
        try { MissOfAnotherSize(vk); }
        finally { vk.Stream.SubmitWhenIdle = true; }
    }

    static void MissOfAnotherSize(VulkanBackend vk)
    {
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

    [VulkanFact]
    public void AnEagerOperationOnAnIdleQueueIsSubmittedAtOnce()
    {
        var vk = VulkanCheck.Vk;
        var x = Upload(vk, 4096, 1f);
        vk.Synchronize();
        var (_, s0) = vk.CommandCounts;
        var y = Exp(vk, x);
        Assert.Equal(s0 + 1, vk.CommandCounts.Submissions); // submitted by the operation itself, nobody waited
        vk.Stream.SubmitWhenIdle = false;
        try
        {
            vk.Synchronize();
            var (_, s1) = vk.CommandCounts;
            var z = Exp(vk, y);
            Assert.Equal(s1, vk.CommandCounts.Submissions);  // left open: the switch is what submitted above
            Assert.Equal(MathF.Exp(MathF.E), Download(vk, z)[4095], 5);
        }
        finally { vk.Stream.SubmitWhenIdle = true; }
    }

    [VulkanFact]
    public void WithRunAheadAMissTakesNewMemoryInsteadOfWaitingForQueuedWork()
    {
        using var vk = new VulkanBackend(null, null); // a pool of its own: no free chunks left by other tests
        vk.Stream.SubmitWhenIdle = false;            // every released chunk stays held by work open on the host
        // Each phase uses its own size class, so neither finds chunks the other left free.
        foreach (var (runAhead, n) in new[] { (0L, 1 << 20), (256L << 20, 3 << 19) })
        {
            vk.Pool.RunAheadBytes = runAhead;
            var x = Upload(vk, n, 2f);
            long w0 = vk.Pool.Waits;
            VulkanBuffer? last = null;
            for (int i = 0; i < 12; i++)
            {
                last?.Dispose();
                last = Exp(vk, x);
            }
            long waits = vk.Pool.Waits - w0;
            // 11 chunks released while their work was queued: without run-ahead every miss after the
            // first waits for its predecessor; under a 256 MiB run-ahead none is waited for.
            if (runAhead == 0) Assert.Equal(11, waits);
            else Assert.Equal(0, waits);
            Assert.Equal(MathF.Exp(2f), Download(vk, last!)[n - 1], 5);
        }
    }

    [VulkanFact]
    public void WhenNewMemoryFailsThePoolStopsRunningAheadWaitsAndGivesIdleBlocksBack()
    {
        using var vk = new VulkanBackend(null, null);
        vk.Stream.SubmitWhenIdle = false;
        vk.Pool.RunAheadBytes = 256L << 20;
        const int n = 6 << 20; // 24 MiB: blocks of their own
        var x = Upload(vk, n, 1f);
        var last = Exp(vk, x);
        vk.Pool.LimitBytes = vk.MemoryStats.PooledBytes; // from here on new device memory fails
        long w0 = vk.Pool.Waits;
        for (int i = 0; i < 6; i++)
        {
            last.Dispose();
            last = Exp(vk, x); // the freed chunk is still held by open work: wait for it rather than fail
        }
        Assert.Equal(6, vk.Pool.Waits - w0);
        Assert.Equal(0, vk.Pool.RunAheadBytes); // short of memory: no more running ahead
        Assert.Equal(MathF.Exp(1f), Download(vk, last)[n - 1], 5);
        // A 20 MiB request: nothing of that size exists, but the idle 24 MiB block goes back to the driver.
        last.Dispose();
        long pooled = vk.MemoryStats.PooledBytes;
        var other = Upload(vk, 5 << 20, 3f); // takes the freed block's place
        Assert.Equal(pooled - (4L << 20), vk.MemoryStats.PooledBytes);
        Assert.Equal(3f, Download(vk, other)[(5 << 20) - 1]);
        // Nothing queued or idle can make room for 32 MiB: a clear failure.
        Assert.Throws<OutOfMemoryException>(() => Upload(vk, 8 << 20, 1f));
    }

    [Theory]
    [InlineData("Cpu", 24L << 30, 0L)]
    [InlineData("DiscreteGpu", 141L << 30, 4L << 30)]
    [InlineData("DiscreteGpu", 8L << 30, 256L << 20)]
    [InlineData("IntegratedGpu", 1L << 30, 64L << 20)]
    public void RunAheadIsNoneOnACpuDriverAndAThirtySecondOfAGpusMemoryWithinBounds(string type, long local, long expected) =>
        Assert.Equal(expected, MemoryPool.RunAheadFor(type, (ulong)local));

    [Fact]
    public void RunAheadEnvironmentVariableIsReadInMebibytesAndABadValueNamesIt()
    {
        const string name = "STAX_VULKAN_RUN_AHEAD_MB";
        string? saved = Environment.GetEnvironmentVariable(name);
        try
        {
            Environment.SetEnvironmentVariable(name, null);
            Assert.Null(MemoryPool.RunAheadFromEnvironment());
            Environment.SetEnvironmentVariable(name, " 12 ");
            Assert.Equal(12L << 20, MemoryPool.RunAheadFromEnvironment());
            Environment.SetEnvironmentVariable(name, "0");
            Assert.Equal(0L, MemoryPool.RunAheadFromEnvironment());
            foreach (var bad in new[] { "lots", "-1", "1.5" })
            {
                Environment.SetEnvironmentVariable(name, bad);
                var e = Assert.Throws<ArgumentException>(() => MemoryPool.RunAheadFromEnvironment());
                Assert.Contains($"{name}={bad}", e.Message);
            }
        }
        finally { Environment.SetEnvironmentVariable(name, saved); }
    }

    static VulkanBuffer Upload(VulkanBackend vk, int n, float value)
    {
        var host = Enumerable.Repeat(value, n).ToArray();
        return (VulkanBuffer)vk.Upload(System.Runtime.InteropServices.MemoryMarshal.AsBytes(host.AsSpan()), DType.Float32);
    }

    static VulkanBuffer Exp(VulkanBackend vk, VulkanBuffer x)
    {
        var t = new AbstractValue(new Shape((int)x.Length), DType.Float32);
        var args = new Stax.Backends.DeviceBuffer[] { x };
        return (VulkanBuffer)vk.Execute(Prims.Exp, Params.None, args, new[] { t }, new[] { t })[0];
    }

    static float[] Download(VulkanBackend vk, VulkanBuffer b)
    {
        var r = new float[b.Length];
        vk.Download(b, System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.AsSpan()));
        return r;
    }
}
