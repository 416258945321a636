using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

// The movement kernels are byte copies (memmove for contiguous rows, tiled loops otherwise); the
// CPU's do not read Config.Isa, so one ISA path covers them. Every element size (1, 2, 4, 8 bytes)
// and every dtype of each backend is checked, bit for bit, against the naive reference.
/// <summary>Movement primitives against the reference on every backend.</summary>
public class MovementTests
{
    public static readonly DType[] AllDTypes =
        { DType.Float32, DType.Float64, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool, DType.Float16, DType.BFloat16 };

    public static IEnumerable<object[]> DTypes => AllDTypes.Select(d => new object[] { d });

    /// <summary>The CPU target (its movement kernels ignore the ISA).</summary>
    static Target Cpu => Target.Cpu(Config.Isa);

    /// <summary>Runs <paramref name="body"/> on Vulkan for every dtype Vulkan supports.</summary>
    static void OnVulkan(Action<Target, DType> body)
    {
        foreach (var dt in Target.Vulkan.Only(AllDTypes)) body(Target.Vulkan, dt);
    }

    static Tensor Data(int seed, int[] shape, DType dtype) => TestData.Tensor(seed, shape, dtype, specials: true);

    /// <summary>Compares against the reference, values and raw bytes (movement must be bit-exact).</summary>
    static Tensor Same(Target target, Primitive p, Params prm, params Tensor[] inputs)
    {
        var expected = Ref.Eval(p, prm, inputs.Select(RefArray.From).ToArray())[0];
        var actual = target.Run(p, prm, inputs)[0];
        Check.Close(expected, actual, context: $"{target} {p.Name} {prm} {expected.DType.Name()}");
        Assert.Equal(expected.ToBytes(), actual.ToBytes());
        return actual;
    }

    // ---------------------------------------------------------------- transpose

    public static readonly (int[] Shape, int[] Perm)[] TransposeCases =
    {
        (new int[0], new int[0]), (new[] { 0 }, new[] { 0 }), (new[] { 7 }, new[] { 0 }),
        (new[] { 3, 5 }, new[] { 1, 0 }), (new[] { 1, 7 }, new[] { 1, 0 }), (new[] { 2, 0, 3 }, new[] { 2, 0, 1 }),
        (new[] { 4, 33 }, new[] { 1, 0 }), (new[] { 40, 37 }, new[] { 1, 0 }), (new[] { 5, 1, 7, 3 }, new[] { 3, 1, 0, 2 }),
        (new[] { 2, 3, 9, 6 }, new[] { 0, 1, 3, 2 }), (new[] { 6, 5, 7 }, new[] { 2, 1, 0 }), (new[] { 6, 5, 7 }, new[] { 1, 2, 0 }),
        (new[] { 6, 5, 7 }, new[] { 2, 0, 1 }), (new[] { 3, 2, 5 }, new[] { 1, 0, 2 }),
        (new[] { 0, 3 }, new[] { 1, 0 }), (new[] { 1, 1 }, new[] { 1, 0 }), (new[] { 2, 3, 4 }, new[] { 2, 0, 1 }),
        (new[] { 2, 3, 4, 5 }, new[] { 3, 1, 2, 0 }), (new[] { 257, 259 }, new[] { 1, 0 }),
    };

    [Theory, MemberData(nameof(DTypes))]
    public void TransposeMatchesReference(DType dtype) => TransposeOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void TransposeMatchesReferenceOnVulkan() => OnVulkan(TransposeOn);

    static void TransposeOn(Target target, DType dtype)
    {
        int seed = 0;
        foreach (var (shape, perm) in TransposeCases)
            Same(target, Prims.Transpose, new TransposeParams(perm), Data(seed++, shape, dtype));
    }

    [Fact]
    public void TransposeAllPermutationsOfRank3()
    {
        var target = Cpu;
        var x = Data(1, new[] { 4, 5, 6 }, DType.Float32);
        foreach (var perm in new[] { new[] { 0, 1, 2 }, new[] { 0, 2, 1 }, new[] { 1, 0, 2 }, new[] { 1, 2, 0 }, new[] { 2, 0, 1 }, new[] { 2, 1, 0 } })
            Same(target, Prims.Transpose, new TransposeParams(perm), x);
    }

    // ---------------------------------------------------------------- reshape, broadcast_in_dim

    public static readonly (int[] Shape, int[] Target, int[] Dims)[] BroadcastCases =
    {
        (new int[0], new[] { 7 }, new int[0]), (new[] { 1 }, new[] { 0 }, new[] { 0 }), (new[] { 3 }, new[] { 5, 3 }, new[] { 1 }),
        (new[] { 3, 1 }, new[] { 3, 7 }, new[] { 0, 1 }), (new[] { 1, 5 }, new[] { 2, 3, 5 }, new[] { 1, 2 }),
        (new[] { 67 }, new[] { 1001, 67 }, new[] { 1 }), (new[] { 3 }, new[] { 3, 0 }, new[] { 0 }),
    };

    [Theory, MemberData(nameof(DTypes))]
    public void ReshapeAndBroadcastInDimMatchReference(DType dtype) => ReshapeAndBroadcastOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ReshapeAndBroadcastInDimMatchReferenceOnVulkan() => OnVulkan(ReshapeAndBroadcastOn);

    static void ReshapeAndBroadcastOn(Target target, DType dtype)
    {
        Same(target, Prims.Reshape, new ReshapeParams(new Shape(5, 3)), Data(2, new[] { 3, 5 }, dtype));
        int seed = 100;
        foreach (var (shape, to, dims) in BroadcastCases)
            Same(target, Prims.BroadcastInDim, new BroadcastInDimParams(new Shape(to), dims), Data(seed++, shape, dtype));
    }

    // ---------------------------------------------------------------- slice

    public static readonly (int[] Shape, int[] Start, int[] Limit, int[] Strides)[] SliceCases =
    {
        (new int[0], new int[0], new int[0], new int[0]),
        (new[] { 0 }, new[] { 0 }, new[] { 0 }, new[] { 1 }),
        (new[] { 7 }, new[] { 2 }, new[] { 7 }, new[] { 1 }),
        (new[] { 7 }, new[] { 1 }, new[] { 6 }, new[] { 2 }),
        (new[] { 7 }, new[] { 3 }, new[] { 3 }, new[] { 1 }),
        (new[] { 3, 5 }, new[] { 1, 0 }, new[] { 3, 5 }, new[] { 1, 1 }),
        (new[] { 3, 5 }, new[] { 0, 1 }, new[] { 3, 4 }, new[] { 2, 3 }),
        (new[] { 2, 0, 3 }, new[] { 1, 0, 1 }, new[] { 2, 0, 3 }, new[] { 1, 1, 1 }),
        (new[] { 4, 33 }, new[] { 1, 5 }, new[] { 4, 30 }, new[] { 1, 1 }),
        (new[] { 4, 33 }, new[] { 0, 0 }, new[] { 4, 33 }, new[] { 3, 4 }),
        (new[] { 5, 6, 7 }, new[] { 1, 2, 3 }, new[] { 4, 6, 7 }, new[] { 2, 1, 2 }),
        (new[] { 1, 1 }, new[] { 0, 0 }, new[] { 1, 1 }, new[] { 5, 5 }),
        (new[] { 3, 5 }, new[] { 1, 0 }, new[] { 3, 5 }, new[] { 1, 2 }),
        (new[] { 7 }, new[] { 0 }, new[] { 0 }, new[] { 1 }),
        (TestData.Large, new[] { 3 }, new[] { 65667 }, new[] { 3 }),
    };

    [Theory, MemberData(nameof(DTypes))]
    public void SliceMatchesReference(DType dtype) => SliceOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SliceMatchesReferenceOnVulkan() => OnVulkan(SliceOn);

    static void SliceOn(Target target, DType dtype)
    {
        int seed = 10;
        foreach (var (shape, start, limit, strides) in SliceCases)
            Same(target, Prims.Slice, new SliceParams(start, limit, strides), Data(seed++, shape, dtype));
    }

    // ---------------------------------------------------------------- pad

    public static readonly (int[] Shape, (int, int, int)[] Config)[] PadCases =
    {
        (new int[0], new (int, int, int)[0]),
        (new[] { 0 }, new[] { (2, 1, 0) }),
        (new[] { 0 }, new[] { (2, 1, 3) }),
        (new[] { 1 }, new[] { (0, 0, 4) }),
        (new[] { 7 }, new[] { (1, 2, 0) }),
        (new[] { 7 }, new[] { (0, 0, 2) }),
        (new[] { 7 }, new[] { (-2, -1, 0) }),
        (new[] { 7 }, new[] { (-3, 2, 1) }),
        (new[] { 7 }, new[] { (2, -4, 1) }),
        (new[] { 7 }, new[] { (-7, 0, 0) }),
        (new[] { 3, 5 }, new[] { (1, 1, 0), (2, 0, 1) }),
        (new[] { 3, 5 }, new[] { (0, 0, 0), (0, 0, 0) }),
        (new[] { 3, 5 }, new[] { (-1, 0, 0), (0, -2, 0) }),
        (new[] { 2, 0, 3 }, new[] { (0, 0, 0), (1, 1, 0), (0, 0, 0) }),
        (new[] { 4, 33 }, new[] { (1, 0, 2), (-5, 3, 1) }),
        (new[] { 3, 5 }, new[] { (1, 2, 0), (-1, 3, 2) }),
        (new[] { 0 }, new[] { (2, 1, 1) }),
        (TestData.Large, new[] { (5, 7, 1) }),
    };

    [Theory, MemberData(nameof(DTypes))]
    public void PadMatchesReference(DType dtype) => PadOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void PadMatchesReferenceOnVulkan() => OnVulkan(PadOn);

    static void PadOn(Target target, DType dtype)
    {
        int seed = 20;
        var value = Data(99, new int[0], dtype);
        foreach (var (shape, config) in PadCases)
            Same(target, Prims.Pad, PadParams.FromConfig(config), Data(seed++, shape, dtype), value);
    }

    // ---------------------------------------------------------------- concatenate

    [Theory, MemberData(nameof(DTypes))]
    public void ConcatenateMatchesReference(DType dtype) => ConcatenateOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ConcatenateMatchesReferenceOnVulkan() => OnVulkan(ConcatenateOn);

    static void ConcatenateOn(Target target, DType dtype)
    {
        Same(target, Prims.Concatenate, new ConcatenateParams(0), Data(30, new[] { 7 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(0), Data(31, new[] { 7 }, dtype), Data(32, new[] { 0 }, dtype), Data(33, new[] { 1 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(0), Data(34, new[] { 2, 5 }, dtype), Data(35, new[] { 3, 5 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(1), Data(36, new[] { 3, 5 }, dtype), Data(37, new[] { 3, 1 }, dtype), Data(38, new[] { 3, 33 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(2), Data(39, new[] { 2, 3, 4 }, dtype), Data(40, new[] { 2, 3, 0 }, dtype), Data(41, new[] { 2, 3, 7 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(1), Data(42, new[] { 2, 0, 3 }, dtype), Data(43, new[] { 2, 0, 3 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(1), Data(44, new[] { 3, 2 }, dtype), Data(45, new[] { 3, 0 }, dtype), Data(46, new[] { 3, 5 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(0), Data(47, new[] { 7 }, dtype), Data(48, TestData.Large, dtype), Data(49, new[] { 1 }, dtype));
        Same(target, Prims.Concatenate, new ConcatenateParams(0), Data(44, new[] { 1, 3 }, dtype), Data(45, new[] { 2, 3 }, dtype));
    }

    // ---------------------------------------------------------------- rev

    [Theory, MemberData(nameof(DTypes))]
    public void RevMatchesReference(DType dtype) => RevOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void RevMatchesReferenceOnVulkan() => OnVulkan(RevOn);

    static void RevOn(Target target, DType dtype)
    {
        Same(target, Prims.Rev, new RevParams(new int[0]), Data(50, new int[0], dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0 }), Data(51, new[] { 0 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0 }), Data(52, new[] { 1 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0 }), Data(53, new[] { 67 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 1 }), Data(54, new[] { 3, 5 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 1, 0 }), Data(55, new[] { 3, 5 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0, 2 }), Data(56, new[] { 2, 0, 3 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0, 2 }), Data(57, new[] { 4, 3, 5 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0, 2 }), Data(58, new[] { 2, 3, 5 }, dtype));
        Same(target, Prims.Rev, new RevParams(new[] { 0 }), Data(59, TestData.Large, dtype));
    }

    // ---------------------------------------------------------------- dynamic slices

    static Tensor I(int v) => Tensor.Scalar(v, DType.Int32);

    [Theory, MemberData(nameof(DTypes))]
    public void DynamicSliceMatchesReferenceAndClamps(DType dtype) => DynamicSliceOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void DynamicSliceMatchesReferenceAndClampsOnVulkan() => OnVulkan(DynamicSliceOn);

    static void DynamicSliceOn(Target target, DType dtype)
    {
        var x = Data(60, new[] { 5, 7 }, dtype);
        foreach (var (r, c) in new[] { (0, 0), (1, 2), (4, 6), (-3, 2), (3, 100), (int.MinValue, int.MaxValue) })
            Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 2, 3 }), x, I(r), I(c));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 0, 7 }), x, I(2), I(3));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 5, 7 }), x, I(2), I(3));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new int[0]), Data(61, new int[0], dtype));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 1, 1, 4 }), Data(62, new[] { 3, 2, 9 }, dtype),
            Tensor.Scalar(2, DType.UInt32), Tensor.Scalar(1, DType.UInt8), I(7));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 0 }), Data(63, new[] { 0 }, dtype), I(5));
        Same(target, Prims.DynamicSlice, new DynamicSliceParams(new[] { 65600 }), Data(64, TestData.Large, dtype), I(-1));
    }

    [Fact]
    public void DynamicSliceClampsAsXla()
    {
        // x = [0, 1, ..., 9]; a size-3 slice starting at 8 clamps to start 7. A negative start counts
        // from the end first (jax.lax.dynamic_slice): -5 is 5; -15 is -5, clamped to 0.
        var x = Tensor.FromArray(Enumerable.Range(0, 10).ToArray());
        Assert.Equal(new[] { 7, 8, 9 }, Lax.DynamicSlice(x, new[] { I(8) }, new[] { 3 }).ToArray<int>());
        Assert.Equal(new[] { 5, 6, 7 }, Lax.DynamicSlice(x, new[] { I(-5) }, new[] { 3 }).ToArray<int>());
        Assert.Equal(new[] { 0, 1, 2 }, Lax.DynamicSlice(x, new[] { I(-15) }, new[] { 3 }).ToArray<int>());
        Assert.Equal(new[] { 0, 1, 2 }, Lax.DynamicSlice(x, new[] { I(-5) }, new[] { 3 }, allowNegativeIndices: false).ToArray<int>());
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6, 100, 101, 102 },
            Lax.DynamicUpdateSlice(x, Tensor.FromArray(new[] { 100, 101, 102 }), new[] { I(9) }).ToArray<int>());
    }

    [Theory, MemberData(nameof(DTypes))]
    public void DynamicUpdateSliceMatchesReferenceAndClamps(DType dtype) => DynamicUpdateSliceOn(Cpu, dtype);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void DynamicUpdateSliceMatchesReferenceAndClampsOnVulkan() => OnVulkan(DynamicUpdateSliceOn);

    static void DynamicUpdateSliceOn(Target target, DType dtype)
    {
        var x = Data(70, new[] { 5, 7 }, dtype);
        var u = Data(71, new[] { 2, 3 }, dtype);
        foreach (var (r, c) in new[] { (0, 0), (1, 2), (4, 6), (-3, 2), (3, 100) })
            Same(target, Prims.DynamicUpdateSlice, Params.None, x, u, I(r), I(c));
        Same(target, Prims.DynamicUpdateSlice, Params.None, x, Data(72, new[] { 0, 3 }, dtype), I(1), I(1));
        Same(target, Prims.DynamicUpdateSlice, Params.None, x, Data(73, new[] { 5, 7 }, dtype), I(1), I(1));
        Same(target, Prims.DynamicUpdateSlice, Params.None, Data(74, new int[0], dtype), Data(75, new int[0], dtype));
        Same(target, Prims.DynamicUpdateSlice, Params.None, Data(76, new[] { 2, 0, 3 }, dtype), Data(77, new[] { 1, 0, 2 }, dtype), I(1), I(0), I(1));
        Same(target, Prims.DynamicUpdateSlice, Params.None, Data(78, TestData.Large, dtype), Data(79, new[] { 1001 }, dtype), I(70000));
    }

    // ---------------------------------------------------------------- large sizes and threads

    static readonly (string Name, Func<DType, (Primitive, Params, Tensor[])> Make)[] LargeCases =
    {
        ("transpose", dt => (Prims.Transpose, new TransposeParams(new[] { 1, 0 }), new[] { Data(80, new[] { 301, 257 }, dt) })),
        ("transpose3", dt => (Prims.Transpose, new TransposeParams(new[] { 2, 0, 1 }), new[] { Data(81, new[] { 41, 43, 47 }, dt) })),
        ("slice", dt => (Prims.Slice, new SliceParams(new[] { 1, 3 }, new[] { 300, 257 }, new[] { 1, 2 }), new[] { Data(82, new[] { 301, 257 }, dt) })),
        ("slice-rows", dt => (Prims.Slice, new SliceParams(new[] { 1, 3 }, new[] { 300, 250 }, new[] { 1, 1 }), new[] { Data(83, new[] { 301, 257 }, dt) })),
        ("pad", dt => (Prims.Pad, PadParams.FromConfig((2, -3, 1), (5, 1, 0)), new[] { Data(84, new[] { 301, 257 }, dt), Data(85, new int[0], dt) })),
        ("concatenate", dt => (Prims.Concatenate, new ConcatenateParams(1), new[] { Data(86, new[] { 301, 257 }, dt), Data(87, new[] { 301, 100 }, dt) })),
        ("rev", dt => (Prims.Rev, new RevParams(new[] { 1 }), new[] { Data(88, new[] { 301, 257 }, dt) })),
        ("dynamic_slice", dt => (Prims.DynamicSlice, new DynamicSliceParams(new[] { 290, 250 }), new[] { Data(89, new[] { 301, 257 }, dt), I(5), I(3) })),
        ("dynamic_update_slice", dt => (Prims.DynamicUpdateSlice, Params.None, new[] { Data(90, new[] { 301, 257 }, dt), Data(91, new[] { 290, 200 }, dt), I(5), I(3) })),
    };

    public static IEnumerable<object[]> LargeCaseNames => LargeCases.Select(c => new object[] { c.Name });

    [Theory, MemberData(nameof(LargeCaseNames))]
    public void LargeMatchesReferenceAndIsThreadCountIndependent(string name)
    {
        foreach (var dt in new[] { DType.Float32, DType.UInt8, DType.Float64 })
        {
            var (p, prm, inputs) = LargeCases.First(c => c.Name == name).Make(dt);
            Assert.True(inputs[0].Size > 65536);
            var expected = Ref.Eval(p, prm, inputs.Select(RefArray.From).ToArray())[0].ToBytes();
            byte[] one, two;
            using (Config.UseThreads(1)) one = p.Bind1(prm, inputs).ToBytes();
            using (Config.UseThreads(2)) two = p.Bind1(prm, inputs).ToBytes();
            Assert.Equal(expected, one);
            Assert.Equal(one, two);
        }
    }

    // ---------------------------------------------------------------- types, weak types, printing

    [Fact]
    public void OutputTypesKeepDTypeAndWeakness()
    {
        var w = Lax.BroadcastInDim(Tensor.WeakScalar(2.0), new Shape(2, 3));
        Assert.True(Lax.Transpose(w, 1, 0).IsWeak);
        Assert.True(Lax.Slice(w, new[] { 0, 1 }, new[] { 2, 3 }).IsWeak);
        Assert.True(Lax.Rev(w, 0).IsWeak);
        Assert.True(Lax.Pad(w, Tensor.WeakScalar(0.0), (1, 0, 0), (0, 0, 0)).IsWeak);
        Assert.False(Lax.Pad(w, Tensor.Scalar(0.0), (1, 0, 0), (0, 0, 0)).IsWeak);
        Assert.False(Lax.Concatenate(new[] { w, Tensor.Zeros(new Shape(2, 3)) }, 0).IsWeak);
        Assert.Equal("permutation=(1, 0)", new TransposeParams(new[] { 1, 0 }).ToString());
        Assert.Equal("padding_config=((1, 2, 0),)", PadParams.FromConfig((1, 2, 0)).ToString());
        Assert.Equal(new SliceParams(new[] { 1 }, new[] { 2 }, new[] { 1 }), new SliceParams(new[] { 1 }, new[] { 2 }, new[] { 1 }));
    }

    [Fact]
    public void WorksOnTheReferenceBackend()
    {
        var backend = new ReferenceBackend();
        var x = Tensor.FromBytes(TestData.Tensor(1, new[] { 2, 3 }).ToBytes(), new Shape(2, 3), DType.Float32, backend);
        var y = Np.Pad(Np.Transpose(x), 1);
        Assert.Same(backend, y.Backend);
        Assert.Equal(new Shape(5, 4), y.Shape);
        Assert.Equal(x.ToDoubleArray()[3], y.ToDoubleArray()[1 * 4 + 2]); // y[1, 2] = x.T[0, 1] = x[1, 0]
    }

    // ---------------------------------------------------------------- bad inputs

    [Fact]
    public void BadInputsGiveClearErrors()
    {
        var x = Tensor.Zeros(new Shape(3, 5));
        Check.Throws<ArgumentException>(() => Lax.Transpose(x, 0, 0), "transpose:", "(0, 0)", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.Transpose(x, 0), "transpose:", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.Transpose(x, 1, 2), "transpose:");

        Check.Throws<ArgumentException>(() => Lax.Slice(x, new[] { 0, 0 }, new[] { 4, 5 }), "slice:", "(3, 5)", "dimension 0");
        Check.Throws<ArgumentException>(() => Lax.Slice(x, new[] { -1, 0 }, new[] { 3, 5 }), "slice:", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.Slice(x, new[] { 2, 0 }, new[] { 1, 5 }), "slice:", "start <= limit");
        Check.Throws<ArgumentException>(() => Lax.Slice(x, new[] { 0, 0 }, new[] { 3, 5 }, new[] { 1, 0 }), "slice:", "strides must be positive");
        Check.Throws<ArgumentException>(() => Lax.Slice(x, new[] { 0 }, new[] { 3 }), "slice:", "rank 2");

        var zero = Tensor.Scalar(0);
        Check.Throws<ArgumentException>(() => Lax.Pad(x, zero, (0, 0, -1), (0, 0, 0)), "pad:", "interior", "non-negative");
        Check.Throws<ArgumentException>(() => Lax.Pad(x, zero, (0, 0, 0)), "pad:", "rank 2");
        Check.Throws<ArgumentException>(() => Lax.Pad(x, zero, (-4, 0, 0), (0, 0, 0)), "pad:", "negative size");
        Check.Throws<ArgumentException>(() => Lax.Pad(x, Tensor.Scalar(0, DType.Int32), (0, 0, 0), (0, 0, 0)), "pad:", "int32", "float32");
        Check.Throws<ArgumentException>(() => Lax.Pad(x, Tensor.Zeros(new Shape(1)), (0, 0, 0), (0, 0, 0)), "pad:", "scalar", "(1,)");

        Check.Throws<ArgumentException>(() => Lax.Concatenate(new[] { x, Tensor.Zeros(new Shape(3, 4)) }, 0), "concatenate:", "operand 1", "(3, 4)", "(3, 5)", "dimension 0");
        Check.Throws<ArgumentException>(() => Lax.Concatenate(new[] { x, Tensor.Zeros(new Shape(3, 5, 1)) }, 0), "concatenate:", "rank");
        Check.Throws<ArgumentException>(() => Lax.Concatenate(new[] { x, Tensor.Zeros(new Shape(3, 5), DType.Int32) }, 0), "concatenate:", "int32", "float32");
        Check.Throws<ArgumentException>(() => Lax.Concatenate(new[] { x, x }, 2), "concatenate:", "dimension 2");
        Check.Throws<ArgumentException>(() => Lax.Concatenate(new Tensor[0], 0), "concatenate:");

        Check.Throws<ArgumentException>(() => Lax.Rev(x, 2), "rev:", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.Rev(x, 0, 0), "rev:", "more than once");

        Check.Throws<ArgumentException>(() => Lax.DynamicSlice(x, new[] { I(0) }, new[] { 1, 1 }), "dynamic_slice:", "expected 2 start indices");
        Check.Throws<ArgumentException>(() => Lax.DynamicSlice(x, new[] { I(0), Tensor.Scalar(0) }, new[] { 1, 1 }), "dynamic_slice:", "integer", "float32");
        Check.Throws<ArgumentException>(() => Lax.DynamicSlice(x, new[] { I(0), Tensor.Zeros(new Shape(1), DType.Int32) }, new[] { 1, 1 }), "dynamic_slice:", "scalar");
        Check.Throws<ArgumentException>(() => Lax.DynamicSlice(x, new[] { I(0), I(0) }, new[] { 4, 1 }), "dynamic_slice:", "slice_sizes", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.DynamicSlice(x, new[] { I(0), I(0) }, new[] { 1 }), "dynamic_slice:", "slice_sizes");

        Check.Throws<ArgumentException>(() => Lax.DynamicUpdateSlice(x, Tensor.Zeros(new Shape(4, 1)), new[] { I(0), I(0) }), "dynamic_update_slice:", "(4, 1)", "(3, 5)");
        Check.Throws<ArgumentException>(() => Lax.DynamicUpdateSlice(x, Tensor.Zeros(new Shape(1)), new[] { I(0), I(0) }), "dynamic_update_slice:", "rank");
        Check.Throws<ArgumentException>(() => Lax.DynamicUpdateSlice(x, Tensor.Zeros(new Shape(1, 1), DType.Int32), new[] { I(0), I(0) }), "dynamic_update_slice:", "int32");
        Check.Throws<ArgumentException>(() => Lax.DynamicUpdateSlice(x, Tensor.Zeros(new Shape(1, 1)), new[] { I(0) }), "dynamic_update_slice:", "start indices");
    }
}
