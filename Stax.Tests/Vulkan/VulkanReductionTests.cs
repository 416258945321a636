using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>Vulkan-only reduction checks (the shared suite is Conformance.ReductionTests).</summary>
[Trait("Backend", "Vulkan")]
[Collection(VulkanCountersCollection.Name)] // sets process-wide switches or counts backend work
public class VulkanReductionTests
{
    static readonly Primitive[] Reducers = Conformance.ReductionTests.Reducers;

    static double SumTol(Tensor x, DType t)
    {
        double mag = x.ToDoubleArray().Where(double.IsFinite).Sum(Math.Abs);
        return t.IsFloat() ? 2e-6 * mag + 1e-6 : 0;
    }

    static void CheckReduce(Primitive p, Tensor x, int[] axes, string ctx)
    {
        var dt = x.DType;
        double rtol = p == Prims.ReduceProd && dt == DType.Float32 ? 1e-5
            : VulkanCheck.Half16.Contains(dt) && (p == Prims.ReduceProd || p == Prims.ReduceSum) ? VulkanCheck.Rtol(dt, 0) : 0;
        double atol = p == Prims.ReduceSum && dt.IsFloat() ? SumTol(x, dt) : 0;
        VulkanCheck.AgainstReference(p, new ReduceParams(axes), new[] { x }, rtol, atol, $"{ctx} {p.Name} {x.Aval} axes {Shape.Format(axes)}");
    }

    /// <summary>Workgroup reductions combined with subgroup arithmetic and with the shared-memory
    /// tree agree with each other and the reference, and each is deterministic.</summary>
    [VulkanFact]
    public void SubgroupAndTreeCombiningAgree()
    {
        var vk = VulkanCheck.Vk;
        if (vk.Capabilities.DeviceName.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase))
            Assert.True(vk.Capabilities.SubgroupArithmetic, "lavapipe reports subgroup arithmetic, so CI runs both paths");
        bool saved = Stax.Vulkan.VulkanBackend.UseSubgroupReduce;
        try
        {
            int seed = 700;
            // r > 256 with few outputs: one workgroup per output (MODE 0).
            foreach (var (shape, axes) in new[] { (new[] { 70001 }, new[] { 0 }), (new[] { 3, 5000 }, new[] { 1 }), (new[] { 2, 700 }, new[] { 1 }), (new[] { 600, 3 }, new[] { 0 }), (new[] { 257 }, new[] { 0 }) })
                foreach (var dt in new[] { DType.Float32, DType.Int32, DType.UInt32, DType.UInt8, DType.Float16 })
                    foreach (var p in Reducers)
                    {
                        if (dt == DType.Float16 && p == Prims.ReduceSum) continue;   // overflows float16
                        var x = p == Prims.ReduceProd && dt.IsFloat() ? TestData.Tensor(seed++, shape, dt, 0.999, 1.001) : TestData.Tensor(seed++, shape, dt, specials: p != Prims.ReduceProd);
                        var v = VulkanCheck.Put(x)[0];
                        var results = new List<Tensor>();
                        foreach (bool sg in new[] { true, false })
                        {
                            Stax.Vulkan.VulkanBackend.UseSubgroupReduce = sg;
                            if (p == Prims.ReduceProd && dt == DType.Float32)   // up to 70001 float32 roundings
                                VulkanCheck.AgainstReference(p, new ReduceParams(axes), new[] { x }, 1e-4, 0, $"subgroups={sg} {p.Name} {x.Aval}");
                            else CheckReduce(p, x, axes, $"subgroups={sg}");
                            var a = p.Bind1(new ReduceParams(axes), v);
                            Assert.Equal(a.ToBytes(), p.Bind1(new ReduceParams(axes), v).ToBytes());
                            results.Add(a);
                        }
                        var ctx = $"{p.Name} {x.Aval}: subgroup vs tree";
                        if (!dt.IsFloat() || p == Prims.ReduceMax || p == Prims.ReduceMin) Assert.True(results[0].ToBytes().SequenceEqual(results[1].ToBytes()), ctx);
                        else Check.Close(results[1].ToDoubleArray(), results[0].ToDoubleArray(), dt == DType.Float32 ? 1e-5 : 2e-3, SumTol(x, DType.Float32), ctx);
                    }
        }
        finally { Stax.Vulkan.VulkanBackend.UseSubgroupReduce = saved; }
    }
}
