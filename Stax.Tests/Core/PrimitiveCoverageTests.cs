using Stax.Backends;
using Stax.Backends.Cpu;
using Stax.Tests.Reference;

namespace Stax.Tests.Core;

/// <summary>
/// Every primitive is complete in every layer: a JVP rule (or a declared zero-tangent rule), a
/// batching rule, a transpose rule exactly when it is linear, a CPU kernel, a reference-evaluator
/// rule, a Vulkan kernel, and, for elementwise primitives, registry entries (fusible in float32
/// chains). A primitive added without one of them fails here, naming what is missing.
/// </summary>
public class PrimitiveCoverageTests
{
    static Primitive[] All() => typeof(Prims).GetFields().Where(f => f.FieldType == typeof(Primitive))
        .Select(f => (Primitive)f.GetValue(null)!).ToArray();

    // Primitives with an implementation of their own (programs, calls, effects) instead of kernels.
    static bool Structured(Primitive p) => p.Impl != null || p.Family == PrimitiveFamily.Control;

    // The linear primitives: JAX gives these a transpose rule (ad.deflinear / ad.primitive_transposes
    // in jax/_src/lax). mul and div are linear in one operand, select in its two branches,
    // scatter-mul in its operand.
    static readonly HashSet<string> Linear = new()
    {
        "neg", "add", "sub", "mul", "div", "select", "convert_element_type", "reduce_sum", "cumsum",
        "broadcast_in_dim", "reshape", "transpose", "slice", "pad", "concatenate", "rev", "dynamic_slice",
        "dynamic_update_slice", "gather", "scatter-add", "scatter-mul", "scatter", "dot_general", "conv_general_dilated",
        "reduce_window_sum", "select_and_scatter_add", "select_and_gather_add", "psum", "all_gather",
        "psum_scatter", "sow",
        // Call primitives transpose by transposing the program they call.
        "jit", "scan", "cond", "remat",
        // custom_lin's transpose runs the user's backward function; while's says clearly that
        // reverse mode needs a bounded loop (as JAX does).
        "custom_lin", "while",
    };

    static string Missing(Func<Primitive, bool> has, IEnumerable<Primitive> prims)
        => string.Join(", ", prims.Where(p => !has(p)).Select(p => p.Name));

    [Fact]
    public void EveryPrimitiveHasJvpAndBatchingRules()
    {
        Stax.Rules.RuleRegistry.Ensure();
        var all = All();
        // Nullary primitives (iota, axis_index) have no operand to carry a tangent or a batch
        // dimension; custom_lin only appears in linear programs, which are transposed, never
        // differentiated or batched themselves (JAX raises on its JVP as well).
        var withOperands = all.Where(p => p.Arity != 0 && p != Prims.CustomLin).ToArray();
        Assert.Equal("", Missing(p => p.Jvp != null, withOperands));
        Assert.Equal("", Missing(p => p.Batch != null, withOperands));
    }

    [Fact]
    public void TransposeRulesExistExactlyForLinearPrimitives()
    {
        Stax.Rules.RuleRegistry.Ensure();
        var all = All();
        var missing = Missing(p => p.Transpose != null, all.Where(p => Linear.Contains(p.Name)));
        Assert.True(missing == "", "linear primitives without a transpose rule: " + missing);
        var unexpected = all.Where(p => p.Transpose != null && !Linear.Contains(p.Name)).Select(p => p.Name).ToArray();
        Assert.True(unexpected.Length == 0, "transpose rules on primitives not declared linear: " + string.Join(", ", unexpected));
    }

    [Fact]
    public void EveryComputePrimitiveHasCpuAndReferenceKernels()
    {
        var compute = All().Where(p => !Structured(p)).ToArray();
        Assert.Equal("", Missing(p => CpuBackend.TryGetKernel(p, out _) || p == Prims.Reshape, compute));
        Assert.Equal("", Missing(Ref.Has, compute));
    }

    [Fact]
    public void EveryComputePrimitiveHasAVulkanKernel()
    {
        // The kernel table is static: no device is needed to check it.
        var supported = Stax.Vulkan.VulkanBackend.SupportedPrimitives.ToHashSet();
        Assert.Equal("", Missing(p => supported.Contains(p.Name), All().Where(p => !Structured(p))));
    }

    [Fact]
    public void EveryElementwisePrimitiveIsInTheRegistry()
    {
        // Unary and binary primitives with kernels come from the one registry (its own tests check
        // dtypes, fusion and op codes); select, iota and the conversions have kernels of their own.
        var own = new[] { Prims.Select, Prims.StopGradient };
        Assert.Equal("", Missing(p => ElementwiseOps.Of(p).Count > 0,
            All().Where(p => p.Family is PrimitiveFamily.Unary or PrimitiveFamily.Binary && !Structured(p) && !own.Contains(p))));
    }
}
