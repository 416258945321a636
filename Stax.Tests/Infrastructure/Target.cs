using Stax.Tests.Vulkan;

namespace Stax.Tests.Infrastructure;

/// <summary>
/// A backend a conformance suite runs on: the CPU backend on one SIMD path, or Vulkan. A suite
/// writes each case table and test body once, taking a <see cref="Target"/>; a CPU theory passes
/// <see cref="Cpu"/> for every ISA and a <c>[VulkanFact]</c> with the <c>Backend=Vulkan</c> trait
/// passes <see cref="Vulkan"/> (so it skips without a driver, as the other Vulkan tests do).
/// </summary>
public sealed class Target
{
    readonly Isa? _isa;

    Target(Isa? isa) => _isa = isa;

    /// <summary>The CPU backend with its kernels on <paramref name="isa"/>.</summary>
    public static Target Cpu(Isa isa) => new(isa);

    /// <summary>The shared Vulkan backend (inputs are moved there; results must stay there).</summary>
    public static Target Vulkan { get; } = new(null);

    /// <summary>True for the Vulkan target.</summary>
    public bool IsVulkan => _isa is null;

    /// <summary>The ISA name, or "vulkan"; used in failure contexts.</summary>
    public override string ToString() => _isa?.ToString() ?? "vulkan";

    /// <summary>Selects the target's ISA for the current flow until disposed (nothing for Vulkan).</summary>
    public IDisposable Use() => _isa is { } i ? Config.UseIsa(i) : NoScope.Instance;

    /// <summary>Whether the backend stores <paramref name="dtype"/> (Vulkan has no float64).</summary>
    public bool Supports(DType dtype) => !IsVulkan || VulkanCheck.Vk.Supports(dtype);

    /// <summary>The dtypes of <paramref name="dtypes"/> this backend supports, in order.</summary>
    public IEnumerable<DType> Only(params DType[] dtypes) => dtypes.Where(Supports);

    /// <summary>Host-made tensors moved to the backend (unchanged for the CPU).</summary>
    public Tensor[] Put(params Tensor[] xs) => IsVulkan ? VulkanCheck.Put(xs) : xs;

    /// <summary>One host-made tensor moved to the backend.</summary>
    public Tensor Put(Tensor x) => Put(new[] { x })[0];

    /// <summary>Binds <paramref name="p"/> on the backend's copies of <paramref name="inputs"/>; on
    /// Vulkan the results must live on Vulkan (no silent fallback to the CPU).</summary>
    public Tensor[] Run(Primitive p, Params parameters, params Tensor[] inputs)
    {
        var r = p.Bind(parameters, Put(inputs));
        if (IsVulkan)
            foreach (var t in r) Assert.Same(VulkanCheck.Vk, t.Backend);
        return r;
    }

    /// <summary>Runs <paramref name="p"/> on the backend and compares with the reference evaluator.</summary>
    public void AgainstReference(Primitive p, Params parameters, Tensor[] inputs, double rtol = 0, double atol = 0, string? context = null)
    {
        if (IsVulkan) VulkanCheck.AgainstReference(p, parameters, inputs, rtol, atol, context);
        else Check.AgainstReference(p, parameters, inputs, rtol, atol, context);
    }

    /// <summary>For float16/bfloat16 on Vulkan, also compares with the CPU backend bit for bit (the
    /// reference computes in float64, so only this shows that Vulkan rounds like the CPU).</summary>
    public void AgainstCpuIfHalfOnVulkan(Primitive p, Params parameters, Tensor[] inputs, DType dtype, string? context = null)
    {
        if (IsVulkan && VulkanCheck.Half16.Contains(dtype))
            VulkanCheck.AgainstCpu(p, parameters, inputs, context: context);
    }

    sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();
        public void Dispose() { }
    }
}
