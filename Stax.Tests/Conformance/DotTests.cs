using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>dot_general against the reference on every backend, and the NumPy front end.</summary>
public class DotTests
{
    static DotGeneralParams P(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null, DType? pref = null)
        => new(lc, rc, lb ?? Array.Empty<int>(), rb ?? Array.Empty<int>(), pref);

    // float32 sums of k products of values in [-3, 3]: error grows like sqrt(k).
    static double Atol(int k) => 2e-5 * Math.Sqrt(Math.Max(1, k)) * 9;

    public static IEnumerable<object[]> IsaAndLayouts()
    {
        foreach (var isa in Config.AvailableIsas)
            for (int layout = 0; layout < 4; layout++)
                yield return new object[] { isa, layout };
    }

    [Theory]
    [MemberData(nameof(IsaAndLayouts))]
    public void MatMulShapesMatchReference(Isa isa, int layout) => MatMulShapesOn(Target.Cpu(isa), layout);

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void MatMulShapesMatchReferenceOnVulkan()
    {
        for (int layout = 0; layout < 4; layout++) MatMulShapesOn(Target.Vulkan, layout);
    }

    /// <summary>Matrix products of many sizes in one layout (bit 0: lhs stored (k, m); bit 1: rhs
    /// stored (n, k)), in float32 and, on Vulkan, in float16 and bfloat16 with float16/bfloat16 and
    /// float32 results (the CPU's 16-bit products are checked in OtherDTypes).</summary>
    static void MatMulShapesOn(Target target, int layout)
    {
        using var _ = target.Use();
        int[][] sizes =
        {
            new[] { 0, 3, 4 }, new[] { 3, 0, 4 }, new[] { 3, 4, 0 }, new[] { 1, 1, 1 }, new[] { 1, 7, 1 },
            new[] { 17, 31, 13 }, new[] { 8, 32, 32 }, new[] { 9, 5, 33 }, new[] { 2, 300, 3 }, new[] { 65, 3, 70 },
            // few columns, many rows (computed transposed); partial row panels of 1-4 rows; several K blocks
            new[] { 130, 70, 10 }, new[] { 200, 1100, 10 }, new[] { 90, 20, 11 }, new[] { 13, 9, 35 }, new[] { 10, 40, 96 },
        };
        bool lT = (layout & 1) != 0, rT = (layout & 2) != 0;
        foreach (var dt in target.IsVulkan ? VulkanCheck.Floats : new[] { DType.Float32 })
        {
            int seed = 10;
            foreach (var s in sizes)
            {
                int m = s[0], k = s[1], n = s[2];
                var a = VulkanCheck.As(TestData.Tensor(seed, lT ? new[] { k, m } : new[] { m, k }), dt);
                var b = VulkanCheck.As(TestData.Tensor(seed + 1, rT ? new[] { n, k } : new[] { k, n }), dt);
                seed++;
                target.AgainstReference(Prims.DotGeneral, P(new[] { lT ? 0 : 1 }, new[] { rT ? 1 : 0 }), new[] { a, b },
                    VulkanCheck.Rtol(dt, 1e-5), Atol(k), $"{target} dot {dt.Name()} {m}x{k}x{n} layout {layout}");
                if (dt != DType.Float32)   // 16-bit operands, float32 result
                    target.AgainstReference(Prims.DotGeneral, P(new[] { lT ? 0 : 1 }, new[] { rT ? 1 : 0 }, pref: DType.Float32), new[] { a, b },
                        1e-5, Atol(k), $"{target} dot {dt.Name()}->float32 {m}x{k}x{n} layout {layout}");
            }
        }
    }

    [Fact]
    public void ZeroContractionGivesZeros()
    {
        var a = TestData.Tensor(1, new[] { 3, 0 });
        var b = TestData.Tensor(2, new[] { 0, 5 });
        var r = Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0 });
        Assert.Equal(new Shape(3, 5), r.Shape);
        Assert.All(r.ToArray<float>(), v => Assert.Equal(0f, v));
    }

    static readonly Lazy<(Tensor A, Tensor B, RefArray Expected)> Large = new(() =>
    {
        // 200x300x150 crosses every block boundary (MC, KC, NR tails) of the float32 GEMM.
        var a = TestData.Tensor(41, new[] { 300, 200 });
        var b = TestData.Tensor(42, new[] { 300, 150 });
        var e = Ref.Eval(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }), RefArray.From(a), RefArray.From(b))[0];
        return (a, b, e);
    });

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void LargeMatMulMatchesReferenceAndIsThreadDeterministic(Isa isa) => LargeMatMulOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void LargeMatMulMatchesReferenceAndIsDeterministicOnVulkan() => LargeMatMulOn(Target.Vulkan);

    /// <summary>The large product matches the reference, and two runs (on one and two CPU threads;
    /// the count does not matter on Vulkan) give the same bits.</summary>
    static void LargeMatMulOn(Target target)
    {
        using var _ = target.Use();
        var (a, b, e) = Large.Value;
        var p = P(new[] { 0 }, new[] { 0 });
        Tensor r1, r2;
        using (Config.UseThreads(1)) r1 = target.Run(Prims.DotGeneral, p, a, b)[0];
        using (Config.UseThreads(2)) r2 = target.Run(Prims.DotGeneral, p, a, b)[0];
        Check.Close(e, r1, 1e-5, Atol(300), $"large {target}");
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void FewColumnProductsAreThreadDeterministic(Isa isa)
    {
        // A classifier head's shapes: [600 x 700] @ [700 x 12], and its weight gradient.
        using var _ = Config.UseIsa(isa);
        var a = TestData.Tensor(51, new[] { 600, 700 });
        var b = TestData.Tensor(52, new[] { 700, 12 });
        Tensor r1, r2, g1, g2;
        using (Config.UseThreads(1)) { r1 = Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0 }); g1 = Lax.DotGeneral(a, r1, new[] { 0 }, new[] { 0 }); }
        using (Config.UseThreads(2)) { r2 = Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0 }); g2 = Lax.DotGeneral(a, r1, new[] { 0 }, new[] { 0 }); }
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
        Assert.Equal(g1.ToBytes(), g2.ToBytes());
        Check.Close(Ref.Eval(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), RefArray.From(a), RefArray.From(b))[0], r1, 1e-5, Atol(700), "head");
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void BatchDimsInOddPositions(Isa isa) => BatchDimsInOddPositionsOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void BatchDimsInOddPositionsOnVulkan() => BatchDimsInOddPositionsOn(Target.Vulkan);

    static void BatchDimsInOddPositionsOn(Target target)
    {
        using var _ = target.Use();
        // lhs (4, 2, 5, 3): batch (3, 1), contracting 2; rhs (5, 3, 6, 2): batch (1, 3), contracting 0.
        var a = TestData.Tensor(3, new[] { 4, 2, 5, 3 });
        var b = TestData.Tensor(4, new[] { 5, 3, 6, 2 });
        target.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 0 }, new[] { 3, 1 }, new[] { 1, 3 }), new[] { a, b }, 1e-5, Atol(5));
        // Two contracting dims in an order that does not collapse: forces the canonical copy.
        var c = TestData.Tensor(5, new[] { 3, 4, 7 });
        var d = TestData.Tensor(6, new[] { 7, 5, 3 });
        target.AgainstReference(Prims.DotGeneral, P(new[] { 2, 0 }, new[] { 0, 2 }), new[] { c, d }, 1e-5, Atol(21));
        target.AgainstReference(Prims.DotGeneral, P(new[] { 0, 2 }, new[] { 2, 0 }), new[] { c, d }, 1e-5, Atol(21));
        // Free dims split by a contracting dim (lhs (m1, k, m2)).
        var f = TestData.Tensor(7, new[] { 3, 6, 5 });
        var g = TestData.Tensor(8, new[] { 6, 4 });
        target.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { f, g }, 1e-5, Atol(6));
        // Many small batches (threads over batches), batch dim last on both.
        var h = TestData.Tensor(9, new[] { 5, 6, 37 });
        var i = TestData.Tensor(10, new[] { 6, 7, 37 });
        var pb = P(new[] { 1 }, new[] { 0 }, new[] { 2 }, new[] { 2 });
        target.AgainstReference(Prims.DotGeneral, pb, new[] { h, i }, 1e-5, Atol(6));
        Tensor r1, r2;
        using (Config.UseThreads(1)) r1 = target.Run(Prims.DotGeneral, pb, h, i)[0];
        using (Config.UseThreads(2)) r2 = target.Run(Prims.DotGeneral, pb, h, i)[0];
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
        // Vector dot (scalar result) and outer product (no contraction).
        var v = TestData.Tensor(11, new[] { 67 });
        var w = TestData.Tensor(12, new[] { 67 });
        target.AgainstReference(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }), new[] { v, w }, 1e-5, Atol(67));
        target.AgainstReference(Prims.DotGeneral, P(Array.Empty<int>(), Array.Empty<int>()), new[] { v, w }, 1e-6, 0);
        // Many batches, contiguous (a batched matmul as attention uses it).
        var q = TestData.Tensor(13, new[] { 70, 9, 5 });
        var kk = TestData.Tensor(14, new[] { 70, 11, 5 });
        target.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 2 }, new[] { 0 }, new[] { 0 }), new[] { q, kk }, 1e-5, Atol(5));
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void OtherDTypes(Isa isa) => OtherDTypesOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void OtherDTypesOnVulkan() => OtherDTypesOn(Target.Vulkan);

    static void OtherDTypesOn(Target target)
    {
        using var _ = target.Use();
        var pm = P(new[] { 1 }, new[] { 0 });
        // int32: exact (wrapping).
        var ia = TestData.Tensor(20, new[] { 19, 23 }, DType.Int32);
        var ib = TestData.Tensor(21, new[] { 23, 11 }, DType.Int32);
        target.AgainstReference(Prims.DotGeneral, pm, new[] { ia, ib });
        var big = target.Put(Tensor.FromArray(new[] { int.MaxValue, 2 }, 1, 2), Tensor.FromArray(new[] { 2, 3 }, 2, 1));
        Assert.Equal(unchecked(int.MaxValue * 2 + 6), Lax.DotGeneral(big[0], big[1], new[] { 1 }, new[] { 0 }).ToArray<int>()[0]);
        target.AgainstReference(Prims.DotGeneral, P(new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 1 }),
            new[] { TestData.Tensor(22, new[] { 5, 3, 2 }, DType.Int32), TestData.Tensor(23, new[] { 5, 3 }, DType.Int32) });
        // float64 (transposed rhs, batched).
        if (target.Supports(DType.Float64))
        {
            var da = TestData.Tensor(22, new[] { 3, 17, 29 }, DType.Float64);
            var db = TestData.Tensor(23, new[] { 3, 13, 29 }, DType.Float64);
            target.AgainstReference(Prims.DotGeneral, P(new[] { 2 }, new[] { 2 }, new[] { 0 }, new[] { 0 }), new[] { da, db }, 1e-12, 1e-12);
        }
        // float16 / bfloat16 accumulate in float32, round once.
        foreach (var t in new[] { DType.Float16, DType.BFloat16 })
        {
            var ha = TestData.Tensor(24, new[] { 7, 9 }, t);
            var hb = TestData.Tensor(25, new[] { 9, 5 }, t);
            target.AgainstReference(Prims.DotGeneral, pm, new[] { ha, hb }, t == DType.Float16 ? 2e-3 : 1e-2, 0.05, $"{target} {t.Name()}");
            target.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, pref: DType.Float32), new[] { ha, hb }, 1e-5, 1e-4, $"{target} {t.Name()}->f32");
        }
        // preferred_element_type on int32 and float32.
        target.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, pref: DType.Float32), new[] { ia, ib }, 1e-6, 0);
        if (target.Supports(DType.Float64))
        {
            var fa = TestData.Tensor(26, new[] { 5, 8 });
            var fb = TestData.Tensor(27, new[] { 8, 4 });
            target.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, pref: DType.Float64), new[] { fa, fb }, 1e-12, 1e-12);
            Assert.Equal(DType.Float64, target.Run(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }, pref: DType.Float64), fa, fb)[0].DType);
        }
    }

    [Fact]
    public void NaNAndInfPropagate() => NaNAndInfPropagateOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void NaNAndInfPropagateOnVulkan() => NaNAndInfPropagateOn(Target.Vulkan);

    static void NaNAndInfPropagateOn(Target target)
    {
        using var _ = target.Use();
        var a = Tensor.FromArray(new[] { float.NaN, 1f, 2f, 3f }, 2, 2);
        var b = Tensor.FromArray(new[] { 1f, 2f, float.PositiveInfinity, 4f }, 2, 2);
        target.AgainstReference(Prims.DotGeneral, P(new[] { 1 }, new[] { 0 }), new[] { a, b });
    }

    [Fact]
    public void BadInputsThrow()
    {
        var a = TestData.Tensor(1, new[] { 2, 3 });
        var b = TestData.Tensor(2, new[] { 4, 5 });
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0 }), "dot_general", "contracting dimension sizes must match", "(2, 3)", "(4, 5)");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, new[] { 1 }, new[] { 0, 1 }), "dot_general", "same number of contracting");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, new[] { 2 }, new[] { 0 }), "dot_general", "out of range");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, new[] { -1 }, new[] { 0 }), "dot_general", "out of range");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, a, new[] { 1 }, new[] { 1 }, new[] { 1 }, new[] { 0 }), "dot_general", "more than once");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, Array.Empty<int>(), Array.Empty<int>(), new[] { 0 }, new[] { 0 }), "dot_general", "batch dimension sizes must match");
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, b, Array.Empty<int>(), Array.Empty<int>(), new[] { 0 }, Array.Empty<int>()), "dot_general", "same number of batch");
        var i = TestData.Tensor(3, new[] { 3, 4 }, DType.Int32);
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, i, new[] { 1 }, new[] { 0 }), "dot_general", "dtypes must be equal", "float32", "int32");
        var u = TestData.Tensor(4, new[] { 3, 3 }, DType.UInt32);
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(u, u, new[] { 1 }, new[] { 0 }), "dot_general", "uint32 is not supported");
        var c = TestData.Tensor(5, new[] { 3, 4 });
        Check.Throws<ArgumentException>(() => Lax.DotGeneral(a, c, new[] { 1 }, new[] { 0 }, preferredElementType: DType.Int32), "dot_general", "preferred_element_type int32");
        Check.Throws<ArgumentException>(() => Lax.Dot(TestData.Tensor(6, new[] { 2, 2, 2 }), c), "dot", "vectors or matrices");
        Check.Throws<ArgumentException>(() => Lax.Dot(a, b), "dot", "incompatible shapes");
        Check.Throws<ArgumentException>(() => Np.Matmul(a, b), "matmul", "(2, 3)", "(4, 5)");
        Check.Throws<ArgumentException>(() => Np.Matmul(Tensor.Scalar(1), b), "matmul", "at least 1-D");
        Check.Throws<ArgumentException>(() => Np.Dot(a, b), "dot", "not aligned");
        Check.Throws<ArgumentException>(() => Np.Einsum("ij,jk->ik", a, b), "einsum", "subscript 'j'");
        Check.Throws<ArgumentException>(() => Np.Einsum("ijk,jk->ik", a, b), "einsum", "name 3 dimensions");
        Check.Throws<ArgumentException>(() => Np.Einsum("...i...->i", a), "einsum", "more than one ellipsis");
        Check.Throws<ArgumentException>(() => Np.Einsum("ii->i", a), "einsum", "subscript 'i'", "size 2 and 3");
    }

    // Naive double matmul over row-major arrays: (batch, m, k) x (batch, k, n).
    static double[] Naive(double[] a, double[] b, int batch, int m, int k, int n, bool bBatched = true)
    {
        var r = new double[batch * m * n];
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += a[(t * m + i) * k + q] * b[((bBatched ? t : 0) * k + q) * n + j];
                    r[(t * m + i) * n + j] = s;
                }
        return r;
    }

    [Fact]
    public void NumpyFrontEnd()
    {
        var a = TestData.Tensor(30, new[] { 4, 5 });
        var b = TestData.Tensor(31, new[] { 5, 3 });
        var v = TestData.Tensor(32, new[] { 5 });
        var ad = a.ToDoubleArray(); var bd = b.ToDoubleArray(); var vd = v.ToDoubleArray();
        Check.Close(Naive(ad, bd, 1, 4, 5, 3), Np.Matmul(a, b).ToDoubleArray(), 1e-5, 1e-4);
        Assert.Equal(new Shape(4, 3), a.Matmul(b).Shape);
        Assert.Equal(new Shape(4, 3), a.Dot(b).Shape);
        Assert.Equal(new Shape(4, 3), Lax.Dot(a, b).Shape);
        // 1-D promotion on either side.
        Assert.Equal(new Shape(4), Np.Matmul(a, v).Shape);
        Check.Close(Naive(ad, vd, 1, 4, 5, 1), Np.Matmul(a, v).ToDoubleArray(), 1e-5, 1e-4);
        Assert.Equal(new Shape(3), Np.Matmul(v, b).Shape);
        Check.Close(Naive(vd, bd, 1, 1, 5, 3), Np.Matmul(v, b).ToDoubleArray(), 1e-5, 1e-4);
        Assert.Equal(Shape.Scalar, Np.Matmul(v, v).Shape);
        // Broadcast batch dims: (2, 1, 4, 5) @ (3, 5, 3) -> (2, 3, 4, 3); (2, 4, 5) @ (5, 3).
        var ba = TestData.Tensor(33, new[] { 2, 1, 4, 5 });
        var bb = TestData.Tensor(34, new[] { 3, 5, 3 });
        var r = Np.Matmul(ba, bb);
        Assert.Equal(new Shape(2, 3, 4, 3), r.Shape);
        var rd = r.ToDoubleArray(); var bad = ba.ToDoubleArray(); var bbd = bb.ToDoubleArray();
        for (int x = 0; x < 2; x++)
            for (int y = 0; y < 3; y++)
            {
                var e = Naive(bad[(x * 20)..(x * 20 + 20)], bbd[(y * 15)..(y * 15 + 15)], 1, 4, 5, 3);
                Check.Close(e, rd[((x * 3 + y) * 12)..((x * 3 + y) * 12 + 12)], 1e-5, 1e-4, $"batch {x},{y}");
            }
        var b3 = TestData.Tensor(35, new[] { 2, 4, 5 });
        Check.Close(Naive(b3.ToDoubleArray(), bd, 2, 4, 5, 3, bBatched: false), Np.Matmul(b3, b).ToDoubleArray(), 1e-5, 1e-4);
        Assert.Equal(new Shape(2, 4), Np.Matmul(b3, v).Shape);
        // Promotion: int32 @ float32 -> float32.
        var ia = TestData.Tensor(36, new[] { 4, 5 }, DType.Int32);
        Assert.Equal(DType.Float32, Np.Matmul(ia, b).DType);
        // numpy.dot on N-D x M-D: a[:-1] + b[:-2] + b[-1:].
        Assert.Equal(new Shape(2, 4, 2, 3), Np.Dot(b3, TestData.Tensor(37, new[] { 2, 5, 3 })).Shape);
        Assert.Equal(new Shape(4), Np.Dot(a, v).Shape);
        // vdot / inner / outer.
        double dot = 0;
        for (int i = 0; i < 5; i++) dot += vd[i] * vd[i];
        Assert.Equal(dot, Np.Vdot(v, v).ToDoubleArray()[0], 4);
        Assert.Equal(dot, Np.Inner(v, v).ToDoubleArray()[0], 4);
        Assert.Equal(new Shape(4, 4), Np.Inner(a, a).Shape);
        var o = Np.Outer(v, TestData.Tensor(38, new[] { 2, 2 }));
        Assert.Equal(new Shape(5, 4), o.Shape);
    }

    [Fact]
    public void EinsumCommonCases()
    {
        var a = TestData.Tensor(40, new[] { 4, 5 });
        var b = TestData.Tensor(41, new[] { 5, 3 });
        var bt = TestData.Tensor(42, new[] { 3, 5 });
        var ad = a.ToDoubleArray(); var bd = b.ToDoubleArray();
        Check.Close(Naive(ad, bd, 1, 4, 5, 3), Np.Einsum("ij,jk->ik", a, b).ToDoubleArray(), 1e-5, 1e-4);
        Check.Close(Naive(ad, bd, 1, 4, 5, 3), Np.Einsum("ij,jk", a, b).ToDoubleArray(), 1e-5, 1e-4);
        // Transposed rhs, and the output order produced by swapping operands.
        Check.Close(Lax.DotGeneral(a, bt, new[] { 1 }, new[] { 1 }).ToDoubleArray(), Np.Einsum("ij,kj->ik", a, bt).ToDoubleArray(), 1e-6, 0);
        Assert.Same(bt, Np.Einsum("kj->kj", bt));
        Assert.Equal(new Shape(3, 4), Np.Einsum("ij,kj->ki", a, bt).Shape);
        // Output orders that need a transpose: "ij,kj->ikj" is a[i,j] * bt[k,j] (j kept, nothing summed).
        var ikj = Np.Einsum("ij,kj->ikj", a, bt);
        var av = a.ToDoubleArray(); var bv = bt.ToDoubleArray();
        int I = a.Shape[0], J = a.Shape[1], K = bt.Shape[0];
        var expect = new double[I * K * J];
        for (int i = 0; i < I; i++) for (int k = 0; k < K; k++) for (int j = 0; j < J; j++) expect[(i * K + k) * J + j] = av[i * J + j] * bv[k * J + j];
        Check.Close(expect, ikj.ToDoubleArray(), 1e-6, 0);
        Check.Close(a.T.ToDoubleArray(), Np.Einsum("ij->ji", a).ToDoubleArray());
        Check.Close(Lax.DotGeneral(bt, a, new[] { 1 }, new[] { 1 }).ToDoubleArray(), Np.Einsum("ij,kj->ki", a, bt).ToDoubleArray(), 1e-6, 0);
        // Batched: bij,bjk->bik.
        var x = TestData.Tensor(43, new[] { 3, 4, 5 });
        var y = TestData.Tensor(44, new[] { 3, 5, 2 });
        Check.Close(Naive(x.ToDoubleArray(), y.ToDoubleArray(), 3, 4, 5, 2), Np.Einsum("bij,bjk->bik", x, y).ToDoubleArray(), 1e-5, 1e-4);
        // Full contraction, summed-away free axis, outer product.
        Check.Close(new[] { ad.Zip(ad, (p, q) => p * q).Sum() }, Np.Einsum("ij,ij->", a, a).ToDoubleArray(), 1e-5, 1e-4);
        var rowSums = Enumerable.Range(0, 4).Select(i => ad.Skip(i * 5).Take(5).Sum() * bd.Sum()).ToArray();
        Check.Close(rowSums, Np.Einsum("ij,kl->i", a, b).ToDoubleArray(), 1e-5, 1e-3);
        Assert.Equal(new Shape(4, 5, 5, 3), Np.Einsum("ij,kl->ijkl", a, b).Shape);
    }
}
