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
}
