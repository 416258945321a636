using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>The shared Vulkan backend for tests, created once; null with a reason when unavailable.</summary>
public static class VulkanTestEnv
{
    static readonly Lazy<(VulkanBackend? Backend, string Reason)> State = new(() =>
        VulkanBackend.IsAvailable(out var reason) ? (VulkanBackend.Shared, "") : (null, reason));

    /// <summary>True when STAX_REQUIRE_VULKAN=1: Vulkan tests then fail instead of skipping.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("STAX_REQUIRE_VULKAN") == "1";

    /// <summary>Why Vulkan is unavailable ("" when it is available).</summary>
    public static string Reason => State.Value.Reason;

    /// <summary>The backend; throws (failing the test) when Vulkan is unavailable.</summary>
    public static VulkanBackend Backend => State.Value.Backend
        ?? throw new InvalidOperationException($"{State.Value.Reason} (STAX_REQUIRE_VULKAN=1 makes this a failure)");

    /// <summary>The skip reason for a Vulkan test, or null to run it.</summary>
    public static string? SkipReason => State.Value.Backend != null || Required ? null : State.Value.Reason;
}

/// <summary>Vulkan tests that read backend-wide counters (submissions, live bytes) or set process-wide
/// switches (forced GEMM tiles and slices, subgroup reductions, convolution operand forms): they run
/// alone, after the parallel tests, so other classes' work does not show up in their counts and their
/// switches do not change what other tests compute (a reduction run twice must give the same bits).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VulkanCountersCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "vulkan-counters";
}

/// <summary>A fact that skips when no Vulkan driver is present (unless STAX_REQUIRE_VULKAN=1).</summary>
public sealed class VulkanFactAttribute : FactAttribute
{
    public VulkanFactAttribute()
    {
        if (VulkanTestEnv.SkipReason is { } r) Skip = r;
    }
}

/// <summary>A theory that skips when no Vulkan driver is present (unless STAX_REQUIRE_VULKAN=1).</summary>
public sealed class VulkanTheoryAttribute : TheoryAttribute
{
    public VulkanTheoryAttribute()
    {
        if (VulkanTestEnv.SkipReason is { } r) Skip = r;
    }
}

/// <summary>Runs primitives on Vulkan and compares with the reference evaluator.</summary>
public static class VulkanCheck
{
    public static VulkanBackend Vk => VulkanTestEnv.Backend;

    /// <summary>Moves host-made (CPU) tensors to Vulkan.</summary>
    public static Tensor[] Put(params Tensor[] xs) => xs.Select(x => x.DevicePut(Vk)).ToArray();

    /// <summary>Binds <paramref name="p"/> on Vulkan copies of <paramref name="inputs"/> and compares with <c>Ref.Eval</c>.</summary>
    public static void AgainstReference(Primitive p, Params parameters, Tensor[] inputs, double rtol = 0, double atol = 0, string? context = null)
    {
        var expected = Ref.Eval(p, parameters, inputs.Select(RefArray.From).ToArray());
        var actual = p.Bind(parameters, Put(inputs));
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Same(Vk, actual[i].Backend);
            Check.Close(expected[i], actual[i], rtol, atol, $"vulkan {context ?? p.Name} output {i}");
        }
    }

    /// <summary>float16 and bfloat16: the 16-bit dtypes Vulkan stores natively and computes in float32.</summary>
    public static readonly DType[] Half16 = { DType.Float16, DType.BFloat16 };

    /// <summary>The float dtypes Vulkan supports.</summary>
    public static readonly DType[] Floats = { DType.Float32, DType.Float16, DType.BFloat16 };

    /// <summary>Relative tolerance for a result rounded to float16/bfloat16 (one ulp plus the float32
    /// work), else <paramref name="r32"/>.</summary>
    public static double Rtol(DType t, double r32) => t switch { DType.Float16 => 2e-3, DType.BFloat16 => 1.6e-2, _ => r32 };

    /// <summary><paramref name="x"/> (float32 test data) rounded to <paramref name="t"/>.</summary>
    public static Tensor As(Tensor x, DType t) => x.DType == t ? x : Lax.ConvertElementType(x, t);

    /// <summary>
    /// Binds <paramref name="p"/> on the CPU backend and on Vulkan copies of <paramref name="inputs"/>
    /// and compares the outputs element by element: equal bits, any two NaNs, or (floats) at most
    /// <paramref name="ulps"/> units in the last place of the dtype apart (infinity is one ulp above
    /// the largest finite value).
    /// </summary>
    public static void AgainstCpu(Primitive p, Params parameters, Tensor[] inputs, int ulps = 0, string? context = null)
    {
        var cpu = Stax.Backends.Cpu.CpuBackend.Instance;
        var expected = p.Bind(parameters, inputs.Select(x => x.DevicePut(cpu)).ToArray());
        var actual = p.Bind(parameters, Put(inputs));
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Same(Vk, actual[i].Backend);
            SameBits(expected[i], actual[i], ulps, $"vulkan {context ?? p.Name} output {i}");
        }
    }

    /// <summary>Asserts that two tensors hold the same elements (see <see cref="AgainstCpu"/>).</summary>
    public static void SameBits(Tensor expected, Tensor actual, int ulps, string context)
    {
        Assert.Equal(expected.Aval.ToString(), actual.Aval.ToString());
        var e = expected.ToBytes();
        var a = actual.ToBytes();
        Assert.Equal(e.Length, a.Length);
        var t = expected.DType;
        int es = t.SizeOf();
        for (int k = 0; k < e.Length / es; k++)
        {
            ulong be = 0, ba = 0;
            for (int j = es - 1; j >= 0; j--) { be = be << 8 | e[k * es + j]; ba = ba << 8 | a[k * es + j]; }
            if (be == ba) continue;
            if (t.IsFloat())
            {
                int bits = es * 8;
                ulong sign = 1UL << (bits - 1), expMask = t switch { DType.Float16 => 0x7C00UL, DType.BFloat16 => 0x7F80UL, DType.Float32 => 0x7F800000UL, _ => 0x7FF0000000000000UL };
                bool IsNaN(ulong v) => (v & expMask) == expMask && (v & ~(sign | expMask)) != 0;
                if (IsNaN(be) && IsNaN(ba)) continue;
                long Ordered(ulong v) => (v & sign) != 0 ? -(long)(v & ~sign) - 1 : (long)v;   // -0 is one below +0
                if (!IsNaN(be) && !IsNaN(ba) && Math.Abs(Ordered(be) - Ordered(ba)) <= ulps) continue;
            }
            Assert.Fail($"{context}: element {k}: CPU 0x{be:X} ({expected.ToDoubleArray()[k]:R}), Vulkan 0x{ba:X} ({actual.ToDoubleArray()[k]:R}), {ulps} ulp allowed");
        }
    }
}
