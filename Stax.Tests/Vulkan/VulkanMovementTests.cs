using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>Movement primitives on Vulkan against the reference, for every Vulkan dtype.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanMovementTests
{
    static readonly DType[] VkTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool };

    static Tensor T(int seed, int[] shape, DType t) => TestData.Tensor(seed, shape, t, specials: true);

    [VulkanFact]
    public void BroadcastInDimMatchesReference()
    {
        foreach (var t in VkTypes)
            foreach (var (shape, target, dims) in new (int[], int[], int[])[]
            {
                (new int[0], new[] { 7 }, new int[0]), (new[] { 1 }, new[] { 0 }, new[] { 0 }), (new[] { 3 }, new[] { 5, 3 }, new[] { 1 }),
                (new[] { 3, 1 }, new[] { 3, 7 }, new[] { 0, 1 }), (new[] { 1, 5 }, new[] { 2, 3, 5 }, new[] { 1, 2 }),
                (new[] { 67 }, new[] { 1001, 67 }, new[] { 1 }), (new[] { 3 }, new[] { 3, 0 }, new[] { 0 }),
            })
                VulkanCheck.AgainstReference(Prims.BroadcastInDim, new BroadcastInDimParams(new Shape(target), dims), new[] { T(1, shape, t) }, context: $"broadcast {t.Name()}");
    }

    [VulkanFact]
    public void ReshapeAndTransposeMatchReference()
    {
        foreach (var t in VkTypes)
        {
            VulkanCheck.AgainstReference(Prims.Reshape, new ReshapeParams(new Shape(5, 3)), new[] { T(2, new[] { 3, 5 }, t) });
            foreach (var (shape, perm) in new (int[], int[])[]
            {
                (new int[0], new int[0]), (new[] { 0, 3 }, new[] { 1, 0 }), (new[] { 1, 1 }, new[] { 1, 0 }), (new[] { 3, 5 }, new[] { 1, 0 }),
                (new[] { 2, 3, 4 }, new[] { 2, 0, 1 }), (new[] { 2, 3, 4, 5 }, new[] { 3, 1, 2, 0 }), (new[] { 257, 259 }, new[] { 1, 0 }),
            })
                VulkanCheck.AgainstReference(Prims.Transpose, new TransposeParams(perm), new[] { T(3, shape, t) }, context: $"transpose {t.Name()} {string.Join(",", perm)}");
        }
    }

    [VulkanFact]
    public void SliceRevPadMatchReference()
    {
        foreach (var t in VkTypes)
        {
            VulkanCheck.AgainstReference(Prims.Slice, new SliceParams(new[] { 1, 0 }, new[] { 3, 5 }, new[] { 1, 2 }), new[] { T(4, new[] { 3, 5 }, t) });
            VulkanCheck.AgainstReference(Prims.Slice, new SliceParams(new[] { 0 }, new[] { 0 }, new[] { 1 }), new[] { T(4, new[] { 7 }, t) });
            VulkanCheck.AgainstReference(Prims.Slice, new SliceParams(new[] { 3 }, new[] { 65667 }, new[] { 3 }), new[] { T(4, TestData.Large, t) });
            VulkanCheck.AgainstReference(Prims.Rev, new RevParams(new[] { 0, 2 }), new[] { T(5, new[] { 2, 3, 5 }, t) });
            VulkanCheck.AgainstReference(Prims.Rev, new RevParams(new[] { 0 }), new[] { T(5, TestData.Large, t) });
            VulkanCheck.AgainstReference(Prims.Rev, new RevParams(new[] { 0 }), new[] { T(5, new[] { 0 }, t) });
            var pv = T(6, new int[0], t);
            VulkanCheck.AgainstReference(Prims.Pad, PadParams.FromConfig((1, 2, 0), (-1, 3, 2)), new[] { T(7, new[] { 3, 5 }, t), pv }, context: $"pad {t.Name()}");
            VulkanCheck.AgainstReference(Prims.Pad, PadParams.FromConfig((2, 1, 1)), new[] { T(7, new[] { 0 }, t), pv });
            VulkanCheck.AgainstReference(Prims.Pad, PadParams.FromConfig((5, 7, 1)), new[] { T(7, TestData.Large, t), pv });
        }
    }

    [VulkanFact]
    public void ConcatenateMatchesReference()
    {
        foreach (var t in VkTypes)
        {
            VulkanCheck.AgainstReference(Prims.Concatenate, new ConcatenateParams(1),
                new[] { T(8, new[] { 3, 2 }, t), T(9, new[] { 3, 0 }, t), T(10, new[] { 3, 5 }, t) }, context: $"concat {t.Name()}");
            VulkanCheck.AgainstReference(Prims.Concatenate, new ConcatenateParams(0),
                new[] { T(8, new[] { 7 }, t), T(9, TestData.Large, t), T(10, new[] { 1 }, t) });
            VulkanCheck.AgainstReference(Prims.Concatenate, new ConcatenateParams(0), new[] { T(8, new[] { 1, 3 }, t), T(9, new[] { 2, 3 }, t) });
        }
    }
}
