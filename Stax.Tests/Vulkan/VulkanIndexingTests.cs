using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>dynamic_slice, dynamic_update_slice and threefry2x32 on Vulkan against the reference (gather and
/// scatter run in the shared suite, Conformance.IndexingTests).</summary>
[Trait("Backend", "Vulkan")]
public class VulkanIndexingTests
{
    static readonly DType[] DTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.Bool, DType.UInt8 };

    static Tensor I(int v) => Tensor.Scalar(v, DType.Int32);

    [VulkanFact]
    public void DynamicSliceAndUpdateMatchReferenceAndClamp()
    {
        foreach (var dt in DTypes.Append(DType.UInt32))
        {
            Tensor D(int seed, int[] shape) => TestData.Tensor(seed, shape, dt, specials: true);
            var x = D(60, new[] { 5, 7 });
            foreach (var (r, c) in new[] { (0, 0), (1, 2), (4, 6), (-3, 2), (3, 100), (int.MinValue, int.MaxValue) })
                VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new[] { 2, 3 }), new[] { x, I(r), I(c) }, context: $"dynamic_slice {dt} {r},{c}");
            VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new[] { 0, 7 }), new[] { x, I(2), I(3) });
            VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new[] { 5, 7 }), new[] { x, I(2), I(3) });
            VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new int[0]), new[] { D(61, new int[0]) });
            VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new[] { 1, 1, 4 }), new[] { D(62, new[] { 3, 2, 9 }),
                Tensor.Scalar(2, DType.UInt32), Tensor.Scalar(1, DType.UInt8), I(7) });
            VulkanCheck.AgainstReference(Prims.DynamicSlice, new DynamicSliceParams(new[] { 65600 }), new[] { D(63, TestData.Large), I(-1) });
            var u = D(71, new[] { 2, 3 });
            foreach (var (r, c) in new[] { (0, 0), (1, 2), (4, 6), (-3, 2), (3, 100) })
                VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { x, u, I(r), I(c) }, context: $"dynamic_update_slice {dt} {r},{c}");
            VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { x, D(72, new[] { 0, 3 }), I(1), I(1) });
            VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { x, D(73, new[] { 5, 7 }), I(1), I(1) });
            VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { D(74, new int[0]), D(75, new int[0]) });
            VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { D(76, new[] { 2, 0, 3 }), D(77, new[] { 1, 0, 2 }), I(1), I(0), I(1) });
            VulkanCheck.AgainstReference(Prims.DynamicUpdateSlice, Params.None, new[] { D(78, TestData.Large), D(79, new[] { 1001 }), I(70000) });
        }
    }

    [VulkanFact]
    public void Threefry2x32IsBitIdenticalToTheReference()
    {
        foreach (var shape in TestData.Shapes.Append(TestData.Large))
        {
            var ins = Enumerable.Range(0, 4).Select(k => TestData.Tensor(900 + k, shape, DType.UInt32, specials: true)).ToArray();
            VulkanCheck.AgainstReference(Prims.Threefry2x32, Params.None, ins, context: $"threefry {Shape.Format(shape)}");
        }
        // Random123 known answer: key (0, 0), counter (0, 0) -> 0x6b200159, 0x99ba4efe.
        var z = VulkanCheck.Put(Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1), Tensor.FromArray(new uint[] { 0 }, 1));
        var r = Prims.Threefry2x32.Bind(Params.None, z);
        Assert.Equal(0x6b200159u, r[0].ToArray<uint>()[0]);
        Assert.Equal(0x99ba4efeu, r[1].ToArray<uint>()[0]);
    }
}
