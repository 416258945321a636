using System.Reflection;
using System.Runtime.InteropServices;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace Stax.Vulkan;

/// <summary>A compute pipeline and the layout it was made with.</summary>
internal sealed class Kernel(string shader, Pipeline pipeline, PipelineLayout layout, DescriptorSetLayout setLayout, int bindings)
{
    public readonly string Shader = shader;
    public readonly Pipeline Pipeline = pipeline;
    public readonly PipelineLayout Layout = layout;
    public readonly DescriptorSetLayout SetLayout = setLayout;
    public readonly int Bindings = bindings;
}

/// <summary>
/// Shader modules (SPIR-V embedded in this assembly) and a pipeline cache keyed by (shader,
/// specialization constants). Every shader uses one descriptor set of storage buffers at
/// bindings 0..n-1 and up to <see cref="PushBytes"/> bytes of push constants.
/// </summary>
internal sealed unsafe class Pipelines : IDisposable
{
    public const int PushBytes = 128;
    readonly VulkanContext _ctx;
    readonly Dictionary<string, ShaderModule> _modules = new();
    readonly Dictionary<int, (DescriptorSetLayout Set, PipelineLayout Layout)> _layouts = new();
    readonly Dictionary<string, Kernel> _kernels = new();
    readonly Dictionary<string, IReadOnlyList<string>> _applied = new();
    readonly object _gate = new();

    public Pipelines(VulkanContext ctx) => _ctx = ctx;

    /// <summary>Number of distinct pipelines created so far.</summary>
    public int Count { get { lock (_gate) return _kernels.Count; } }

    long _createTicks;
    readonly Dictionary<string, (int Count, long Ticks)> _created = new();

    /// <summary>Time spent in vkCreateComputePipelines so far (the driver compiles the shader there).</summary>
    public TimeSpan CreationTime => TimeSpan.FromTicks(Interlocked.Read(ref _createTicks));

    /// <summary>
    /// Pipelines created so far for <paramref name="shader"/> (one per distinct specialization) and the time their
    /// creation took.
    /// </summary>
    public (int Count, TimeSpan Time) Created(string shader)
    {
        lock (_gate)
        {
            var (n, t) = _created.GetValueOrDefault(shader);
            return (n, TimeSpan.FromTicks(t));
        }
    }

    /// <summary>The float-control modes added to <paramref name="shader"/>'s module (creating it if needed).</summary>
    public IReadOnlyList<string> AppliedFloatControls(string shader)
    {
        lock (_gate)
        {
            Module(shader);
            return _applied[shader];
        }
    }

    /// <summary>The SPIR-V of a shader, from the embedded resources.</summary>
    public static byte[] LoadSpirv(string shader)
    {
        var asm = typeof(Pipelines).Assembly;
        string want = $"shaders/{shader}.spv";
        using var s = asm.GetManifestResourceStream(want)
            ?? throw new InvalidOperationException($"vulkan: shader '{shader}' is not embedded "
                                                   + $"(resources: {string.Join(", ", asm.GetManifestResourceNames())})");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    public Kernel Get(string shader, int bindings, ReadOnlySpan<int> spec)
    {
        string key = shader + "|" + string.Join(",", spec.ToArray());
        lock (_gate)
        {
            if (_kernels.TryGetValue(key, out var k)) return k;
            if (k == null)
            {
                var module = Module(shader);
                var (setLayout, layout) = Layout(bindings);
                var entries = new SpecializationMapEntry[spec.Length];
                for (int i = 0; i < spec.Length; i++) entries[i] = new SpecializationMapEntry((uint)i, (uint)(4 * i), 4);
                var data = spec.ToArray();
                var main = (byte*)SilkMarshal.StringToPtr("main");
                try
                {
                    fixed (SpecializationMapEntry* pe = entries)
                    fixed (int* pd = data)
                    {
                        var si = new SpecializationInfo
                        {
                            MapEntryCount = (uint)spec.Length, PMapEntries = pe, DataSize = (nuint)(4 * spec.Length), PData = pd,
                        };
                        var stage = new PipelineShaderStageCreateInfo
                        {
                            SType = StructureType.PipelineShaderStageCreateInfo,
                            Stage = ShaderStageFlags.ComputeBit,
                            Module = module,
                            PName = main,
                            PSpecializationInfo = spec.Length > 0 ? &si : null,
                        };
                        var ci = new ComputePipelineCreateInfo
                        {
                            SType = StructureType.ComputePipelineCreateInfo, Stage = stage, Layout = layout,
                        };
                        Pipeline pipe;
                        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                        VulkanException.Check(_ctx.Vk.CreateComputePipelines(_ctx.Device, default, 1, &ci, null, &pipe),
                                              $"vkCreateComputePipelines({shader})");
                        long ticks = System.Diagnostics.Stopwatch.GetElapsedTime(t0).Ticks;
                        Interlocked.Add(ref _createTicks, ticks);
                        var (n, t) = _created.GetValueOrDefault(shader);
                        _created[shader] = (n + 1, t + ticks);
                        k = new Kernel(shader, pipe, layout, setLayout, bindings);
                    }
                }
                finally { SilkMarshal.Free((nint)main); }
                _kernels[key] = k;
            }
            return k;
        }
    }

    ShaderModule Module(string shader)
    {
        if (_modules.TryGetValue(shader, out var m)) return m;
        var code = LoadSpirv(shader);
        // IEEE behaviour where the device allows it (see SpirvFloatControls); the kernels do not rely on it.
        List<string> applied = new();
        if (_ctx.RequestedFloatModes != FloatModes.None)
            code = SpirvFloatControls.Patch(code, _ctx.FloatControls, _ctx.RequestedFloatModes, out applied);
        _applied[shader] = applied;
        fixed (byte* p = code)
        {
            var ci = new ShaderModuleCreateInfo
            {
                SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)code.Length, PCode = (uint*)p,
            };
            VulkanException.Check(_ctx.Vk.CreateShaderModule(_ctx.Device, &ci, null, &m), $"vkCreateShaderModule({shader})");
        }
        _modules[shader] = m;
        return m;
    }

    (DescriptorSetLayout, PipelineLayout) Layout(int bindings)
    {
        if (_layouts.TryGetValue(bindings, out var l)) return l;
        var b = new DescriptorSetLayoutBinding[bindings];
        for (int i = 0; i < bindings; i++)
            b[i] = new DescriptorSetLayoutBinding((uint)i, DescriptorType.StorageBuffer, 1, ShaderStageFlags.ComputeBit);
        DescriptorSetLayout set;
        fixed (DescriptorSetLayoutBinding* pb = b)
        {
            var ci = new DescriptorSetLayoutCreateInfo
            {
                SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = (uint)bindings, PBindings = pb,
            };
            VulkanException.Check(_ctx.Vk.CreateDescriptorSetLayout(_ctx.Device, &ci, null, &set), "vkCreateDescriptorSetLayout");
        }
        var range = new PushConstantRange(ShaderStageFlags.ComputeBit, 0, PushBytes);
        var lci = new PipelineLayoutCreateInfo
        {
            SType = StructureType.PipelineLayoutCreateInfo,
            SetLayoutCount = 1,
            PSetLayouts = &set,
            PushConstantRangeCount = 1,
            PPushConstantRanges = &range,
        };
        PipelineLayout layout;
        VulkanException.Check(_ctx.Vk.CreatePipelineLayout(_ctx.Device, &lci, null, &layout), "vkCreatePipelineLayout");
        _layouts[bindings] = (set, layout);
        return (set, layout);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var k in _kernels.Values) _ctx.Vk.DestroyPipeline(_ctx.Device, k.Pipeline, null);
            foreach (var l in _layouts.Values)
            {
                _ctx.Vk.DestroyPipelineLayout(_ctx.Device, l.Layout, null);
                _ctx.Vk.DestroyDescriptorSetLayout(_ctx.Device, l.Set, null);
            }
            foreach (var m in _modules.Values) _ctx.Vk.DestroyShaderModule(_ctx.Device, m, null);
            _kernels.Clear(); _layouts.Clear(); _modules.Clear();
        }
    }
}
