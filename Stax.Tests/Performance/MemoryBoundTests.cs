using Stax.Backends.Cpu;
using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Vulkan;
using static Stax.Nn.Layers;

namespace Stax.Tests.Performance;

/// <summary>
/// Memory stays bounded without forcing full collections (docs/reliability.md). These read
/// process-wide counters, so they run alone.
/// </summary>
[Collection("cpu-pool")]
public class CpuMemoryBoundTests
{
    static readonly Module Mlp = Serial(Dense(512), Relu, Dense(512), Relu, Dense(10));

    [Fact]
    public void PoolKeepsAtMostItsBoundAndEvictsTheLeastRecentlyUsedSizes()
    {
        var pool = new CpuMemoryPool { MaxPooledBytes = 10 << 20 };
        var hot = pool.Rent(1 << 20);
        pool.Return(hot);
        for (int size = 1; size <= 40; size++)
        {
            pool.Return(pool.Rent((1 << 20) + size * 4096)); // a shape never seen again
            pool.Return(pool.Rent(1 << 20));                 // the loop's own size, used every time
            Assert.True(pool.PooledBytes <= 10 << 20, $"{pool.PooledBytes} bytes pooled after {size} sizes");
        }
        var (allocations, reuses) = pool.Counts;
        Assert.Equal(81, allocations);
        Assert.Equal(40, reuses); // the hot size was never evicted
        pool.Trim();
        Assert.Equal(0, pool.PooledBytes);
    }

    [Fact]
    public void ALoopAllocatesNothingInThePoolAfterManySizesWereSeen()
    {
        // After a test suite's worth of sizes (more than the pool keeps empty free lists for), a loop that
        // rents and returns the same small sizes must still find its free lists: one dropped when it empties
        // and made again on the next return costs four objects per size per step.
        var pool = new CpuMemoryPool();
        for (int size = 1; size <= 3000; size++) pool.Return(pool.Rent(size * 8));
        for (int size = 1; size <= 3000; size++) pool.Rent(size * 8); // every list empty
        void Step()
        {
            var a = pool.Rent(96);
            var b = pool.Rent(200);
            pool.Return(a);
            pool.Return(b);
        }
        for (int i = 0; i < 10; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Step();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(bytes == 0, $"{bytes} B allocated by 100 steps that rent and return the same two sizes");
    }

    [Fact]
    public void VaryingShapesDoNotGrowThePoolPastItsBound()
    {
        var (_, parameters) = Mlp.Initialize(Rng.Key(0), new AbstractValue(new Shape(1, 784), DType.Float32));
        var host = new float[300 * 784];
        for (int b = 1; b <= 300; b++)
            _ = Np.Sum(Mlp.Apply(parameters, Tensor.From<float>(host.AsSpan(0, b * 784), new Shape(b, 784)), training: false)).Item<float>();
        var pool = CpuBackend.Instance.Pool;
        // 300 batch sizes leave about 900 MB of arrays of sizes never asked for again; the default bound keeps 256 MiB.
        Assert.Equal(256L << 20, pool.MaxPooledBytes);
        Assert.True(pool.PooledBytes <= 256L << 20, $"{pool.PooledBytes} bytes pooled");
    }

    [Fact]
    public void EagerTrainingStepsDoNotForceFullCollections()
    {
        var x = Tensor.FromArray(new float[128 * 784], 128, 784);
        var y = Tensor.FromArray(new int[128]);
        var (_, parameters) = Mlp.Initialize(Rng.Key(0), new AbstractValue(x.Shape, DType.Float32));
        var adam = Optimizers.Adam(1e-3);
        var state = adam.Init(parameters);
        void Step(int s)
        {
            var (loss, grads) = Transforms.ValueAndGrad((object q) => Losses.SoftmaxCrossEntropy(Mlp.Apply(q, x, training: true), y))(adam.GetParams(state)!);
            state = adam.Update(Tensor.Scalar(s, DType.Int32), grads, state);
            _ = loss.Item<float>();
        }
        for (int s = 0; s < 20; s++) Step(s);
        int before = GC.CollectionCount(2);
        for (int s = 20; s < 220; s++) Step(s);
        // Per-buffer memory pressure once caused about one full collection per step here.
        int full = GC.CollectionCount(2) - before;
        Assert.True(full <= 20, $"{full} full collections in 200 eager steps");
    }
}

/// <summary>The Vulkan pool recycles without a full collection per pool miss.</summary>
[Collection(VulkanCountersCollection.Name)]
public class VulkanMemoryBoundTests
{
    [VulkanFact]
    public void EagerLoopWithoutDisposeDoesNotCollectOnEveryMiss()
    {
        var vk = VulkanTestEnv.Backend;
        var x = Tensor.FromArray(new float[1 << 16]).DevicePut(vk);
        var half = Tensor.Full(new Shape(1 << 16), 0.5, backend: vk);
        for (int i = 0; i < 3; i++) x = Np.Exp(x) * half;
        int before = GC.CollectionCount(2);
        long high = vk.MemoryStats.HighWaterBytes;
        for (int i = 0; i < 3000; i++) x = Np.Exp(x) * half;   // 1.5 GB allocated in total, never disposed
        _ = x.ToArray<float>();
        int full = GC.CollectionCount(2) - before;
        Assert.True(full <= 30, $"{full} full collections in 6,000 eager operations");
        Assert.True(vk.MemoryStats.HighWaterBytes <= high + (256L << 20), $"high water grew from {high} to {vk.MemoryStats.HighWaterBytes}");
    }
}
