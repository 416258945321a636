using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;
using static Stax.Nn.Layers;

namespace Stax.Tests.Vulkan;

/// <summary>
/// The shared-memory tiled GEMM (shaders/gemm_tiled.glsl), forced on lavapipe where the device rule
/// keeps the blocked kernel: tile shapes, edges, operand layouts, batches, int32, accumulating passes
/// and split-K against the float64 reference; the per-device choice rules.
/// </summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // sets process-wide switches or counts backend work
public class VulkanTiledGemmTests
{
    static DotGeneralParams P(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null)
        => new(lc, rc, lb ?? Array.Empty<int>(), rb ?? Array.Empty<int>(), null);

    // float32 sums of k products of values in [-3, 3]: error grows about like sqrt(k).
    static double Atol(int k) => 2e-5 * Math.Sqrt(Math.Max(1, k)) * 9;

    /// <summary>Every built-in tile shape, covering 8x8, 8x4 and 4x4 register tiles. The first, GPUs' default for large
    /// products, needs 33 KiB of shared memory where lavapipe reports 32: on CPU drivers it runs with the limit raised
    /// (<see cref="Forced"/>), since llvmpipe sizes a workgroup's shared memory by the shader.</summary>
    public static readonly string[] Tiles =
        { "128x128x16/8x8", "128x128x8/8x8", "128x64x16/8x4", "64x64x16/4x4", "32x32x16/4x4" };

    /// <summary>Runs <paramref name="body"/> with the tiled kernel forced (tile and slices as given), then restores
    /// the switches.</summary>
    static void Forced(string? tile, int slices, Action body, long stepsPerPass = 32768)
    {
        var saved = (VulkanBackend.GemmKernelOverride, VulkanBackend.GemmTileOverride, VulkanBackend.GemmSlicesOverride,
                     VulkanBackend.TiledStepsPerPass, VulkanBackend.SharedMemoryAllowance);
        try
        {
            if (VulkanCheck.Vk.Capabilities.DeviceType == "Cpu") VulkanBackend.SharedMemoryAllowance = 4096;
            VulkanBackend.GemmKernelOverride = GemmKernel.Tiled;
            VulkanBackend.GemmTileOverride = tile == null ? null : GemmTile.Parse(tile, "test");
            VulkanBackend.GemmSlicesOverride = slices;
            VulkanBackend.TiledStepsPerPass = stepsPerPass;
            body();
        }
        finally
        {
            (VulkanBackend.GemmKernelOverride, VulkanBackend.GemmTileOverride, VulkanBackend.GemmSlicesOverride,
             VulkanBackend.TiledStepsPerPass, VulkanBackend.SharedMemoryAllowance) = saved;
        }
    }

    /// <summary>C = A·B with A stored [m, k] or [k, m] and B stored [k, n] or [n, k] (read through strides, no copy).</summary>
    static void Product(int seed, int m, int n, int k, bool aT, bool bT, string context, DType? dtype = null)
    {
        var t = dtype ?? DType.Float32;
        var (lo, hi) = t == DType.Int32 ? (-50.0, 50.0) : (-3.0, 3.0);
        var a = TestData.Tensor(seed, aT ? new[] { k, m } : new[] { m, k }, t, lo, hi);
        var b = TestData.Tensor(seed + 1, bT ? new[] { n, k } : new[] { k, n }, t, lo, hi);
        var p = P(new[] { aT ? 0 : 1 }, new[] { bT ? 1 : 0 });
        string what = $"{context} {m}x{n}x{k} aT={aT} bT={bT}";
        if (t == DType.Int32) VulkanCheck.AgainstReference(Prims.DotGeneral, p, new[] { a, b }, 0, 0, what);
        else VulkanCheck.AgainstReference(Prims.DotGeneral, p, new[] { a, b }, 1e-5, Atol(k), what);
    }

    static readonly (int M, int N, int K)[] Shapes =
    {
        (1, 1, 1), (67, 131, 259), (128, 128, 32), (37, 41, 1), (5, 3, 3000), (64, 68, 36), (130, 9, 17),
    };

    [VulkanTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryShapeAndLayoutMatchesTheReference(int tileIndex)
    {
        string tile = Tiles[tileIndex];
        Forced(tile, 1, () =>
        {
            int seed = 10;
            foreach (var (m, n, k) in Shapes)
                foreach (bool aT in new[] { false, true })
                    foreach (bool bT in new[] { false, true })
                        Product(seed++, m, n, k, aT, bT, tile);
        });
    }

    [VulkanFact]
    public void Int32WrapsLikeTheCpu()
    {
        Forced("64x64x16/4x4", 1, () =>
        {
            Product(30, 67, 131, 45, false, false, "int32");
            Product(31, 64, 68, 36, true, true, "int32");
        });
        // Overflowing sums wrap (two's complement), as the CPU backend computes them.
        var a = Tensor.FromArray(new[] { int.MaxValue, 3, int.MinValue, 7 }, 2, 2);
        var b = Tensor.FromArray(new[] { 2, 1, 5, int.MaxValue }, 2, 2);
        Forced("32x32x16/4x4", 3, () =>
            VulkanCheck.AgainstCpu(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { a, b }, 0, "int32 wrap"));
    }

    [VulkanFact]
    public void BatchedAndStridedOperands()
    {
        Forced("64x64x16/4x4", 1, () =>
        {
            // [b, m, k] x [b, k, n], n % 4 == 0 (4-vector loads and stores).
            VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }),
                new[] { TestData.Tensor(40, new[] { 3, 37, 29 }), TestData.Tensor(41, new[] { 3, 29, 68 }) }, 1e-5, Atol(29),
                "batched");
            // Batch in the middle of the lhs and last in the rhs: [m, b, k] x [k, n, b] (strided batch and column reads).
            VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 0 }, new[] { 1 }, new[] { 2 }),
                new[] { TestData.Tensor(42, new[] { 19, 5, 23 }), TestData.Tensor(43, new[] { 23, 11, 5 }) }, 1e-5, Atol(23),
                "strided batch");
            // Two contracting dims and two free dims per side.
            VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 1, 3 }, new[] { 0, 2 }),
                new[] { TestData.Tensor(44, new[] { 6, 7, 5, 4 }), TestData.Tensor(45, new[] { 7, 9, 4 }) }, 1e-5, Atol(28),
                "multi-dim");
        });
    }

    [VulkanFact]
    public void SplitKSumsTheSlicesExactlyOnce()
    {
        foreach (int slices in new[] { 2, 3, 7 })
            Forced("32x32x16/4x4", slices, () =>
            {
                Product(50 + slices, 67, 41, 259, false, false, $"split {slices}");
                Product(60 + slices, 8, 12, 3000, true, true, $"split {slices}");
                // More slices asked than K has tile steps: fewer, none empty.
                Product(70 + slices, 5, 6, 20, false, true, $"split {slices}");
            });
        // Batched split: every batch's slices go to their own partial block.
        Forced("32x32x16/4x4", 4, () =>
            VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }),
                new[] { TestData.Tensor(80, new[] { 3, 9, 300 }), TestData.Tensor(81, new[] { 3, 300, 10 }) }, 1e-5, Atol(300),
                "batched split"));
        // The size rule splits an 8x8 output with k = 20000 (one tile, a long contraction).
        Forced(null, 0, () => Product(82, 8, 8, 20000, false, false, "split by size"));
    }

    [VulkanFact]
    public void AccumulatingPassesMatchOnePass()
    {
        // Two tile steps per pass: k = 259 runs in several passes that add into C, with and without split-K.
        foreach (int slices in new[] { 1, 2 })
            Forced("32x32x16/4x4", slices, () =>
            {
                Product(90 + slices, 33, 35, 259, false, false, $"passes, split {slices}");
                VulkanCheck.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }),
                    new[] { TestData.Tensor(95, new[] { 2, 9, 140 }), TestData.Tensor(96, new[] { 2, 140, 12 }) }, 1e-5,
                    Atol(140),
                    $"batched passes, split {slices}");
            }, stepsPerPass: 2);
    }

    [VulkanFact]
    public void ACompiledMlpTrainStepMatchesTheCpu()
    {
        var vk = VulkanCheck.Vk;
        var model = Serial(Dense(40), Relu, Dense(24), Relu, Dense(10));
        var (_, p) = model.Initialize(Rng.Key(1), new AbstractValue(new Shape(48, 70), DType.Float32));
        var x = TestData.Tensor(100, new[] { 48, 70 }, lo: 0, hi: 1);
        var y = Tensor.FromArray(Enumerable.Range(0, 48).Select(i => i % 10).ToArray());
        var leaves = Tree.Flatten(p);
        int n = leaves.Leaves.Length;
        var step = Transforms.Jit((Tensor[] a) =>
        {
            var prm = Tree.Unflatten(leaves.Def, a[..n])!;
            var g = Transforms.Grad((object q) =>
                Losses.SoftmaxCrossEntropy(model.Apply(q, a[n], training: true), a[n + 1]))(prm);
            return Tree.Leaves(Tree.Map2((w, d) => w - 0.1 * d, prm, g));
        }, "tiled_mlp_step");
        var cpu = step.Call(leaves.Leaves.Append(x).Append(y).ToArray());
        long before = vk.TiledGemmDispatches;
        Tensor[] gpu = Array.Empty<Tensor>();
        Forced(null, 0, () =>
        {
            var args = leaves.Leaves.Append(x).Append(y).Select(t => t.DevicePut(vk)).ToArray();
            gpu = step.Call(args);
            gpu = step.Call(args);
        });
        Assert.True(vk.TiledGemmDispatches > before, "the tiled kernel ran");
        for (int i = 0; i < cpu.Length; i++)
        {
            Assert.Same(vk, gpu[i].Backend);
            Check.Close(cpu[i].ToDoubleArray(), gpu[i].ToDoubleArray(), 1e-5, 1e-6, $"leaf {i}");
        }
    }

    /// <summary>The tiled kernel's implicit-GEMM convolution: both operand forms, output positions split over
    /// dispatches, accumulating passes (one tile step per pass), int32 with batch groups.</summary>
    [VulkanFact]
    public void TiledConvolutionsMatchTheReference()
    {
        var saved = (VulkanBackend.ConvOperandOverride, VulkanBackend.ConvPositionsPerDispatch);
        long before = VulkanCheck.Vk.TiledGemmDispatches;
        try
        {
            foreach (var (tile, chunk, steps) in new[] { ("64x64x16/4x4", 65535L * 64, 32768L), ("32x32x16/4x4", 7L, 1L) })
                foreach (int mode in new[] { 1, 2 })
                    Forced(tile, 0, () =>
                    {
                        VulkanBackend.ConvOperandOverride = mode;
                        VulkanBackend.ConvPositionsPerDispatch = chunk;
                        int seed = 300;
                        foreach (var c in Stax.Tests.Conformance.ConvTests.Cases)
                        {
                            var x = TestData.Tensor(seed++, c.Lhs);
                            var w = TestData.Tensor(seed++, c.Rhs);
                            VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4,
                                $"{c.Name}, tile {tile}, operand mode {mode}, {chunk} positions per dispatch");
                        }
                        var ci = Stax.Tests.Conformance.ConvTests.Cases[7];
                        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, ci.Params(),
                            new[] { TestData.Tensor(50, ci.Lhs, DType.Int32), TestData.Tensor(51, ci.Rhs, DType.Int32) },
                            context: $"int32 batch groups, tile {tile}, operand mode {mode}");
                    }, steps);
        }
        finally
        {
            (VulkanBackend.ConvOperandOverride, VulkanBackend.ConvPositionsPerDispatch) = saved;
        }
        Assert.True(VulkanCheck.Vk.TiledGemmDispatches > before, "the tiled kernel ran");
    }

    /// <summary>A kernel's gradient as reverse mode writes it: the input with batch and features swapped
    /// (CHWN) against the output gradient as the window (IHWO), a few outputs (HWNC) and a contraction over
    /// the batch and every position: split-K's case.</summary>
    static readonly Stax.Tests.Conformance.ConvTests.Case KernelGradient =
        new("kernel gradient", new[] { 6, 12, 11, 5 }, new[] { 6, 10, 9, 7 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) },
            Specs: ("CHWN", "IHWO", "HWNC"));

    /// <summary>Split-K in the convolution mode: slices write partial results in the output's layout and are
    /// summed in order; forced slice counts, both operand forms, accumulating passes, int32 and batch groups.</summary>
    [VulkanFact]
    public void SplitKConvolutionsMatchTheReference()
    {
        var saved = VulkanBackend.ConvOperandOverride;
        var vk = VulkanCheck.Vk;
        try
        {
            var configs = new[] { ("32x32x16/4x4", 3, 32768L), ("64x64x16/4x4", 5, 32768L), ("32x32x16/4x4", 2, 2L) };
            foreach (var (tile, slices, steps) in configs)
                foreach (int mode in new[] { 1, 2 })
                    Forced(tile, slices, () =>
                    {
                        VulkanBackend.ConvOperandOverride = mode;
                        var c = KernelGradient;
                        string what = $"tile {tile}, {slices} slices, {steps} steps per pass, operand mode {mode}";
                        // Og 7 features, 5 x 3 x 3 positions, K = 6 x 10 x 9 taps: the forced slices are taken.
                        Assert.Equal(slices, vk.TiledPlan(1, mode == 1 ? 7 : 45, mode == 1 ? 45 : 7, 540).Slices);
                        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(),
                            new[] { TestData.Tensor(70, c.Lhs), TestData.Tensor(71, c.Rhs) }, 1e-5, 1e-4, $"{c.Name}, {what}");
                        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, c.Params(),
                            new[] { TestData.Tensor(72, c.Lhs, DType.Int32), TestData.Tensor(73, c.Rhs, DType.Int32) },
                            context: $"int32 {c.Name}, {what}");
                        var g = Stax.Tests.Conformance.ConvTests.Cases[7]; // batch groups
                        VulkanCheck.AgainstReference(Prims.ConvGeneralDilated, g.Params(),
                            new[] { TestData.Tensor(74, g.Lhs), TestData.Tensor(75, g.Rhs) }, 1e-5, 1e-4, $"{g.Name}, {what}");
                    }, steps);
        }
        finally { VulkanBackend.ConvOperandOverride = saved; }
    }

    [VulkanFact]
    public void TheDeviceRuleKeepsCpuDriversOnTheBlockedKernelAndSizesTilesForGpus()
    {
        var lavapipe = VulkanCheck.Vk.Capabilities with { DeviceType = "Cpu" };
        Assert.Equal(GemmKernel.Blocked, GemmTiling.Kernel(lavapipe));
        var gpu = VulkanCheck.Vk.Capabilities with
        {
            DeviceType = "DiscreteGpu", MaxComputeSharedMemorySize = 49152, MaxComputeWorkGroupInvocations = 1024,
        };
        Assert.Equal(GemmKernel.Tiled, GemmTiling.Kernel(gpu));
        // 4096²: 1024 tiles of 128x128 fill the device; 1024²: 64 of them do not, 256 of 64x64 do.
        Assert.Equal(new GemmTile(128, 128, 16, 8, 8), GemmTiling.Choose(gpu, 1, 4096, 4096));
        Assert.Equal(new GemmTile(64, 64, 16, 4, 4), GemmTiling.Choose(gpu, 1, 1024, 1024));
        // 32 KiB of shared memory: 128x128 with BK 8 (17 KiB); 16 KiB: only the 32x32 tile (9 KiB) fits.
        var mid = gpu with { MaxComputeSharedMemorySize = 32768 };
        Assert.Equal(new GemmTile(128, 128, 8, 8, 8), GemmTiling.Choose(mid, 1, 4096, 4096));
        var small = gpu with { MaxComputeSharedMemorySize = 16384 };
        Assert.Equal(new GemmTile(32, 32, 16, 4, 4), GemmTiling.Choose(small, 1, 4096, 4096));
        Assert.Equal(GemmKernel.Blocked, GemmTiling.Kernel(gpu with { MaxComputeSharedMemorySize = 4096 }));
        // 128-wide subgroups: the 64-invocation tile would leave half of one idle.
        Assert.Equal(new GemmTile(64, 64, 16, 4, 4), GemmTiling.Choose(gpu with { SubgroupSize = 128 }, 1, 64, 64));
        // Split-K: not for big outputs or short contractions (the MLP's 784x512 weight gradient over a batch of 128),
        // but for 64x64 with k = 65536 (4 tiles of 32x32: 64 slices of 1024) and 512x10 with k = 4096.
        var t32 = new GemmTile(32, 32, 16, 4, 4);
        Assert.Equal(1, GemmTiling.Slices(new GemmTile(128, 128, 16, 8, 8), 1, 4096, 4096, 4096));
        Assert.Equal(1, GemmTiling.Slices(t32, 1, 784, 512, 128));
        Assert.Equal(64, GemmTiling.Slices(t32, 1, 64, 64, 65536));
        Assert.Equal(8, GemmTiling.Slices(t32, 1, 512, 10, 4096));
        // The MNIST CNN's kernel gradients at batch 64: 64 x (32 x 3 x 3) outputs over 64 x 24 x 24 positions
        // (18 tiles of 32x32: 15 slices) and 32 x 9 over 64 x 26 x 26 (one tile: 64 slices).
        Assert.Equal(t32, GemmTiling.Choose(gpu, 1, 64, 288));
        Assert.Equal(15, GemmTiling.Slices(t32, 1, 64, 288, 64 * 24 * 24));
        Assert.Equal(64, GemmTiling.Slices(t32, 1, 32, 9, 64 * 26 * 26));
    }

    [Fact]
    public void TileShapesParseAndBadOnesAreRefused()
    {
        Assert.Equal(new GemmTile(128, 128, 16, 8, 8), GemmTile.Parse("128x128x16/8x8", "STAX_VULKAN_GEMM_TILE"));
        Assert.Equal(256, new GemmTile(128, 128, 16, 8, 8).Invocations);
        Assert.Equal(2 * 16 * (132 + 132) * 4, new GemmTile(128, 128, 16, 8, 8).SharedBytes);
        Check.Throws<ArgumentException>(() => GemmTile.Parse("128x128/8x8", "STAX_VULKAN_GEMM_TILE"),
                                        "STAX_VULKAN_GEMM_TILE", "BMxBNxBK");
        // TM = 6 is not a multiple of 4; 64x64x8 with 4x4 (256 invocations) leaves half an A group per invocation.
        Check.Throws<ArgumentException>(() => GemmTile.Parse("96x96x16/6x6", "test"), "multiples of 4");
        Check.Throws<ArgumentException>(() => GemmTile.Parse("64x64x8/4x4", "test"), "multiples of 4");
    }
}
