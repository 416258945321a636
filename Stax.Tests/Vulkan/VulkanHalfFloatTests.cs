using System.Runtime.InteropServices;
using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Vulkan;

/// <summary>float16/bfloat16 on Vulkan: exact storage, conversions bit-equal to the CPU backend
/// (rounding ties, subnormals, overflow, NaN payloads, -0), and programs (jit + grad, random
/// numbers) in 16-bit floats against the CPU.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanHalfFloatTests
{
    static Tensor Bits16(DType t, ushort[] bits) => Tensor.FromBytes(MemoryMarshal.AsBytes(bits.AsSpan()), new Shape(bits.Length), t);

    static ushort[] AllPatterns() => Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    [VulkanFact]
    public void EveryBitPatternRoundTripsExactly()
    {
        foreach (var t in VulkanCheck.Half16)
            foreach (int n in new[] { 0, 1, 3, 65536 })
            {
                var x = Bits16(t, AllPatterns().Take(n).Reverse().ToArray());
                var v = VulkanCheck.Put(x)[0];
                Assert.Equal(t, v.DType);
                Assert.Equal(x.ToBytes(), v.ToBytes());
            }
    }

    /// <summary>float32 values around every float16 and bfloat16 rounding boundary: the exact
    /// representable values, the midpoints (ties) and their float32 neighbours, subnormals and the
    /// overflow threshold, plus NaNs with payloads and both zeros.</summary>
    static Tensor RoundingCases()
    {
        var v = new List<uint>();
        foreach (int h in Enumerable.Range(0, 65536))
        {
            uint f = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)h));
            if ((f & 0x7F800000) == 0x7F800000) continue;
            uint next = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)(h + 1 & 0xFFFF)));
            if ((next & 0x80000000) != (f & 0x80000000) || (next & 0x7F800000) == 0x7F800000) next = f + 0x2000;   // top of range
            uint mid = f + (next - f) / 2;                      // same sign: the bits are ordered
            v.AddRange(new[] { f, mid - 1, mid, mid + 1 });
        }
        foreach (uint b in new uint[] { 0x0000, 0x3F80, 0x7F7F, 0x0080, 0x0001, 0x4049 })
            foreach (uint sign in new uint[] { 0, 0x80000000 })
            {
                uint f = b << 16 | sign;
                v.AddRange(new[] { f, f | 0x7FFF, f | 0x8000, f | 0x8001, f + 0x18000, f | 0xFFFF });
            }
        v.AddRange(new uint[] { 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FA12345, 0xFFFFFFFF, 0x7FFFE000, 0x00000001, 0x80000001, 0x007FFFFF, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x33000000, 0x33000001, 0xB3000001 });
        var arr = v.ToArray();
        return Tensor.FromBytes(MemoryMarshal.AsBytes(arr.AsSpan()), new Shape(arr.Length), DType.Float32);
    }

    [VulkanFact]
    public void ConversionsAreBitEqualToTheCpu()
    {
        var f32 = RoundingCases();
        foreach (var t in VulkanCheck.Half16)
        {
            VulkanCheck.AgainstCpu(Prims.ConvertElementType, new ConvertParams(t), new[] { f32 }, context: $"float32->{t.Name()} rounding");
            var all = Bits16(t, AllPatterns());
            foreach (var to in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
                VulkanCheck.AgainstCpu(Prims.ConvertElementType, new ConvertParams(to), new[] { all }, context: $"{t.Name()}->{to.Name()} all patterns");
            var ints = Tensor.FromArray(new[] { 0, 1, -1, 2047, 2049, 4097, 65504, 65519, 65520, 65536, -65520, 16777217, int.MaxValue, int.MinValue, 257, 32769 });
            VulkanCheck.AgainstCpu(Prims.ConvertElementType, new ConvertParams(t), new[] { ints }, context: $"int32->{t.Name()}");
            var uints = Tensor.FromArray(new[] { 0u, 1u, 65519u, 65520u, uint.MaxValue, 0x80000000u, 16777217u });
            VulkanCheck.AgainstCpu(Prims.ConvertElementType, new ConvertParams(t), new[] { uints }, context: $"uint32->{t.Name()}");
        }
    }

    [VulkanFact]
    public void NanPayloadsAndNegativeZeroSurviveDataMovement()
    {
        foreach (var t in VulkanCheck.Half16)
        {
            ushort[] special = t == DType.Float16
                ? new ushort[] { 0x7C01, 0xFE12, 0x7E00, 0x8000, 0x0000, 0x0001, 0x83FF, 0x7C00, 0xFC00, 0x7BFF }
                : new ushort[] { 0x7F81, 0xFFC5, 0x7FC0, 0x8000, 0x0000, 0x0001, 0x807F, 0x7F80, 0xFF80, 0x7F7F };
            var x = Bits16(t, special);
            var v = VulkanCheck.Put(x)[0];
            Assert.Equal(x.ToBytes(), Lax.Rev(v, 0).ToBytes().Chunk(2).Reverse().SelectMany(b => b).ToArray());
            Assert.Equal(x.ToBytes(), Lax.Concatenate(new[] { Lax.Slice(v, new[] { 0 }, new[] { 3 }), Lax.Slice(v, new[] { 3 }, new[] { 10 }) }, 0).ToBytes());
            VulkanCheck.AgainstCpu(Prims.Transpose, new TransposeParams(new[] { 1, 0 }), new[] { Lax.Reshape(x, new Shape(2, 5)) }, context: $"{t.Name()} transpose");
            VulkanCheck.AgainstCpu(Prims.BroadcastInDim, new BroadcastInDimParams(new Shape(3, 10), new[] { 1 }), new[] { x }, context: $"{t.Name()} broadcast");
            VulkanCheck.AgainstCpu(Prims.Pad, new PadParams(new[] { 2 }, new[] { 1 }, new[] { 1 }), new[] { x, Lax.Reshape(Bits16(t, new ushort[] { special[1] }), new Shape()) }, context: $"{t.Name()} pad");
            var dn = new GatherDimensionNumbers(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
            var idx = Tensor.FromArray(new[] { 9, 0, 1, 3, 3, 12, -1 }, 7, 1);
            foreach (var g in new[] { new GatherParams(dn, new[] { 1 }, Mode: GatherScatterMode.Clip), new GatherParams(dn, new[] { 1 }), new GatherParams(dn, new[] { 1 }, FillValue: 1.0 + 1.0 / 2048 + 1e-12) })
                VulkanCheck.AgainstCpu(Prims.Gather, g, new[] { x, idx }, context: $"{t.Name()} gather {g.Mode} {g.FillValue}");
            VulkanCheck.AgainstCpu(Prims.Sort, new SortParams(0), new[] { x }, context: $"{t.Name()} sort");
            VulkanCheck.AgainstCpu(Prims.Select, Params.None, new[] { Tensor.FromArray(Enumerable.Range(0, 10).Select(i => i % 3 == 0).ToArray()), x, Lax.Rev(x, 0) }, context: $"{t.Name()} select");
        }
    }

    static Tensor Loss(Tensor w, Tensor x)
    {
        var h = Np.Tanh(Lax.DotGeneral(x, w, new[] { 1 }, new[] { 0 }));
        return Lax.ReduceSum(h * h, 0, 1);
    }

    [VulkanFact]
    public void JitAndGradInSixteenBitFloatsMatchTheCpu()
    {
        var vk = VulkanCheck.Vk;
        foreach (var t in VulkanCheck.Half16)
        {
            var w = Lax.ConvertElementType(TestData.Tensor(1, new[] { 13, 5 }, DType.Float32, -0.5, 0.5), t);
            var x = Lax.ConvertElementType(TestData.Tensor(2, new[] { 9, 13 }), t);
            var g = Jit(Grad((Func<Tensor, Tensor, Tensor>)Loss));
            var cpu = g(w, x);
            var gpu = g(w.DevicePut(vk), x.DevicePut(vk));
            Assert.Same(vk, gpu.Backend);
            Assert.Equal(t, gpu.DType);
            // Same float32 programs rounded at the same points: a few 16-bit ulps at most.
            double tol = t == DType.Float16 ? 4e-3 : 3e-2;
            Check.Close(cpu.ToDoubleArray(), gpu.ToDoubleArray(), tol, tol);
            var eager = Grad((Func<Tensor, Tensor, Tensor>)Loss)(w.DevicePut(vk), x.DevicePut(vk));
            Assert.Equal(eager.ToBytes(), gpu.ToBytes());
        }
    }

    [VulkanFact]
    public void RandomNumbersAreBitIdenticalToTheCpu()
    {
        var vk = VulkanCheck.Vk;
        var cpuKey = Rng.Key(11);
        var vkKey = new Key(cpuKey.Data.DevicePut(vk));
        foreach (var t in VulkanCheck.Half16)
        {
            Assert.Equal(Rng.Uniform(cpuKey, new Shape(1001), t).ToBytes(), Rng.Uniform(vkKey, new Shape(1001), t).ToBytes());
            VulkanCheck.SameBits(Rng.Normal(cpuKey, new Shape(1001), t), Rng.Normal(vkKey, new Shape(1001), t), 1, $"normal {t.Name()}");
        }
    }
}

/// <summary>The float16 scratch-buffer check reads the pool's live bytes, so it runs alone.</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanHalfFloatCounterTests
{
    [VulkanFact]
    public void ScratchBuffersGoBackToThePool()
    {
        var vk = VulkanCheck.Vk;
        var x = VulkanCheck.Put(Lax.ConvertElementType(TestData.Tensor(5, new[] { 64, 64 }), DType.Float16))[0];
        Tensor Step(Tensor a) => Lax.ReduceSum(Np.Exp(a) * a, 1);
        Step(x).ToBytes();
        vk.Synchronize();
        long before = vk.MemoryStats.LiveBytes;
        for (int i = 0; i < 50; i++) Step(x).ToBytes();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        vk.Synchronize();
        Assert.True(vk.MemoryStats.LiveBytes <= before, $"live bytes grew from {before} to {vk.MemoryStats.LiveBytes}");
    }
}
