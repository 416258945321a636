using Stax.Tests.Conformance;
using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;

namespace Stax.Tests.Vulkan;

/// <summary>gather, dynamic_slice, dynamic_update_slice and threefry2x32 on Vulkan against the reference.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanIndexingTests
{
    static readonly DType[] DTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.Bool, DType.UInt8 };
    static readonly GatherScatterMode[] Modes = { GatherScatterMode.Clip, GatherScatterMode.FillOrDrop, GatherScatterMode.PromiseInBounds };

    static Tensor RandIdx(int seed, int[] shape, int lo, int hi, DType dtype = DType.Int32) => IndexingTests.RandIdx(seed, shape, lo, hi, dtype);

    static GatherDimensionNumbers GD(int[] offset, int[] collapsed, int[] startMap, int[]? obd = null, int[]? sibd = null)
        => new(offset, collapsed, startMap, obd ?? Array.Empty<int>(), sibd ?? Array.Empty<int>());

    // The CPU suite's gather cases.
    static IndexingTests.GatherCase[] GatherCases() => new[]
    {
        new IndexingTests.GatherCase("embedding", new[] { 10, 7 }, s => RandIdx(s, new[] { 5, 1 }, -2, 12), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 7 }),
        new IndexingTests.GatherCase("embedding 2-D ids", new[] { 10, 7 }, s => RandIdx(s, new[] { 3, 4, 1 }, -1, 11), GD(new[] { 2 }, new[] { 0 }, new[] { 0 }), new[] { 1, 7 }),
        new IndexingTests.GatherCase("take along axis (batching)", new[] { 4, 9 }, s => RandIdx(s, new[] { 4, 3, 1 }, -1, 10),
            GD(Array.Empty<int>(), new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1 }),
        new IndexingTests.GatherCase("2-D points", new[] { 6, 5 }, s => RandIdx(s, new[] { 8, 2 }, -1, 7), GD(Array.Empty<int>(), new[] { 0, 1 }, new[] { 0, 1 }), new[] { 1, 1 }),
        new IndexingTests.GatherCase("windows", new[] { 7, 6 }, s => RandIdx(s, new[] { 4, 1 }, -1, 7), GD(new[] { 1, 2 }, Array.Empty<int>(), new[] { 0 }), new[] { 3, 4 }),
        new IndexingTests.GatherCase("interleaved offsets", new[] { 5, 6, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, 0, 7), GD(new[] { 0, 3 }, new[] { 1 }, new[] { 1 }), new[] { 5, 1, 2 }),
        new IndexingTests.GatherCase("offsets first", new[] { 5, 6, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, 0, 7), GD(new[] { 0, 1 }, new[] { 1 }, new[] { 1 }), new[] { 5, 1, 3 }),
        new IndexingTests.GatherCase("batching leading", new[] { 3, 5, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, -1, 6),
            GD(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1, 4 }),
        new IndexingTests.GatherCase("batching middle", new[] { 5, 3, 4 }, s => RandIdx(s, new[] { 2, 3, 1 }, 0, 6),
            GD(new[] { 2 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 }), new[] { 1, 1, 4 }),
        new IndexingTests.GatherCase("two batching dims", new[] { 2, 3, 5 }, s => RandIdx(s, new[] { 3, 2, 4, 1 }, -1, 6),
            GD(Array.Empty<int>(), new[] { 2 }, new[] { 2 }, new[] { 0, 1 }, new[] { 1, 0 }), new[] { 1, 1, 1 }),
        new IndexingTests.GatherCase("empty index vector", new[] { 5, 3 }, s => RandIdx(s, new[] { 4, 0 }, 0, 1), GD(new[] { 1, 2 }, Array.Empty<int>(), Array.Empty<int>()), new[] { 2, 3 }),
        new IndexingTests.GatherCase("no indices", new[] { 5, 3 }, s => RandIdx(s, new[] { 0, 1 }, 0, 5), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 3 }),
        new IndexingTests.GatherCase("empty operand", new[] { 0, 3 }, s => RandIdx(s, new[] { 4, 1 }, 0, 2), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 0, 3 }),
        new IndexingTests.GatherCase("uint32 indices", new[] { 9 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt32), GD(Array.Empty<int>(), new[] { 0 }, new[] { 0 }), new[] { 1 }),
        new IndexingTests.GatherCase("uint8 indices", new[] { 9, 2 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt8), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 2 }),
        new IndexingTests.GatherCase("scalar batch", new[] { 9, 2 }, s => RandIdx(s, new[] { 1 }, 0, 9), GD(new[] { 0 }, new[] { 0 }, new[] { 0 }), new[] { 1, 2 }),
    };

    [VulkanFact]
    public void GatherMatchesReference()
    {
        int seed = 0;
        foreach (var c in GatherCases())
            foreach (var dt in DTypes)
                foreach (var mode in Modes)
                {
                    var x = TestData.Tensor(seed++, c.Operand, dt, specials: true);
                    var idx = c.Indices(seed++);
                    VulkanCheck.AgainstReference(Prims.Gather, new GatherParams(c.Dn, c.Slice, Mode: mode), new[] { x, idx }, context: $"gather {c.Name} {dt} {mode}");
                    if (VulkanCheck.Half16.Contains(dt))
                        VulkanCheck.AgainstCpu(Prims.Gather, new GatherParams(c.Dn, c.Slice, Mode: mode), new[] { x, idx }, context: $"gather {c.Name} {dt} {mode}");
                }
    }

    [VulkanFact]
    public void GatherFillValueAndLarge()
    {
        var x = TestData.Tensor(1, new[] { 6, 3 }, DType.Int32);
        var idx = Tensor.From<int>(new[] { 0, 9, -1, 5 }, new Shape(4, 1));
        var p = new GatherParams(GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 3 }, FillValue: -7);
        VulkanCheck.AgainstReference(Prims.Gather, p, new[] { x, idx });
        foreach (var dt in DTypes)
            VulkanCheck.AgainstReference(Prims.Gather, p, new[] { TestData.Tensor(2, new[] { 6, 3 }, dt), idx }, context: $"fill {dt}");
        var big = TestData.Tensor(3, new[] { 1000, 80 });
        var bidx = RandIdx(4, new[] { 900, 1 }, -5, 1005);
        var pb = new GatherParams(GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 80 });
        VulkanCheck.AgainstReference(Prims.Gather, pb, new[] { big, bidx });
        var v = VulkanCheck.Put(big, bidx);
        Assert.Equal(Prims.Gather.Bind1(pb, v[0], v[1]).ToBytes(), Prims.Gather.Bind1(pb, v[0], v[1]).ToBytes());
    }

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

/// <summary>The scatter family on Vulkan against the reference (deterministic, in index order).</summary>
[Trait("Backend", "Vulkan")]
public class VulkanScatterTests
{
    static readonly DType[] DTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.Bool, DType.UInt8 };
    static readonly GatherScatterMode[] Modes = { GatherScatterMode.Clip, GatherScatterMode.FillOrDrop, GatherScatterMode.PromiseInBounds };
    static readonly Primitive[] ScatterPrims = { Prims.Scatter, Prims.ScatterAdd, Prims.ScatterMul, Prims.ScatterMin, Prims.ScatterMax };

    static Tensor RandIdx(int seed, int[] shape, int lo, int hi, DType dtype = DType.Int32) => IndexingTests.RandIdx(seed, shape, lo, hi, dtype);

    static ScatterDimensionNumbers SD(int[] window, int[] inserted, int[] toOperand, int[]? obd = null, int[]? sibd = null)
        => new(window, inserted, toOperand, obd ?? Array.Empty<int>(), sibd ?? Array.Empty<int>());

    static IndexingTests.ScatterCase[] Cases() => new[]
    {
        new IndexingTests.ScatterCase("embedding grad (duplicates)", new[] { 10, 7 }, s => RandIdx(s, new[] { 12, 1 }, -1, 11), new[] { 12, 7 }, SD(new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new IndexingTests.ScatterCase("2-D points", new[] { 6, 5 }, s => RandIdx(s, new[] { 8, 2 }, -1, 7), new[] { 8 }, SD(Array.Empty<int>(), new[] { 0, 1 }, new[] { 0, 1 })),
        new IndexingTests.ScatterCase("batching", new[] { 3, 5, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, -1, 6), new[] { 3, 2, 4 },
            SD(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new IndexingTests.ScatterCase("batching middle", new[] { 5, 3, 4 }, s => RandIdx(s, new[] { 2, 3, 1 }, 0, 6), new[] { 2, 3, 4 },
            SD(new[] { 2 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 })),
        new IndexingTests.ScatterCase("overlapping windows", new[] { 7, 6 }, s => RandIdx(s, new[] { 4, 1 }, -1, 7), new[] { 4, 3, 4 }, SD(new[] { 1, 2 }, Array.Empty<int>(), new[] { 0 })),
        new IndexingTests.ScatterCase("window first", new[] { 5, 6 }, s => RandIdx(s, new[] { 3, 1 }, 0, 7), new[] { 5, 3 }, SD(new[] { 0 }, new[] { 1 }, new[] { 1 })),
        new IndexingTests.ScatterCase("no updates", new[] { 5, 7 }, s => RandIdx(s, new[] { 0, 1 }, 0, 5), new[] { 0, 7 }, SD(new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new IndexingTests.ScatterCase("uint8 indices", new[] { 9 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt8), new[] { 6 }, SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 })),
    };

    [VulkanFact]
    public void ScatterMatchesReference()
    {
        int seed = 100;
        foreach (var c in Cases())
            foreach (var dt in DTypes)
                foreach (var prim in ScatterPrims)
                    foreach (var mode in Modes)
                    {
                        var x = TestData.Tensor(seed++, c.Operand, dt);
                        var u = TestData.Tensor(seed++, c.Updates, dt);
                        var idx = c.Indices(seed++);
                        bool half = VulkanCheck.Half16.Contains(dt);
                        VulkanCheck.AgainstReference(prim, new ScatterParams(c.Dn, Mode: mode), new[] { x, idx, u }, VulkanCheck.Rtol(dt, 1e-6), half ? 1e-2 : 1e-6, $"{prim.Name} {c.Name} {dt} {mode}");
                        if (half && (prim == Prims.Scatter || prim == Prims.ScatterMin || prim == Prims.ScatterMax))
                            VulkanCheck.AgainstCpu(prim, new ScatterParams(c.Dn, Mode: mode), new[] { x, idx, u }, context: $"{prim.Name} {c.Name} {dt} {mode}");
                    }
    }

    [VulkanFact]
    public void ScatterAddLargeAndManyIndicesAreDeterministic()
    {
        // 70000 one-element updates into 300 slots: the index list runs in several passes.
        var x = TestData.Tensor(1, new[] { 300 });
        var idx = RandIdx(2, new[] { 70000, 1 }, -3, 303);
        var u = TestData.Tensor(3, new[] { 70000 });
        var p = new ScatterParams(SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 }));
        VulkanCheck.AgainstReference(Prims.ScatterAdd, p, new[] { x, idx, u }, 1e-5, 1e-3, "many indices");
        VulkanCheck.AgainstReference(Prims.Scatter, p, new[] { x, idx, u }, context: "many indices, last wins");
        // A > 64K-element operand (embedding-gradient shape).
        var big = TestData.Tensor(4, new[] { 1000, 70 });
        var bidx = RandIdx(5, new[] { 50, 1 }, 0, 1000);
        var bu = TestData.Tensor(6, new[] { 50, 70 });
        var pb = new ScatterParams(SD(new[] { 1 }, new[] { 0 }, new[] { 0 }));
        VulkanCheck.AgainstReference(Prims.ScatterAdd, pb, new[] { big, bidx, bu }, 1e-6, 1e-6, "large");
        var v = VulkanCheck.Put(big, bidx, bu);
        Assert.Equal(Prims.ScatterAdd.Bind1(pb, v[0], v[1], v[2]).ToBytes(), Prims.ScatterAdd.Bind1(pb, v[0], v[1], v[2]).ToBytes());
    }
}
