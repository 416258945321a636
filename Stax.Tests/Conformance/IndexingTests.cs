using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>gather and the scatter family against the reference on every backend, and the NumPy indexing layer.</summary>
public class IndexingTests
{
    /// <summary>Operand dtypes; each backend runs those it supports.</summary>
    internal static readonly DType[] DTypes = { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.Bool, DType.UInt8 };
    static readonly GatherScatterMode[] Modes = { GatherScatterMode.Clip, GatherScatterMode.FillOrDrop, GatherScatterMode.PromiseInBounds };

    /// <summary>Random integer indices in [lo, hi) of the given dtype.</summary>
    internal static Tensor RandIdx(int seed, int[] shape, int lo, int hi, DType dtype = DType.Int32)
    {
        var rng = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new double[n];
        for (long i = 0; i < n; i++) v[i] = rng.Next(lo, hi);
        return new RefArray(shape, dtype, v).ToTensor();
    }

    static Tensor I32(int[] data, params int[] shape) => Tensor.From<int>(data, new Shape(shape));
    static Tensor F32(float[] data, params int[] shape) => Tensor.From<float>(data, new Shape(shape));

    static GatherDimensionNumbers GD(int[] offset, int[] collapsed, int[] startMap, int[]? obd = null, int[]? sibd = null)
        => new(offset, collapsed, startMap, obd ?? Array.Empty<int>(), sibd ?? Array.Empty<int>());

    static ScatterDimensionNumbers SD(int[] window, int[] inserted, int[] toOperand, int[]? obd = null, int[]? sibd = null)
        => new(window, inserted, toOperand, obd ?? Array.Empty<int>(), sibd ?? Array.Empty<int>());

    // name, operand shape, indices (built from the operand shape), dimension numbers, slice sizes
    public record GatherCase(string Name, int[] Operand, Func<int, Tensor> Indices, GatherDimensionNumbers Dn, int[] Slice);

    static GatherCase[] GatherCases() => new[]
    {
        new GatherCase("embedding", new[] { 10, 7 }, s => RandIdx(s, new[] { 5, 1 }, -2, 12), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 7 }),
        new GatherCase("embedding 2-D ids", new[] { 10, 7 }, s => RandIdx(s, new[] { 3, 4, 1 }, -1, 11), GD(new[] { 2 }, new[] { 0 }, new[] { 0 }), new[] { 1, 7 }),
        new GatherCase("take along axis (batching)", new[] { 4, 9 }, s => RandIdx(s, new[] { 4, 3, 1 }, -1, 10),
            GD(Array.Empty<int>(), new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1 }),
        new GatherCase("2-D points", new[] { 6, 5 }, s => RandIdx(s, new[] { 8, 2 }, -1, 7), GD(Array.Empty<int>(), new[] { 0, 1 }, new[] { 0, 1 }), new[] { 1, 1 }),
        new GatherCase("windows", new[] { 7, 6 }, s => RandIdx(s, new[] { 4, 1 }, -1, 7), GD(new[] { 1, 2 }, Array.Empty<int>(), new[] { 0 }), new[] { 3, 4 }),
        new GatherCase("interleaved offsets", new[] { 5, 6, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, 0, 7), GD(new[] { 0, 3 }, new[] { 1 }, new[] { 1 }), new[] { 5, 1, 2 }),
        new GatherCase("offsets first", new[] { 5, 6, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, 0, 7), GD(new[] { 0, 1 }, new[] { 1 }, new[] { 1 }), new[] { 5, 1, 3 }),
        new GatherCase("batching leading", new[] { 3, 5, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, -1, 6),
            GD(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1, 4 }),
        new GatherCase("batching middle", new[] { 5, 3, 4 }, s => RandIdx(s, new[] { 2, 3, 1 }, 0, 6),
            GD(new[] { 2 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 }), new[] { 1, 1, 4 }),
        new GatherCase("two batching dims", new[] { 2, 3, 5 }, s => RandIdx(s, new[] { 3, 2, 4, 1 }, -1, 6),
            GD(Array.Empty<int>(), new[] { 2 }, new[] { 2 }, new[] { 0, 1 }, new[] { 1, 0 }), new[] { 1, 1, 1 }),
        new GatherCase("empty index vector", new[] { 5, 3 }, s => RandIdx(s, new[] { 4, 0 }, 0, 1), GD(new[] { 1, 2 }, Array.Empty<int>(), Array.Empty<int>()), new[] { 2, 3 }),
        new GatherCase("no indices", new[] { 5, 3 }, s => RandIdx(s, new[] { 0, 1 }, 0, 5), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 3 }),
        new GatherCase("empty operand", new[] { 0, 3 }, s => RandIdx(s, new[] { 4, 1 }, 0, 2), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 0, 3 }),
        new GatherCase("uint32 indices", new[] { 9 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt32), GD(Array.Empty<int>(), new[] { 0 }, new[] { 0 }), new[] { 1 }),
        new GatherCase("uint8 indices", new[] { 9, 2 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt8), GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 2 }),
        new GatherCase("scalar batch", new[] { 9, 2 }, s => RandIdx(s, new[] { 1 }, 0, 9), GD(new[] { 0 }, new[] { 0 }, new[] { 0 }), new[] { 1, 2 }),
    };

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void GatherMatchesReference(Isa isa) => GatherMatchesReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void GatherMatchesReferenceOnVulkan() => GatherMatchesReferenceOn(Target.Vulkan);

    static void GatherMatchesReferenceOn(Target target)
    {
        using var _ = target.Use();
        int seed = 0;
        foreach (var c in GatherCases())
            foreach (var dt in target.Only(DTypes))
                foreach (var mode in Modes)
                {
                    var x = TestData.Tensor(seed++, c.Operand, dt, specials: true);
                    var idx = c.Indices(seed++);
                    var ctx = $"{target} gather {c.Name} {dt} {mode}";
                    target.AgainstReference(Prims.Gather, new GatherParams(c.Dn, c.Slice, Mode: mode), new[] { x, idx }, context: ctx);
                    target.AgainstCpuIfHalfOnVulkan(Prims.Gather, new GatherParams(c.Dn, c.Slice, Mode: mode), new[] { x, idx }, dt, ctx);
                }
    }

    [Fact]
    public void GatherCustomFillValue() => GatherCustomFillValueOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void GatherCustomFillValueOnVulkan() => GatherCustomFillValueOn(Target.Vulkan);

    static void GatherCustomFillValueOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(1, new[] { 6, 3 }, DType.Int32);
        var idx = I32(new[] { 0, 9, -1, 5 }, 4, 1);
        var p = new GatherParams(GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 3 }, FillValue: -7);
        target.AgainstReference(Prims.Gather, p, new[] { x, idx });
        var y = target.Run(Prims.Gather, p, x, idx)[0].ToArray<int>();
        Assert.Equal(new[] { -7, -7, -7 }, y[3..6]);
        Assert.Equal(new[] { -7, -7, -7 }, y[6..9]);
        foreach (var dt in target.Only(DTypes))
            target.AgainstReference(Prims.Gather, p, new[] { TestData.Tensor(2, new[] { 6, 3 }, dt), idx }, context: $"{target} fill {dt}");
    }

    [Fact]
    public void GatherLargeIsThreadDeterministic() => GatherLargeOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void GatherLargeIsDeterministicOnVulkan() => GatherLargeOn(Target.Vulkan);

    /// <summary>A large gather matches the reference, and two runs (on one and two CPU threads; the
    /// count does not matter on Vulkan) give the same bits.</summary>
    static void GatherLargeOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(3, new[] { 1000, 80 });
        var idx = RandIdx(4, new[] { 900, 1 }, -5, 1005);
        var p = new GatherParams(GD(new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 80 });
        target.AgainstReference(Prims.Gather, p, new[] { x, idx });
        byte[] one, two;
        using (Config.UseThreads(1)) one = target.Run(Prims.Gather, p, x, idx)[0].ToBytes();
        using (Config.UseThreads(2)) two = target.Run(Prims.Gather, p, x, idx)[0].ToBytes();
        Assert.Equal(one, two);
    }

    public record ScatterCase(string Name, int[] Operand, Func<int, Tensor> Indices, int[] Updates, ScatterDimensionNumbers Dn);

    static ScatterCase[] ScatterCases() => new[]
    {
        new ScatterCase("embedding grad (duplicates)", new[] { 10, 7 }, s => RandIdx(s, new[] { 12, 1 }, -1, 11), new[] { 12, 7 }, SD(new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new ScatterCase("2-D points", new[] { 6, 5 }, s => RandIdx(s, new[] { 8, 2 }, -1, 7), new[] { 8 }, SD(Array.Empty<int>(), new[] { 0, 1 }, new[] { 0, 1 })),
        new ScatterCase("batching", new[] { 3, 5, 4 }, s => RandIdx(s, new[] { 3, 2, 1 }, -1, 6), new[] { 3, 2, 4 },
            SD(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new ScatterCase("batching middle", new[] { 5, 3, 4 }, s => RandIdx(s, new[] { 2, 3, 1 }, 0, 6), new[] { 2, 3, 4 },
            SD(new[] { 2 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 })),
        new ScatterCase("overlapping windows", new[] { 7, 6 }, s => RandIdx(s, new[] { 4, 1 }, -1, 7), new[] { 4, 3, 4 }, SD(new[] { 1, 2 }, Array.Empty<int>(), new[] { 0 })),
        new ScatterCase("window first", new[] { 5, 6 }, s => RandIdx(s, new[] { 3, 1 }, 0, 7), new[] { 5, 3 }, SD(new[] { 0 }, new[] { 1 }, new[] { 1 })),
        new ScatterCase("no updates", new[] { 5, 7 }, s => RandIdx(s, new[] { 0, 1 }, 0, 5), new[] { 0, 7 }, SD(new[] { 1 }, new[] { 0 }, new[] { 0 })),
        new ScatterCase("uint8 indices", new[] { 9 }, s => RandIdx(s, new[] { 6, 1 }, 0, 12, DType.UInt8), new[] { 6 }, SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 })),
    };

    static readonly Primitive[] ScatterPrims = { Prims.Scatter, Prims.ScatterAdd, Prims.ScatterMul, Prims.ScatterMin, Prims.ScatterMax };

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ScatterMatchesReference(Isa isa) => ScatterMatchesReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ScatterMatchesReferenceOnVulkan() => ScatterMatchesReferenceOn(Target.Vulkan);

    /// <summary>Every scatter in every mode. The CPU's float32/float64 results are exact (updates
    /// applied in index order, as the reference does); 16-bit floats round once per update.</summary>
    static void ScatterMatchesReferenceOn(Target target)
    {
        using var _ = target.Use();
        int seed = 100;
        foreach (var c in ScatterCases())
            foreach (var dt in target.Only(DTypes))
                foreach (var prim in ScatterPrims)
                    foreach (var mode in Modes)
                    {
                        var x = TestData.Tensor(seed++, c.Operand, dt);
                        var u = TestData.Tensor(seed++, c.Updates, dt);
                        var idx = c.Indices(seed++);
                        bool half = VulkanCheck.Half16.Contains(dt);
                        var (rtol, atol) = half ? (VulkanCheck.Rtol(dt, 0), 1e-2) : target.IsVulkan ? (1e-6, 1e-6) : (0.0, 0.0);
                        var ctx = $"{target} {prim.Name} {c.Name} {dt} {mode}";
                        target.AgainstReference(prim, new ScatterParams(c.Dn, Mode: mode), new[] { x, idx, u }, rtol, atol, ctx);
                        if (prim == Prims.Scatter || prim == Prims.ScatterMin || prim == Prims.ScatterMax)
                            target.AgainstCpuIfHalfOnVulkan(prim, new ScatterParams(c.Dn, Mode: mode), new[] { x, idx, u }, dt, ctx);
                    }
    }

    [Fact]
    public void ScatterNaNPropagatesThroughMinMax()
    {
        var x = F32(new[] { 1f, float.NaN, 3f }, 3);
        var u = F32(new[] { float.NaN, 0f, 5f }, 3);
        var idx = I32(new[] { 0, 1, 2 }, 3, 1);
        var dn = SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
        var mx = Lax.ScatterMax(x, idx, u, dn).ToArray<float>();
        Assert.True(float.IsNaN(mx[0]) && float.IsNaN(mx[1]));
        Assert.Equal(5f, mx[2]);
        var mn = Lax.ScatterMin(x, idx, u, dn).ToArray<float>();
        Assert.True(float.IsNaN(mn[0]) && float.IsNaN(mn[1]));
        Assert.Equal(3f, mn[2]);
    }

    [Fact]
    public void ScatterDuplicatesHandDerived()
    {
        var x = F32(new float[5], 5);
        var idx = I32(new[] { 1, 3, 1, 1, 9 }, 5, 1);
        var u = F32(new[] { 1f, 2f, 10f, 100f, 1000f }, 5);
        var dn = SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
        Assert.Equal(new[] { 0f, 111f, 0f, 2f, 0f }, Lax.ScatterAdd(x, idx, u, dn).ToArray<float>());
        // set: the last update in order wins; out of bounds (9) is dropped.
        Assert.Equal(new[] { 0f, 100f, 0f, 2f, 0f }, Lax.Scatter(x, idx, u, dn).ToArray<float>());
        // clip: 9 clamps to 4.
        Assert.Equal(new[] { 0f, 100f, 0f, 2f, 1000f }, Lax.Scatter(x, idx, u, dn, mode: GatherScatterMode.Clip).ToArray<float>());
    }

    [Fact]
    public void ScatterAddLargeIsThreadDeterministic() => ScatterAddLargeOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ScatterAddLargeIsDeterministicOnVulkan() => ScatterAddLargeOn(Target.Vulkan);

    /// <summary>Large scatters match the reference (exactly on the CPU, which adds in index order),
    /// and two runs (on one and two CPU threads; the count does not matter on Vulkan) give the same bits.</summary>
    static void ScatterAddLargeOn(Target target)
    {
        using var _ = target.Use();
        double tol = target.IsVulkan ? 1e-6 : 0;
        var x = TestData.Tensor(5, new[] { 300, 256 });
        var u = TestData.Tensor(6, new[] { 400, 256 });
        var idx = RandIdx(7, new[] { 400, 1 }, -3, 303);
        var p = new ScatterParams(SD(new[] { 1 }, new[] { 0 }, new[] { 0 }));
        target.AgainstReference(Prims.ScatterAdd, p, new[] { x, idx, u }, tol, tol);
        // One long window row: the parallel split runs over columns.
        var x1 = TestData.Tensor(8, new[] { 3, 70000 });
        var u1 = TestData.Tensor(9, new[] { 5, 70000 });
        var idx1 = I32(new[] { 2, 0, 2, 1, 2 }, 5, 1);
        target.AgainstReference(Prims.ScatterAdd, p, new[] { x1, idx1, u1 }, tol, tol);
        // A > 64K-element operand (embedding-gradient shape).
        var x2 = TestData.Tensor(4, new[] { 1000, 70 });
        var idx2 = RandIdx(5, new[] { 50, 1 }, 0, 1000);
        var u2 = TestData.Tensor(6, new[] { 50, 70 });
        target.AgainstReference(Prims.ScatterAdd, p, new[] { x2, idx2, u2 }, 1e-6, 1e-6, $"{target} large");
        foreach (var (a, i, b) in new[] { (x, idx, u), (x1, idx1, u1), (x2, idx2, u2) })
        {
            byte[] one, two;
            using (Config.UseThreads(1)) one = target.Run(Prims.ScatterAdd, p, a, i, b)[0].ToBytes();
            using (Config.UseThreads(2)) two = target.Run(Prims.ScatterAdd, p, a, i, b)[0].ToBytes();
            Assert.Equal(one, two);
        }
        // 70000 one-element updates into 300 slots (on Vulkan the index list runs in several passes).
        var xs = TestData.Tensor(1, new[] { 300 });
        var idxs = RandIdx(2, new[] { 70000, 1 }, -3, 303);
        var us = TestData.Tensor(3, new[] { 70000 });
        var ps = new ScatterParams(SD(Array.Empty<int>(), new[] { 0 }, new[] { 0 }));
        target.AgainstReference(Prims.ScatterAdd, ps, new[] { xs, idxs, us }, 1e-5, 1e-3, $"{target} many indices");
        target.AgainstReference(Prims.Scatter, ps, new[] { xs, idxs, us }, context: $"{target} many indices, last wins");
    }

    [Fact]
    public void GatherBadInputsThrow()
    {
        var x = Tensor.Zeros(new Shape(4, 5));
        var idx = I32(new[] { 0, 1, 2 }, 3, 1);
        var emb = GD(new[] { 1 }, new[] { 0 }, new[] { 0 });
        Tensor G(Tensor i, GatherDimensionNumbers dn, int[] s) => Lax.Gather(x, i, dn, s);
        Check.Throws<ArgumentException>(() => G(Tensor.Zeros(new Shape(3, 1)), emb, new[] { 1, 5 }), "gather:", "integer dtype", "float32", "operand shape (4, 5)");
        Check.Throws<ArgumentException>(() => G(I32(new[] { 0, 1 }, 1, 2), emb, new[] { 1, 5 }), "gather:", "index vector", "start_index_map (0,)", "indices shape (1, 2)");
        Check.Throws<ArgumentException>(() => G(idx, emb, new[] { 1 }), "gather:", "slice_sizes (1,)", "operand dimension");
        Check.Throws<ArgumentException>(() => G(idx, emb, new[] { 1, 6 }), "gather:", "slice size 6", "[0, 5]");
        Check.Throws<ArgumentException>(() => G(idx, emb, new[] { 2, 5 }), "gather:", "collapsed_slice_dims", "slice size 2");
        Check.Throws<ArgumentException>(() => G(idx, GD(new[] { 1 }, Array.Empty<int>(), new[] { 0 }), new[] { 1, 5 }), "gather:", "offset_dims", "neither collapsed nor batching");
        Check.Throws<ArgumentException>(() => Lax.Gather(Tensor.Zeros(new Shape(4, 5, 2)), idx, GD(new[] { 2, 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 5, 2 }), "gather:", "offset_dims (2, 1)", "sorted");
        Check.Throws<ArgumentException>(() => G(idx, GD(new[] { 1 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, Array.Empty<int>()), new[] { 1, 1 }), "gather:", "same length");
        Check.Throws<ArgumentException>(() => G(I32(new int[6], 2, 3, 1), GD(Array.Empty<int>(), new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1 }),
            "gather:", "batching dimension", "size 4", "size 2");
        Check.Throws<ArgumentException>(() => G(I32(new int[4], 4, 1), GD(Array.Empty<int>(), new[] { 1 }, new[] { 0 }, new[] { 0 }, new[] { 0 }), new[] { 1, 1 }),
            "gather:", "start_index_map (0,)", "operand_batching_dims (0,)");
        Check.Throws<ArgumentException>(() => G(I32(new int[2], 1, 2), GD(new[] { 1 }, new[] { 0 }, new[] { 0, 0 }), new[] { 1, 5 }), "gather:", "start_index_map", "repeat");
        Check.Throws<ArgumentException>(() => G(I32(new[] { 0 }), emb, new[] { 1, 5 }), "gather:", "index vector");
        Check.Throws<ArgumentException>(() => G(Tensor.Scalar(0, DType.Int32), emb, new[] { 1, 5 }), "gather:", "rank >= 1");
        Check.Throws<ArgumentException>(() => G(idx, GD(new[] { 1 }, new[] { 2 }, new[] { 0 }), new[] { 1, 5 }), "gather:", "collapsed_slice_dims (2,)", "[0, 2)");
        Check.Throws<ArgumentException>(() => G(idx, GD(new[] { 1 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 }), new[] { 1, 1 }), "gather:", "start_indices_batching_dims");
    }

    [Fact]
    public void ScatterBadInputsThrow()
    {
        var x = Tensor.Zeros(new Shape(4, 5));
        var idx = I32(new[] { 0, 1, 2 }, 3, 1);
        var u = Tensor.Zeros(new Shape(3, 5));
        var dn = SD(new[] { 1 }, new[] { 0 }, new[] { 0 });
        Check.Throws<ArgumentException>(() => Lax.ScatterAdd(x, Tensor.Zeros(new Shape(3, 1)), u, dn), "scatter-add:", "integer dtype", "operand shape (4, 5)");
        Check.Throws<ArgumentException>(() => Lax.ScatterAdd(x, idx, Tensor.Zeros(new Shape(3, 5), DType.Int32), dn), "scatter-add:", "updates dtype int32", "float32");
        Check.Throws<ArgumentException>(() => Lax.ScatterAdd(x, idx, Tensor.Zeros(new Shape(3, 6)), dn), "scatter-add:", "size 6", "larger than operand dimension 1");
        Check.Throws<ArgumentException>(() => Lax.ScatterAdd(x, idx, Tensor.Zeros(new Shape(2, 5)), dn), "scatter-add:", "scatter dimension 0 (size 2)", "indices dimension 0 (size 3)");
        Check.Throws<ArgumentException>(() => Lax.Scatter(x, idx, u, SD(new[] { 1 }, Array.Empty<int>(), new[] { 0 })), "scatter:", "cover the operand rank 2");
        Check.Throws<ArgumentException>(() => Lax.Scatter(x, I32(new int[6], 3, 2), u, dn), "scatter:", "index vector", "scatter_dims_to_operand_dims (0,)");
        Check.Throws<ArgumentException>(() => Lax.Scatter(x, idx, Tensor.Zeros(new Shape(3, 5, 1)), dn), "scatter:", "scatter dimensions");
        Check.Throws<ArgumentException>(() => Lax.ScatterMax(Tensor.Zeros(new Shape(2, 5)), I32(new int[3], 3, 1), u, SD(new[] { 1 }, new[] { 0 }, new[] { 0 }, new[] { 0 }, new[] { 0 })),
            "scatter-max:", "inserted_window_dims (0,)", "operand_batching_dims (0,)");
        Check.Throws<ArgumentException>(() => Lax.ScatterMul(x, idx, u, SD(new[] { 2 }, new[] { 0 }, new[] { 0 })), "scatter-mul:", "update_window_dims (2,)", "updates rank");
    }

    // ---------------- NumPy layer: expected values worked out by hand ----------------

    [Fact]
    public void TakeHandDerived()
    {
        var x = F32(new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3);
        var a = Np.Take(x, I32(new[] { 2, 0 }, 2), axis: 1);
        Assert.Equal(new Shape(2, 2), a.Shape);
        Assert.Equal(new[] { 3f, 1, 6, 4 }, a.ToArray<float>());
        var b = Np.Take(x, I32(new[] { 1 }, 1), axis: 0);
        Assert.Equal(new Shape(1, 3), b.Shape);
        Assert.Equal(new[] { 4f, 5, 6 }, b.ToArray<float>());
        // No axis: the flattened array.
        Assert.Equal(new[] { 6f, 1 }, Np.Take(x, I32(new[] { 5, 0 }, 2)).ToArray<float>());
        // Scalar index drops the axis.
        var c = Np.Take(x, Tensor.Scalar(1, DType.Int32), axis: 1);
        Assert.Equal(new Shape(2), c.Shape);
        Assert.Equal(new[] { 2f, 5 }, c.ToArray<float>());
        // 2-D indices along the middle of a 3-D array: shape x[:1] + (2, 2) + x[2:].
        var y = F32(Enumerable.Range(0, 12).Select(v => (float)v).ToArray(), 2, 3, 2);
        var d = Np.Take(y, I32(new[] { 0, 2, 1, 1 }, 2, 2), axis: 1);
        Assert.Equal(new Shape(2, 2, 2, 2), d.Shape);
        Assert.Equal(new[] { 0f, 1, 4, 5, 2, 3, 2, 3, 6, 7, 10, 11, 8, 9, 8, 9 }, d.ToArray<float>());
        // Out of range: fill (NaN / int min) by default, clamp with Clip.
        var f = Np.Take(F32(new[] { 1f, 2, 3 }, 3), I32(new[] { 3 }, 1));
        Assert.True(float.IsNaN(f.ToArray<float>()[0]));
        Assert.Equal(new[] { 3f }, Np.Take(F32(new[] { 1f, 2, 3 }, 3), I32(new[] { 3 }, 1), mode: GatherScatterMode.Clip).ToArray<float>());
        Assert.Equal(new[] { int.MinValue }, Np.Take(I32(new[] { 1, 2, 3 }, 3), I32(new[] { 7 }, 1)).ToArray<int>());
        Assert.Equal(new[] { 0f }, Np.Take(F32(new[] { 1f, 2, 3 }, 3), I32(new[] { 7 }, 1), fillValue: 0).ToArray<float>());
    }

    [Fact]
    public void TakeAlongAxisHandDerived()
    {
        var x = I32(new[] { 10, 30, 20, 60, 40, 50 }, 2, 3);
        var a = Np.TakeAlongAxis(x, I32(new[] { 1, 2, 0, 0 }, 2, 2), axis: 1);
        Assert.Equal(new Shape(2, 2), a.Shape);
        Assert.Equal(new[] { 30, 20, 60, 60 }, a.ToArray<int>());
        var b = Np.TakeAlongAxis(x, I32(new[] { 1, 0, 1 }, 1, 3), axis: 0);
        Assert.Equal(new[] { 60, 30, 50 }, b.ToArray<int>());
        // Indices broadcast over the other dimension.
        var c = Np.TakeAlongAxis(x, I32(new[] { 2, 0 }, 1, 2), axis: -1);
        Assert.Equal(new Shape(2, 2), c.Shape);
        Assert.Equal(new[] { 20, 10, 50, 60 }, c.ToArray<int>());
        // take_along_axis(x, argsort(x)) sorts.
        var s = Np.TakeAlongAxis(x, Np.Argsort(x, axis: 1), axis: 1);
        Assert.Equal(new[] { 10, 20, 30, 40, 50, 60 }, s.ToArray<int>());
        Check.Throws<ArgumentException>(() => Np.TakeAlongAxis(x, I32(new[] { 0 }, 1), 0), "take_along_axis:", "same rank");
        Check.Throws<ArgumentException>(() => Np.TakeAlongAxis(x, I32(new int[4], 4, 1), 1), "take_along_axis:", "broadcast");
        Check.Throws<ArgumentException>(() => Np.Take(x, Tensor.Zeros(new Shape(2)), 0), "take:", "integer dtype");
        Check.Throws<ArgumentException>(() => Np.Take(x, I32(new[] { 0 }, 1), 2), "take:", "axis 2");
    }

    [Fact]
    public void AtUpdatesHandDerived()
    {
        var x = F32(new float[5], 5);
        Assert.Equal(new[] { 4f, 0, 2, 0, 0 }, x.At(I32(new[] { 0, 2, 0 }, 3)).Add(F32(new[] { 1f, 2, 3 }, 3)).ToArray<float>());
        Assert.Equal(new[] { 0f, 9, 0, 0, 0 }, x.At(I32(new[] { 1, 1 }, 2)).Set(F32(new[] { 7f, 9 }, 2)).ToArray<float>());
        // A scalar value broadcasts; an out-of-range index is dropped.
        Assert.Equal(new[] { 0f, 0, 0, 5, 0 }, x.At(I32(new[] { 3, 7 }, 2)).Set(Tensor.Scalar(5)).ToArray<float>());
        var m = F32(new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new[] { 1f, 2, 4, 4, 5, 8 }, m.At(I32(new[] { 2 }, 1), axis: 1).Add(F32(new[] { 1f, 2 }, 2, 1)).ToArray<float>());
        Assert.Equal(new[] { 1f, 2, 3, 40, 50, 60 }, m.At(I32(new[] { 1 }, 1)).Multiply(F32(new[] { 10f }, 1)).ToArray<float>());
        Assert.Equal(new[] { 0f, 0, 0, 4, 5, 6 }, m.At(I32(new[] { 0 }, 1)).Min(Tensor.Scalar(0)).ToArray<float>());
        Assert.Equal(new[] { 1f, 9, 9, 4, 9, 9 }, m.At(I32(new[] { 1, 2 }, 2), axis: 1).Max(Tensor.Scalar(9)).ToArray<float>());
        Assert.Equal(new[] { 2f, 4 }, Np.ScatterAdd(F32(new[] { 1f, 2 }, 2), I32(new[] { 0, 1, 1 }, 3), F32(new[] { 1f, 1, 1 }, 3)).ToArray<float>());
        Assert.Equal(new[] { 2f, 3, 5, 6 }, m.At(I32(new[] { 1, 2 }, 2), axis: 1).Get().ToArray<float>());
    }

    static bool ElementwiseKernelsPresent()
    {
        try { Lax.Lt(Tensor.Scalar(0, DType.Int32), Tensor.Scalar(1, DType.Int32)); return true; }
        catch (NotSupportedException) { return false; }
    }

    [Fact]
    public void NegativeIndicesCountFromTheEnd()
    {
        // Negative-index normalization binds elementwise primitives (lt, add, select), which live in
        // another family; this test checks the wrapping once those kernels are present.
        if (!ElementwiseKernelsPresent()) return;
        var x = F32(new[] { 1f, 2, 3 }, 3);
        Assert.Equal(new[] { 3f, 1 }, Np.Take(x, I32(new[] { -1, -3 }, 2)).ToArray<float>());
        Assert.Equal(new[] { 1f, 2, 13 }, x.At(I32(new[] { -1 }, 1)).Add(Tensor.Scalar(10)).ToArray<float>());
    }
}
