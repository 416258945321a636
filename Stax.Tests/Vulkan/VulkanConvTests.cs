using Stax.Tests.Conformance;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>conv_general_dilated on Vulkan against the reference: the CPU suite's configurations and tolerances.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanConvTests
{
    static readonly ConvTests.Case[] Cases =
    {
        new("basic", new[] { 2, 3, 7, 6 }, new[] { 4, 3, 3, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("strided+padded", new[] { 2, 3, 9, 8 }, new[] { 5, 3, 3, 3 }, new[] { 2, 3 }, new[] { (1, 2), (0, 1) }),
        new("negative padding", new[] { 1, 2, 8, 7 }, new[] { 3, 2, 2, 2 }, new[] { 1, 2 }, new[] { (-1, 0), (2, -2) }),
        new("lhs dilation (transposed conv)", new[] { 2, 3, 5, 4 }, new[] { 2, 3, 3, 3 }, new[] { 1, 1 }, new[] { (2, 2), (1, 2) }, new[] { 2, 3 }),
        new("rhs dilation (atrous)", new[] { 1, 2, 10, 9 }, new[] { 3, 2, 3, 2 }, new[] { 1, 2 }, new[] { (1, 1), (0, 0) }, null, new[] { 2, 3 }),
        new("feature groups 2", new[] { 2, 4, 6, 5 }, new[] { 6, 2, 3, 3 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, G: 2),
        new("depthwise", new[] { 2, 3, 6, 6 }, new[] { 6, 1, 3, 3 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, G: 3),
        new("batch groups 2", new[] { 4, 3, 6, 5 }, new[] { 4, 3, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 1) }, B: 2),
        new("NHWC/HWIO", new[] { 2, 7, 6, 3 }, new[] { 3, 2, 3, 5 }, new[] { 2, 1 }, new[] { (1, 1), (0, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("NHWC groups", new[] { 2, 5, 5, 4 }, new[] { 3, 3, 2, 4 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC"), G: 2),
        new("NCHW/OIHW->NHWC", new[] { 2, 3, 6, 5 }, new[] { 4, 3, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NCHW", "OIHW", "NHWC")),
        new("odd specs", new[] { 5, 2, 3, 6 }, new[] { 2, 3, 4, 3 }, new[] { 1, 1 }, new[] { (1, 0), (0, 0) }, new[] { 1, 2 }, new[] { 2, 1 }, Specs: ("HNCW", "HIOW", "WCNH")),
        new("1-D", new[] { 3, 2, 11 }, new[] { 4, 2, 3 }, new[] { 2 }, new[] { (1, 1) }),
        new("1-D NWC", new[] { 3, 11, 2 }, new[] { 3, 2, 4 }, new[] { 1 }, new[] { (2, 0) }, null, new[] { 2 }, ("NWC", "WIO", "NWC")),
        new("3-D", new[] { 1, 2, 5, 4, 6 }, new[] { 3, 2, 2, 3, 2 }, new[] { 1, 2, 1 }, new[] { (1, 0), (1, 1), (0, 1) }),
        new("1x1", new[] { 2, 5, 4, 3 }, new[] { 7, 5, 1, 1 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("kernel larger than input", new[] { 1, 2, 3, 3 }, new[] { 2, 2, 4, 4 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("zero batch", new[] { 0, 2, 4, 4 }, new[] { 3, 2, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("zero features", new[] { 2, 0, 4, 4 }, new[] { 3, 0, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("size 1", new[] { 1, 1, 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
    };

    [VulkanFact]
    public void ConfigurationsMatchReference()
    {
        foreach (var dt in VulkanCheck.Floats)
        {
            int seed = 100;
            foreach (var c in Cases)
            {
                var x = VulkanCheck.As(TestData.Tensor(seed++, c.Lhs), dt);
                var w = VulkanCheck.As(TestData.Tensor(seed++, c.Rhs), dt);
                VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, VulkanCheck.Rtol(dt, 1e-5), 1e-4, $"{c.Name} {dt.Name()}");
            }
        }
    }

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

    [VulkanFact]
    public void LargeConvMatchesReferenceAndIsDeterministic()
    {
        // 4 x 16 x 33 x 33 = 69696 outputs, NHWC.
        var c = new ConvTests.Case("large", new[] { 4, 35, 35, 5 }, new[] { 3, 3, 5, 16 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC"));
        var x = TestData.Tensor(7, c.Lhs);
        var w = TestData.Tensor(8, c.Rhs);
        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, "large");
        var v = VulkanCheck.Put(x, w);
        Assert.Equal(Prims.ConvGeneralDilated.Bind1(c.Params(), v[0], v[1]).ToBytes(), Prims.ConvGeneralDilated.Bind1(c.Params(), v[0], v[1]).ToBytes());
    }

    [VulkanFact]
    public void Int32AndNaN()
    {
        var c = Cases[1];
        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { TestData.Tensor(50, c.Lhs, DType.Int32), TestData.Tensor(51, c.Rhs, DType.Int32) }, context: "int32");
        var x = TestData.Tensor(60, new[] { 1, 1, 4, 4 }, specials: true);
        var w = TestData.Tensor(61, new[] { 1, 1, 2, 2 });
        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, Cases[0].Params(), new[] { x, w }, 1e-5, 1e-5);
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
