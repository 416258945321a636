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

    [VulkanFact]
    public void LargeConvMatchesReferenceAndIsDeterministic()
    {
        // 4 x 16 x 33 x 33 = 69696 outputs, NHWC.
        var c = new ConvTests.Case("large", new[] { 4, 35, 35, 5 }, new[] { 3, 3, 5, 16 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC"));
        var x = TestData.Tensor(7, c.Lhs);
        var w = TestData.Tensor(8, c.Rhs);
        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, "large");
        // Small im2col chunks: images go through the GEMM in several chunks.
        long saved = Stax.Vulkan.VulkanBackend.Im2colBudget;
        try
        {
            Stax.Vulkan.VulkanBackend.Im2colBudget = 700;
            VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, "large, chunked");
            VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, Cases[7].Params(), new[] { TestData.Tensor(9, Cases[7].Lhs), TestData.Tensor(10, Cases[7].Rhs) }, 1e-5, 1e-4, "batch groups, chunked");
        }
        finally { Stax.Vulkan.VulkanBackend.Im2colBudget = saved; }
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
