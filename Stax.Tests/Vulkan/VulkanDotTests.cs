using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>dot_general on Vulkan against the reference, with the CPU suite's cases and tolerances.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanDotTests
{
    static DotGeneralParams P(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null, DType? pref = null)
        => new(lc, rc, lb ?? Array.Empty<int>(), rb ?? Array.Empty<int>(), pref);

    static double Atol(int k) => 2e-5 * Math.Sqrt(Math.Max(1, k)) * 9;

    [VulkanFact]
    public void MatMulShapesAndLayoutsMatchReference()
    {
        int[][] sizes =
        {
            new[] { 0, 3, 4 }, new[] { 3, 0, 4 }, new[] { 3, 4, 0 }, new[] { 1, 1, 1 }, new[] { 1, 7, 1 },
            new[] { 17, 31, 13 }, new[] { 8, 32, 32 }, new[] { 9, 5, 33 }, new[] { 2, 300, 3 }, new[] { 65, 3, 70 },
        };
        foreach (var dt in VulkanCheck.Floats)
        for (int layout = 0; layout < 4; layout++)
        {
            int seed = 10;
            bool lT = (layout & 1) != 0, rT = (layout & 2) != 0;
            foreach (var s in sizes)
            {
                int m = s[0], k = s[1], n = s[2];
                var a = VulkanCheck.As(TestData.Tensor(seed++, lT ? new[] { k, m } : new[] { m, k }), dt);
                var b = VulkanCheck.As(TestData.Tensor(seed++, rT ? new[] { n, k } : new[] { k, n }), dt);
                VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { lT ? 0 : 1 }, new[] { rT ? 1 : 0 }), new[] { a, b },
                    VulkanCheck.Rtol(dt, 1e-5), Atol(k), $"dot {dt.Name()} {m}x{k}x{n} layout {layout}");
                if (dt != DType.Float32)   // 16-bit operands, float32 result
                    VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { lT ? 0 : 1 }, new[] { rT ? 1 : 0 }, pref: DType.Float32), new[] { a, b },
                        1e-5, Atol(k), $"dot {dt.Name()}->float32 {m}x{k}x{n} layout {layout}");
            }
        }
    }

    [VulkanFact]
    public void LargeMatMulAndLongContraction()
    {
        var a = TestData.Tensor(41, new[] { 300, 200 });
        var b = TestData.Tensor(42, new[] { 300, 150 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }), new[] { a, b }, 1e-5, Atol(300), "large");
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
        var x = VulkanCheck.Put(a, b);
        Assert.Equal(Lax.DotGeneral(x[0], x[1], new[] { 0 }, new[] { 0 }).ToBytes(), Lax.DotGeneral(x[0], x[1], new[] { 0 }, new[] { 0 }).ToBytes());
    }

    [VulkanFact]
    public void BatchDimsInOddPositions()
    {
        var a = TestData.Tensor(3, new[] { 4, 2, 5, 3 });
        var b = TestData.Tensor(4, new[] { 5, 3, 6, 2 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 0 }, new[] { 3, 1 }, new[] { 1, 3 }), new[] { a, b }, 1e-5, Atol(5));
        var c = TestData.Tensor(5, new[] { 3, 4, 7 });
        var d = TestData.Tensor(6, new[] { 7, 5, 3 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2, 0 }, new[] { 0, 2 }), new[] { c, d }, 1e-5, Atol(21));
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 0, 2 }, new[] { 2, 0 }), new[] { c, d }, 1e-5, Atol(21));
        var f = TestData.Tensor(7, new[] { 3, 6, 5 });
        var g = TestData.Tensor(8, new[] { 6, 4 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { f, g }, 1e-5, Atol(6));
        var h = TestData.Tensor(9, new[] { 5, 6, 37 });
        var i = TestData.Tensor(10, new[] { 6, 7, 37 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, new[] { 2 }, new[] { 2 }), new[] { h, i }, 1e-5, Atol(6));
        var v = TestData.Tensor(11, new[] { 67 });
        var w = TestData.Tensor(12, new[] { 67 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }), new[] { v, w }, 1e-5, Atol(67));
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(Array.Empty<int>(), Array.Empty<int>()), new[] { v, w }, 1e-6, 0);
        // Many batches, contiguous (a batched matmul as attention uses it).
        var q = TestData.Tensor(13, new[] { 70, 9, 5 });
        var kk = TestData.Tensor(14, new[] { 70, 11, 5 });
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 2 }, new[] { 0 }, new[] { 0 }), new[] { q, kk }, 1e-5, Atol(5));
    }

    [VulkanFact]
    public void Int32AndPreferredType()
    {
        var pm = P(new[] { 1 }, new[] { 0 });
        var ia = TestData.Tensor(20, new[] { 19, 23 }, DType.Int32);
        var ib = TestData.Tensor(21, new[] { 23, 11 }, DType.Int32);
        VulkanCheck.AgainstReference(Prims.DotGeneral, pm, new[] { ia, ib });
        var big = VulkanCheck.Put(Tensor.FromArray(new[] { int.MaxValue, 2 }, 1, 2), Tensor.FromArray(new[] { 2, 3 }, 2, 1));
        Assert.Equal(unchecked(int.MaxValue * 2 + 6), Lax.DotGeneral(big[0], big[1], new[] { 1 }, new[] { 0 }).ToArray<int>()[0]);
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, pref: DType.Float32), new[] { ia, ib }, 1e-6, 0);
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 }), new[] { TestData.Tensor(22, new[] { 5, 3, 2 }, DType.Int32), TestData.Tensor(23, new[] { 5, 3 }, DType.Int32) });
    }

    [VulkanFact]
    public void NaNAndInfPropagateAndFloat64IsRefused()
    {
        var a = Tensor.FromArray(new[] { float.NaN, 1f, 2f, 3f }, 2, 2);
        var b = Tensor.FromArray(new[] { 1f, 2f, float.PositiveInfinity, 4f }, 2, 2);
        VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { a, b });
        var x = VulkanCheck.Put(TestData.Tensor(1, new[] { 2, 3 }), TestData.Tensor(2, new[] { 3, 2 }));
        Check.Throws<NotSupportedException>(() => Lax.DotGeneral(x[0], x[1], new[] { 1 }, new[] { 0 }, preferredElementType: DType.Float64), "float64");
    }
}
