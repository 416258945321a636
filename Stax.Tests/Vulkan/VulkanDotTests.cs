using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>Vulkan-only dot_general checks (the shared suite is Conformance.DotTests).</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // sets process-wide switches or counts backend work
public class VulkanDotTests
{
    static DotGeneralParams P(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null, DType? pref = null)
        => new(lc, rc, lb ?? Array.Empty<int>(), rb ?? Array.Empty<int>(), pref);

    static double Atol(int k) => 2e-5 * Math.Sqrt(Math.Max(1, k)) * 9;

    [VulkanFact]
    public void LongContractionAndBothGemmVariants()
    {
        // k > 65535: the contraction runs in accumulating passes (lavapipe's loop limit).
        var v = TestData.Tensor(43, new[] { 2, 70001 });
        var w = TestData.Tensor(44, new[] { 70001 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { v, w }, 1e-5, Atol(70001), "long k");
        // The aligned 4-wide GEMM variant and the general one agree with the reference (n % 4 == 0, batched, k split).
        foreach (bool vec4 in new[] { false, true })
        {
            bool saved = Stax.Vulkan.VulkanBackend.UseVec4Gemm;
            try
            {
                Stax.Vulkan.VulkanBackend.UseVec4Gemm = vec4;
                VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }),
                    new[] { TestData.Tensor(45, new[] { 3, 37, 29 }), TestData.Tensor(46, new[] { 3, 29, 68 }) }, 1e-5, Atol(29), $"vec4={vec4}");
            }
            finally { Stax.Vulkan.VulkanBackend.UseVec4Gemm = saved; }
        }
    }

    [VulkanFact]
    public void Float64IsRefused()
    {
        var x = VulkanCheck.Put(TestData.Tensor(1, new[] { 2, 3 }), TestData.Tensor(2, new[] { 3, 2 }));
        Check.Throws<NotSupportedException>(() => Lax.DotGeneral(x[0], x[1], new[] { 1 }, new[] { 0 }, preferredElementType: DType.Float64), "float64");
    }
}
