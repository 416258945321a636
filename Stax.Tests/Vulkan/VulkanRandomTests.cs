namespace Stax.Tests.Vulkan;

/// <summary>
/// The composed fused multiply-add (uniform with a range) is plain float32 arithmetic, so Vulkan
/// must give the CPU's bits; and results that are subnormal stay subnormal on both backends (Stax
/// keeps IEEE gradual underflow everywhere).
/// </summary>
[Trait("Backend", "Vulkan")]
public class VulkanRandomTests
{
    [VulkanFact]
    public void FusedMultiplyAddCompositionIsExactOnVulkan()
    {
        var rnd = new System.Random(77);
        const int n = 50_000;
        var a = new float[n]; var b = new float[n]; var c = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-20, 20)));
            b[i] = (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-20, 20)));
            c[i] = i % 2 == 0 ? -(a[i] * b[i]) : (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-40, 40)));
        }
        var t = VulkanCheck.Put(Tensor.FromArray(a), Tensor.FromArray(b), Tensor.FromArray(c));
        var got = Rng.FusedMulAddF32(t[0], t[1], t[2]);
        Assert.Same(VulkanCheck.Vk, got.Backend);
        var g = got.ToArray<float>();
        for (int i = 0; i < n; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(MathF.FusedMultiplyAdd(a[i], b[i], c[i])), BitConverter.SingleToUInt32Bits(g[i]));
    }

    [VulkanFact]
    public void UniformWithRangeIsBitIdenticalToTheCpu()
    {
        var cpuKey = Rng.Key(21);
        var vkKey = new Key(cpuKey.Data.DevicePut(VulkanCheck.Vk));
        foreach (var (lo, hi) in new[] { (-0.5, 2.0), (0.1, 0.7), (-1.7320508, 1.7320508) })
            Assert.Equal(Rng.Uniform(cpuKey, new Shape(4099), DType.Float32, lo, hi).ToBytes(),
                         Rng.Uniform(vkKey, new Shape(4099), DType.Float32, lo, hi).ToBytes());
        // Bounds on the device (not known when the computation is built): the composed path.
        var lo2 = Tensor.Scalar(-0.3, DType.Float32).DevicePut(VulkanCheck.Vk);
        var hi2 = Tensor.Scalar(2.9, DType.Float32).DevicePut(VulkanCheck.Vk);
        Assert.Equal(Rng.Uniform(cpuKey, new Shape(4099), DType.Float32, Tensor.Scalar(-0.3, DType.Float32), Tensor.Scalar(2.9, DType.Float32)).ToBytes(),
                     Rng.Uniform(vkKey, new Shape(4099), DType.Float32, lo2, hi2).ToBytes());
    }

    [VulkanFact]
    public void SubnormalResultsAreKeptOnBothBackends()
    {
        // exp(-100) = 3.72e-44, sigmoid(-95) = 5.5e-42 and 1e-20 * 1e-20 = 1e-40 are float32
        // subnormals: IEEE keeps them (XLA:CPU, which runs with flush-to-zero, returns 0).
        var x = Tensor.FromArray(new[] { -100f, -95f, -90f });
        var tiny = Tensor.FromArray(new[] { 1e-20f, 3e-21f, 1e-22f });
        var cpu = new[] { Lax.Exp(x), Lax.Logistic(x), Lax.Mul(tiny, tiny) };
        var v = VulkanCheck.Put(x, tiny);
        var vk = new[] { Lax.Exp(v[0]), Lax.Logistic(v[0]), Lax.Mul(v[1], v[1]) };
        for (int k = 0; k < cpu.Length; k++)
        {
            var c = cpu[k].ToArray<float>();
            var g = vk[k].ToArray<float>();
            for (int i = 0; i < c.Length; i++)
            {
                Assert.True(c[i] > 0 && !float.IsNormal(c[i]), $"op {k} element {i}: the CPU gives {c[i]:R}, expected a subnormal");
                Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(c[i]) - BitConverter.SingleToInt32Bits(g[i])) <= 2, $"op {k} element {i}: CPU {c[i]:R}, Vulkan {g[i]:R}");
            }
        }
        // The exact product is 1e-40 rounded once: the float64 reference.
        Assert.Equal((float)(1e-20f * (double)1e-20f), cpu[2].ToArray<float>()[0]);
    }

    [VulkanFact]
    public void ErfInvAndNormalFollowTheCpuOnVulkan()
    {
        // Both backends run XLA's erf_inv sequence (log1p(-x*x), fused Horner steps); they differ
        // only through their log1p (a few ulp apart in the normal samples).
        var tail = new List<float>();
        for (uint b = 0x3F800000 - 65536; b < 0x3F800000; b += 3) tail.Add(BitConverter.UInt32BitsToSingle(b));
        for (uint b = 0x33800000; b < 0x3F800000; b += 4099) tail.Add(BitConverter.UInt32BitsToSingle(b));
        var x = Tensor.FromArray(tail.ToArray());
        VulkanCheck.SameBits(Lax.ErfInv(x), Lax.ErfInv(VulkanCheck.Put(x)[0]), 2, "erf_inv");
        var cpuKey = Rng.Key(5);
        var vkKey = new Key(cpuKey.Data.DevicePut(VulkanCheck.Vk));
        VulkanCheck.SameBits(Rng.Normal(cpuKey, new Shape(20000)), Rng.Normal(vkKey, new Shape(20000)), 4, "normal");
    }
}
