using System.Diagnostics;
using Stax.Backends;
using Stax.Tests.Infrastructure;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>Device, memory and error behaviour of the Vulkan backend.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanBackendTests
{
    [VulkanFact]
    public void CapabilitiesPrintout()
    {
        var caps = VulkanCheck.Vk.Capabilities;
        var text = caps.ToString();
        Console.WriteLine(text);
        Assert.Contains(caps.DeviceName, text);
        Assert.Contains("maxStorageBufferRange", text);
        Assert.Contains("subgroup size", text);
        Assert.Contains("fp16", text);
        Assert.True(caps.MaxStorageBufferRange >= 1 << 27, text);
        Assert.True(caps.SubgroupSize >= 1, text);
    }

    [VulkanFact]
    public void RegisteredUnderVulkan()
    {
        VulkanBackend.Register();
        Assert.Same(VulkanCheck.Vk, BackendRegistry.Get("vulkan"));
    }

    [VulkanFact]
    public void Float64IsNotSupported()
    {
        Assert.False(VulkanCheck.Vk.Supports(DType.Float64));
        var x = Tensor.FromArray(new[] { 1.0, 2.0 });
        var ex = Assert.Throws<NotSupportedException>(() => x.DevicePut(VulkanCheck.Vk));
        Assert.Contains("float64 is not supported on Vulkan", ex.Message);
        var f = Tensor.FromArray(new[] { 1f, 2f }).DevicePut(VulkanCheck.Vk);
        var ex2 = Assert.Throws<NotSupportedException>(() => Lax.ConvertElementType(f, DType.Float64));
        Assert.Contains("float64", ex2.Message);
    }

    [VulkanFact]
    public void MixingBackendsIsAnError()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f });
        var b = a.DevicePut(VulkanCheck.Vk);
        var ex = Assert.Throws<InvalidOperationException>(() => Prims.Add.Bind(Params.None, a, b));
        Assert.Contains("cpu", ex.Message);
        Assert.Contains("vulkan", ex.Message);
        // A foreign buffer handed straight to the backend is rejected with both names.
        var ex2 = Assert.Throws<ArgumentException>(() => VulkanCheck.Vk.Download(a.Buffer!, new byte[8]));
        Assert.Contains("'cpu'", ex2.Message);
        Assert.Contains("vulkan", ex2.Message);
    }

    [VulkanFact]
    public void DisposedBufferIsAnError()
    {
        var vk = VulkanCheck.Vk;
        var buf = (VulkanBuffer)vk.Upload(new byte[16], DType.Float32);
        buf.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vk.Download(buf, new byte[16]));
    }

    [VulkanFact]
    public void UnsupportedPrimitiveNamesPrimitiveAndBackend()
    {
        // Every compute primitive has a kernel now; a control primitive reaching the backend has none.
        var vk = VulkanCheck.Vk;
        var x = Tensor.FromArray(new[] { 3f, 1f, 2f }).DevicePut(vk);
        var ex = Assert.Throws<NotSupportedException>(() => vk.Execute(Prims.Psum, new CollectiveParams("i"), new[] { x.Buffer! }, new[] { x.Aval }, new[] { x.Aval }));
        Assert.Contains("psum", ex.Message);
        Assert.Contains("Vulkan", ex.Message);
    }

    [VulkanFact]
    public void EveryComputePrimitiveHasAKernel()
    {
        var supported = Stax.Vulkan.VulkanBackend.SupportedPrimitives.ToHashSet();
        var missing = typeof(Prims).GetFields().Where(f => f.FieldType == typeof(Primitive)).Select(f => (Primitive)f.GetValue(null)!)
            .Where(p => p.Family != PrimitiveFamily.Control && p.Impl == null && !supported.Contains(p.Name)).Select(p => p.Name).ToArray();
        Assert.Empty(missing);
    }

    [VulkanFact]
    public void PoolReusesMemoryInALoop()
    {
        var vk = VulkanCheck.Vk;
        var host = Enumerable.Range(0, 100_000).Select(i => (float)i).ToArray();
        // Warm up, then the high-water mark must stay flat while buffers are allocated and freed (on a
        // GPU the pool may run ahead of the queue: it may grow by at most that much, then stays).
        for (int i = 0; i < 5; i++) Step();
        long before = vk.MemoryStats.HighWaterBytes;
        for (int i = 0; i < 200; i++) Step();
        long after = vk.MemoryStats.HighWaterBytes;
        if (vk.Pool.RunAheadBytes == 0) Assert.Equal(before, after);
        else Assert.True(after <= before + vk.Pool.RunAheadBytes + (1L << 20), $"high water grew from {before} to {after}");

        void Step()
        {
            var x = (VulkanBuffer)vk.Upload(System.Runtime.InteropServices.MemoryMarshal.AsBytes(host.AsSpan()), DType.Float32);
            var t = new AbstractValue(new Shape(host.Length), DType.Float32);
            var y = (VulkanBuffer)vk.Execute(Prims.Exp, Params.None, new Stax.Backends.DeviceBuffer[] { x }, new[] { t }, new[] { t })[0];
            x.Dispose();
            y.Dispose();
        }
    }

    [VulkanFact]
    public void BuffersWithoutDisposeAreReclaimed()
    {
        var vk = VulkanCheck.Vk;
        var x = Tensor.FromArray(new float[1 << 16]).DevicePut(vk);
        var half = Tensor.Full(new Shape(1 << 16), 0.5, backend: vk);   // scalars would be made on the default (CPU) backend
        for (int i = 0; i < 3; i++) x = Np.Exp(x) * half;
        long before = vk.MemoryStats.HighWaterBytes;
        for (int i = 0; i < 2000; i++) x = Np.Exp(x) * half;   // about 1 GB allocated in total, never disposed
        _ = x.ToArray<float>();
        // Dead buffers wait for a collection at most once per budget (on a GPU the run-ahead, also the bound
        // of the memory held by queued work).
        long bound = before + (256L << 20) + 2 * vk.Pool.RunAheadBytes;
        Assert.True(vk.MemoryStats.HighWaterBytes <= bound, $"high water grew from {before} to {vk.MemoryStats.HighWaterBytes}");
    }

    /// <summary>The committed SPIR-V must be what glslc produces from the committed GLSL. The sources
    /// are found relative to the repository (<see cref="SourceTree"/>); the test skips only when they
    /// or glslc are absent (test binaries run on a machine without the source tree).</summary>
    [ShaderSourcesFact]
    public void CommittedSpirvIsCurrent()
    {
        var shaders = Path.Combine(SourceTree.Root!, "shaders");
        var sources = Directory.GetFiles(shaders, "*.comp");
        Assert.NotEmpty(sources);
        string tmp = Path.Combine(Path.GetTempPath(), "stax-spv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmp);
        try
        {
            foreach (var src in sources)
            {
                string name = Path.GetFileNameWithoutExtension(src);
                string outFile = Path.Combine(tmp, name + ".spv");
                // The fused kernels are compiled without inlining (as Stax.Vulkan.csproj does).
                string opt = name.StartsWith("fused", StringComparison.Ordinal) ? "-O0" : "-O";
                using var p = Process.Start(new ProcessStartInfo("glslc", $"--target-env=vulkan1.1 {opt} -o \"{outFile}\" \"{src}\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, err);
                var committed = Path.Combine(shaders, "spv", name + ".spv");
                Assert.True(File.Exists(committed), $"{committed} is missing; build Stax.Vulkan with glslc and commit shaders/spv");
                Assert.True(File.ReadAllBytes(outFile).AsSpan().SequenceEqual(File.ReadAllBytes(committed)), $"{committed} is stale; rebuild Stax.Vulkan with glslc and commit it");
                // The embedded copy is the committed one.
                Assert.True(Pipelines.LoadSpirv(name).AsSpan().SequenceEqual(File.ReadAllBytes(committed)), $"embedded {name}.spv differs from {committed}");
            }
        }
        finally { Directory.Delete(tmp, true); }
    }
}

/// <summary>A fact that needs the shader sources and glslc: it skips (saying which is missing) when
/// the tests run outside the source tree or glslc is not installed, and runs everywhere else.</summary>
public sealed class ShaderSourcesFactAttribute : FactAttribute
{
    public ShaderSourcesFactAttribute()
    {
        if (SourceTree.Root == null) Skip = "the shader sources are not here (test binaries outside the source tree; set STAX_SOURCE_ROOT to check them)";
        else if (!OnPath("glslc")) Skip = "glslc is not installed: nothing to compile the shaders with (the committed SPIR-V is used as it is)";
    }

    static bool OnPath(string exe)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, exe)) || File.Exists(Path.Combine(dir, exe + ".exe"))) return true;
        return false;
    }
}
