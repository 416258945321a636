using Stax.Tests.Infrastructure;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>Reductions have no per-output element cap: long rows run in passes (chunks to partials,
/// partials reduced again). A backend of its own keeps the big buffers out of the shared pool and
/// lets a test lower the chunk limit without touching other tests.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanMultiPassReductionTests
{
    static readonly Lazy<VulkanBackend> Own = new(() => new VulkanBackend(Environment.GetEnvironmentVariable("STAX_VULKAN_DEVICE")));

    /// <summary>64M float32 elements where one storage buffer can hold them (a GPU), else the largest
    /// array one binding allows (32M on lavapipe's 128 MiB): both beyond the former cap of
    /// 16,776,960 elements per output.</summary>
    [VulkanFact]
    public void ReducesTheLargestArrayOneBufferHolds()
    {
        var vk = Own.Value;
        int n = (int)Math.Min(64L << 20, (long)(vk.Capabilities.MaxStorageBufferRange / sizeof(float)));
        Assert.True(n > 256L * 65535, $"the device binds only {n} floats");
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = 1 + (i % 1000) / 1024f;
        int iMax = n - 5, iMin = n / 4 * 3 + 1;
        data[iMax] = 1e6f;
        data[iMin] = -1e6f;
        double sum = 0, even = 0, odd = 0;
        for (int i = 0; i < n; i++) { sum += data[i]; if (i % 2 == 0) even += data[i]; else odd += data[i]; }
        var x = Tensor.FromArray(data).DevicePut(vk);
        data = null!;
        Assert.Equal(sum, Np.Sum(x).ToArray<float>()[0], sum * 1e-6);
        Assert.Equal(sum, Lax.ReduceSum(x, 0).ToArray<float>()[0], sum * 1e-6);
        Assert.Equal(1e6f, Lax.ReduceMax(x, 0).ToArray<float>()[0]);
        Assert.Equal(-1e6f, Lax.ReduceMin(x, 0).ToArray<float>()[0]);
        Assert.Equal(iMax, Lax.Argmax(x, 0).ToArray<int>()[0]);
        Assert.Equal(iMin, Lax.Argmin(x, 0).ToArray<int>()[0]);
        // Two interleaved outputs (inner = 2): rows of n/2 elements each.
        var pair = Lax.ReduceSum(Lax.Reshape(x, new Shape(n / 2, 2)), 0).ToArray<float>();
        Assert.Equal(even, pair[0], even * 1e-6);
        Assert.Equal(odd, pair[1], odd * 1e-6);
    }

    /// <summary>With the per-pass limit lowered to 100 elements, rows of 70,001 take three passes:
    /// sums, products, max/min and arg reductions (ties and NaNs: the first index wins) match the CPU.</summary>
    [VulkanFact]
    public void ManyPassesWithALoweredLimit()
    {
        var vk = Own.Value;
        long saved = vk.GroupFoldLimit;
        vk.GroupFoldLimit = 100;
        try
        {
            var shape = new[] { 3, 70001, 2 };
            int size = shape.Aggregate(1, (a, b) => a * b);
            var v = Enumerable.Range(0, size).Select(i => (float)((i * 7919L) % 1000)).ToArray();
            var ties = Tensor.FromArray(v, shape);
            var withNan = (float[])v.Clone();
            withNan[2 * 70001 * 2 + 2 * 65001 + 1] = float.NaN;    // row 2, column 1: a late NaN ...
            withNan[2 * 70001 * 2 + 2 * 401 + 1] = float.NaN;      // ... and an earlier one, which argmax/argmin pick
            var nan = Tensor.FromArray(withNan, shape);
            var near1 = TestData.Tensor(3, shape, DType.Float32, 0.9999, 1.0001);
            var ints = TestData.Tensor(4, shape, DType.Int32);
            var cpu = Stax.Backends.Cpu.CpuBackend.Instance;
            void Same(Primitive p, Params ps, Tensor t, double rtol, string ctx)
            {
                var e = p.Bind1(ps, t.DevicePut(cpu));
                var a = p.Bind1(ps, t.DevicePut(vk));
                Assert.Same(vk, a.Backend);
                if (rtol == 0) VulkanCheck.SameBits(e, a, 0, ctx);
                else Check.Close(e.ToDoubleArray(), a.ToDoubleArray(), rtol, 0, ctx);
            }
            foreach (var axes in new[] { new[] { 1 }, new[] { 0, 1 }, new[] { 0, 1, 2 } })
            {
                var rp = new ReduceParams(axes);
                Same(Prims.ReduceSum, rp, near1, 1e-5, $"sum {string.Join(",", axes)}");
                Same(Prims.ReduceProd, rp, near1, 1e-4, $"prod {string.Join(",", axes)}");
                Same(Prims.ReduceSum, rp, ints, 0, $"int32 sum {string.Join(",", axes)}");
                foreach (var (x, name) in new[] { (ties, "ties"), (nan, "NaN") })
                {
                    Same(Prims.ReduceMax, rp, x, 0, $"max {name} {string.Join(",", axes)}");
                    Same(Prims.ReduceMin, rp, x, 0, $"min {name} {string.Join(",", axes)}");
                }
            }
            foreach (var (x, name) in new[] { (ties, "ties"), (nan, "NaN") })
                foreach (int axis in new[] { 0, 1, 2 })
                {
                    Same(Prims.Argmax, new ArgReduceParams(new[] { axis }, DType.Int32), x, 0, $"argmax {name} axis {axis}");
                    Same(Prims.Argmin, new ArgReduceParams(new[] { axis }, DType.Int32), x, 0, $"argmin {name} axis {axis}");
                }
            Same(Prims.ReduceSum, new ReduceParams(new[] { 1 }), Lax.ConvertElementType(near1, DType.BFloat16), 1e-2, "bfloat16 sum");
            var nanArg = Lax.Argmax(nan.DevicePut(vk), 1).ToArray<int>();
            Assert.Equal(401, nanArg[2 * 2 + 1]);
        }
        finally { vk.GroupFoldLimit = saved; }
    }
}
