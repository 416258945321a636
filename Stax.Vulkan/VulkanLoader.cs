using System.Runtime.InteropServices;
using Silk.NET.Core.Contexts;

namespace Stax.Vulkan;

/// <summary>
/// Finds Vulkan entry points in the system's loader library with <see cref="NativeLibrary"/>.
/// Silk.NET's own resolver (<c>Vk.GetApi()</c>) probes assembly locations and dependency files,
/// which single-file and NativeAOT apps do not have (the compiler flags it as IL3000/IL3002);
/// the loader is a system library found by name, so none of that is needed.
/// </summary>
internal sealed class VulkanLoader : INativeContext
{
    readonly nint _library;

    static readonly string[] Names = OperatingSystem.IsWindows() ? new[] { "vulkan-1.dll" }
        : OperatingSystem.IsMacOS() ? new[] { "libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib" }
        : new[] { "libvulkan.so.1", "libvulkan.so" };

    VulkanLoader(nint library) => _library = library;

    /// <summary>Loads the loader library, or throws <see cref="DllNotFoundException"/> naming what was tried.</summary>
    public static VulkanLoader Load()
    {
        foreach (var name in Names)
            if (NativeLibrary.TryLoad(name, out var handle)) return new VulkanLoader(handle);
        throw new DllNotFoundException($"none of {string.Join(", ", Names)} could be loaded");
    }

    /// <inheritdoc/>
    public nint GetProcAddress(string proc, int? slot = null)
        => TryGetProcAddress(proc, out var address, slot) ? address : throw new EntryPointNotFoundException($"Vulkan loader: no entry point '{proc}'");

    /// <inheritdoc/>
    public bool TryGetProcAddress(string proc, out nint address, int? slot = null) => NativeLibrary.TryGetExport(_library, proc, out address);

    /// <summary>The loader stays loaded for the life of the process (Vulkan objects may outlive any one context).</summary>
    public void Dispose() { }
}
