using Stax.Tests.Conformance;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>Vulkan-only conv_general_dilated checks (the shared suite is Conformance.ConvTests).</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // sets process-wide switches or counts backend work
public class VulkanConvTests
{
    static ConvTests.Case[] Cases => ConvTests.Cases;

    /// <summary>Both forms of the implicit GEMM (input as B with features as rows, input as A with
    /// positions as rows), each with output positions split over several dispatches.</summary>
    [VulkanFact]
    public void BothImplicitGemmFormsMatchReference()
    {
        int savedMode = Stax.Vulkan.VulkanBackend.ConvOperandOverride;
        long savedChunk = Stax.Vulkan.VulkanBackend.ConvPositionsPerDispatch;
        try
        {
            foreach (int mode in new[] { 1, 2 })
                foreach (long chunk in new[] { 65535L * 64, 7L })
                {
                    Stax.Vulkan.VulkanBackend.ConvOperandOverride = mode;
                    Stax.Vulkan.VulkanBackend.ConvPositionsPerDispatch = chunk;
                    int seed = 300;
                    foreach (var c in Cases)
                    {
                        var x = TestData.Tensor(seed++, c.Lhs);
                        var w = TestData.Tensor(seed++, c.Rhs);
                        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, $"{c.Name}, operand mode {mode}, {chunk} positions per dispatch");
                    }
                    var ci = Cases[7];
                    VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, ci.Params(), new[] { TestData.Tensor(50, ci.Lhs, DType.Int32), TestData.Tensor(51, ci.Rhs, DType.Int32) },
                        context: $"int32 batch groups, operand mode {mode}, {chunk} positions per dispatch");
                }
        }
        finally
        {
            Stax.Vulkan.VulkanBackend.ConvOperandOverride = savedMode;
            Stax.Vulkan.VulkanBackend.ConvPositionsPerDispatch = savedChunk;
        }
    }
}

/// <summary>Convolutions larger than the im2col buffers the backend used to build: they match the
/// CPU backend and allocate nothing of im2col size (runs alone so other tests' allocations do not
/// show up in the measurement).</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)]
public class VulkanConvMemoryTests
{
    [VulkanFact]
    public void LargeConvMatchesCpuWithoutAnIm2colBuffer()
    {
        var vk = VulkanCheck.Vk;
        var cpu = Stax.Backends.Cpu.CpuBackend.Instance;
        // 16 images of 64x64x32, 3x3 kernel to 32 features, SAME padding: the im2col matrix would be
        // 16*64*64 x 288 = 18.9M elements (75 MB), more than the old 16M-element chunk.
        var cases = new[]
        {
            (Name: "int32 NHWC/HWIO", Lhs: new[] { 16, 64, 64, 32 }, Rhs: new[] { 3, 3, 32, 32 }, Specs: ("NHWC", "HWIO", "NHWC"), DType: DType.Int32),
            (Name: "float32 NCHW/OIHW", Lhs: new[] { 16, 32, 64, 64 }, Rhs: new[] { 32, 32, 3, 3 }, Specs: ("NCHW", "OIHW", "NCHW"), DType: DType.Float32),
        };
        int seed = 900;
        foreach (var c in cases)
        {
            var p = new ConvParams(new[] { 1, 1 }, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 1, 1 },
                ConvDimensionNumbers.FromStrings(c.Specs.Item1, c.Specs.Item2, c.Specs.Item3), 1, 1, null);
            var x = TestData.Tensor(seed++, c.Lhs, c.DType);
            var w = TestData.Tensor(seed++, c.Rhs, c.DType);
            var expected = Prims.ConvGeneralDilated.Bind1(p, x.DevicePut(cpu), w.DevicePut(cpu));
            var xv = x.DevicePut(vk);
            var wv = w.DevicePut(vk);
            _ = xv.ToBytes();
            vk.ResetLargestAllocation();
            var actual = Prims.ConvGeneralDilated.Bind1(p, xv, wv);
            var got = actual.ToBytes();
            long im2colBytes = 16L * 64 * 64 * 288 * 4, outBytes = got.Length;
            Assert.True(im2colBytes > (16L << 20) * 4, "the case must exceed the old im2col chunk");
            Assert.True(vk.LargestAllocationBytes <= outBytes, $"{c.Name}: largest allocation {vk.LargestAllocationBytes} bytes, output {outBytes} bytes (im2col would be {im2colBytes})");
            Assert.Equal(expected.Aval.ToString(), actual.Aval.ToString());
            if (c.DType == DType.Int32)
                Assert.Equal(expected.ToBytes(), got);   // exact (wrapping) arithmetic: bit-identical
            else
            {
                var e = expected.ToArray<float>();
                var a = actual.ToArray<float>();
                for (int i = 0; i < e.Length; i++)
                    Assert.True(Math.Abs(a[i] - e[i]) <= 1e-3 + 1e-4 * Math.Abs(e[i]), $"{c.Name}: element {i}: CPU {e[i]}, Vulkan {a[i]}");
            }
        }
    }
}
