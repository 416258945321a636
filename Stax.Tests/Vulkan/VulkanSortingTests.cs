using Stax.Tests.Conformance;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>sort (multiple operands, several keys, stable) and top_k on Vulkan against the reference.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanSortingTests
{
    static readonly DType[] DTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool };
    static readonly int[][] Shapes = { new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 67 }, new[] { 4, 33 }, new[] { 2, 3, 4 } };

    static Tensor WithTies(int seed, int[] shape, DType dt)
    {
        var t = TestData.Tensor(seed, shape, dt, specials: true);
        if (dt.IsFloat()) return new Reference.RefArray(shape, dt, t.ToDoubleArray().Select((x, i) => i < 6 ? x : Math.Round(x)).ToArray()).ToTensor();
        if (dt == DType.Int32) return new Reference.RefArray(shape, dt, t.ToDoubleArray().Select(x => x % 5).ToArray()).ToTensor();
        return t;
    }

    [VulkanFact]
    public void SortMatchesReference()
    {
        int seed = 0;
        foreach (var shape in Shapes)
            foreach (var dt in DTypes)
                for (int dim = 0; dim < shape.Length; dim++)
                {
                    var x = WithTies(seed++, shape, dt);
                    VulkanCheck.AgainstReference(Prims.Sort, new SortParams(dim), new[] { x }, context: $"sort {Shape.Format(shape)} {dt} dim {dim}");
                    var payload = Lax.Iota(DType.Int32, new Shape(shape), dim);
                    VulkanCheck.AgainstReference(Prims.Sort, new SortParams(dim), new[] { x, payload }, context: $"sort+payload {Shape.Format(shape)} {dt} dim {dim}");
                    if (VulkanCheck.Half16.Contains(dt))
                        VulkanCheck.AgainstCpu(Prims.Sort, new SortParams(dim), new[] { x, payload }, context: $"sort+payload {Shape.Format(shape)} {dt} dim {dim}");
                }
    }

    [VulkanFact]
    public void SortKeysAndLarge()
    {
        var k1 = IndexingTests.RandIdx(1, new[] { 5, 40 }, 0, 3);
        var k2 = WithTies(2, new[] { 5, 40 }, DType.Float32);
        var payload = TestData.Tensor(3, new[] { 5, 40 }, DType.UInt8);
        for (int dim = 0; dim < 2; dim++)
        {
            VulkanCheck.AgainstReference(Prims.Sort, new SortParams(dim, NumKeys: 2), new[] { k1, k2, payload });
            VulkanCheck.AgainstReference(Prims.Sort, new SortParams(dim, IsStable: false, NumKeys: 3), new[] { k1, k2, payload });
        }
        // One > 64K line: the reference's insertion sort is quadratic, so compare with the CPU backend (bit-exact).
        var x = WithTies(4, TestData.Large, DType.Float32);
        var iota = Lax.Iota(DType.Int32, new Shape(TestData.Large), 0);
        var cpu = Lax.Sort(new[] { x, iota }, 0);
        var vk = Lax.Sort(VulkanCheck.Put(x, iota), 0);
        Assert.Equal(cpu[0].ToBytes(), vk[0].ToBytes());
        Assert.Equal(cpu[1].ToBytes(), vk[1].ToBytes());
        var y = TestData.Tensor(5, new[] { 64, 1100 });
        VulkanCheck.AgainstReference(Prims.Sort, new SortParams(0), new[] { y });
    }

    [VulkanFact]
    public void SortSpecials()
    {
        float posNaN = float.NaN, negNaN = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000));
        var x = VulkanCheck.Put(Tensor.From<float>(new[] { 0f, posNaN, -0f, -1f, float.PositiveInfinity, negNaN, -0f, float.NegativeInfinity }, new Shape(8)))[0];
        var r = Lax.Sort(new[] { x, VulkanCheck.Put(Lax.Iota(DType.Int32, new Shape(8), 0))[0] }, 0);
        Assert.Equal(new[] { 7, 3, 0, 2, 6, 4, 1, 5 }, r[1].ToArray<int>());
    }

    [VulkanFact]
    public void TopKMatchesReference()
    {
        int seed = 50;
        foreach (var shape in new[] { new[] { 7 }, new[] { 3, 5 }, new[] { 0, 4 }, new[] { 4, 0 }, new[] { 2, 3, 9 }, new[] { 1 } })
            foreach (var dt in DTypes)
                foreach (int k in new[] { 0, 1, 3, shape[^1] }.Distinct())
                {
                    if (k > shape[^1]) continue;
                    var x = WithTies(seed++, shape, dt);
                    VulkanCheck.AgainstReference(Prims.TopK, new TopKParams(k), new[] { x }, context: $"top_k {Shape.Format(shape)} {dt} k={k}");
                    if (VulkanCheck.Half16.Contains(dt))
                        VulkanCheck.AgainstCpu(Prims.TopK, new TopKParams(k), new[] { x }, context: $"top_k {Shape.Format(shape)} {dt} k={k}");
                }
        VulkanCheck.AgainstReference(Prims.TopK, new TopKParams(5), new[] { TestData.Tensor(6, new[] { 1100, 64 }, specials: true) });
        var y = VulkanCheck.Put(Tensor.From<float>(new[] { 1f, 3, float.NaN, 3, -0f, 0f, 2 }, new Shape(7)))[0];
        Assert.Equal(new[] { 2, 1, 3, 6, 0, 4, 5 }, Lax.TopK(y, 7).Indices.ToArray<int>());
    }
}
