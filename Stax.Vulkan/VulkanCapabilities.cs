using System.Text;

namespace Stax.Vulkan;

/// <summary>What the selected Vulkan device offers; <see cref="ToString"/> prints a summary.</summary>
public sealed record VulkanCapabilities
{
    /// <summary>Device name (e.g. <c>llvmpipe (LLVM 15.0.6, 256 bits)</c>).</summary>
    public required string DeviceName { get; init; }
    /// <summary>Device type (discrete GPU, integrated GPU, CPU, ...).</summary>
    public required string DeviceType { get; init; }
    /// <summary>PCI vendor id.</summary>
    public required uint VendorId { get; init; }
    /// <summary>Vendor name when known, else the id in hex.</summary>
    public required string Vendor { get; init; }
    /// <summary>Driver name and info (Vulkan 1.2 driver properties) when reported.</summary>
    public required string Driver { get; init; }
    /// <summary>Raw driver version.</summary>
    public required uint DriverVersion { get; init; }
    /// <summary>Vulkan API version of the device, as <c>major.minor.patch</c>.</summary>
    public required string ApiVersion { get; init; }
    /// <summary>Index of the device among the physical devices.</summary>
    public required int DeviceIndex { get; init; }
    /// <summary>Largest range of one storage-buffer binding, in bytes.</summary>
    public required ulong MaxStorageBufferRange { get; init; }
    /// <summary>Largest shared (workgroup) memory, in bytes.</summary>
    public required uint MaxComputeSharedMemorySize { get; init; }
    /// <summary>Most invocations in one workgroup.</summary>
    public required uint MaxComputeWorkGroupInvocations { get; init; }
    /// <summary>Most workgroups per dispatch in x, y, z.</summary>
    public required (uint X, uint Y, uint Z) MaxComputeWorkGroupCount { get; init; }
    /// <summary>Largest push-constant block, in bytes.</summary>
    public required uint MaxPushConstantsSize { get; init; }
    /// <summary>Required alignment of storage-buffer binding offsets.</summary>
    public required ulong MinStorageBufferOffsetAlignment { get; init; }
    /// <summary>Most storage buffers one shader stage may bind.</summary>
    public required uint MaxPerStageStorageBuffers { get; init; }
    /// <summary>Subgroup (warp/wave) size.</summary>
    public required uint SubgroupSize { get; init; }
    /// <summary>True when compute shaders may use subgroup arithmetic operations.</summary>
    public required bool SubgroupArithmetic { get; init; }
    /// <summary>True when shaders may compute in float16 (shaderFloat16).</summary>
    public required bool ShaderFloat16 { get; init; }
    /// <summary>True when storage buffers may hold 8-bit values (storageBuffer8BitAccess).</summary>
    public required bool StorageBuffer8Bit { get; init; }
    /// <summary>True when storage buffers may hold 16-bit values (storageBuffer16BitAccess).</summary>
    public required bool StorageBuffer16Bit { get; init; }
    /// <summary>True when shaders may use float64 (shaderFloat64); Stax does not use it.</summary>
    public required bool ShaderFloat64 { get; init; }
    /// <summary>True when buffers live in memory that is both device-local and host-visible (no staging copies).</summary>
    public required bool UnifiedMemory { get; init; }
    /// <summary>Device-local heap size in bytes (the largest such heap).</summary>
    public required ulong DeviceLocalBytes { get; init; }
    /// <summary>True when the device reports SPIR-V float controls (Vulkan 1.2, or VK_KHR_shader_float_controls).</summary>
    public bool FloatControls { get; init; }
    /// <summary>True when shaders may request that float16 math keeps NaN, infinity and -0 (shaderSignedZeroInfNanPreserveFloat16).</summary>
    public bool SignedZeroInfNanPreserveFloat16 { get; init; }
    /// <summary>True when shaders may request that float32 math keeps NaN, infinity and -0 (shaderSignedZeroInfNanPreserveFloat32).</summary>
    public bool SignedZeroInfNanPreserveFloat32 { get; init; }
    /// <summary>True when shaders may request that float16 subnormals are kept (shaderDenormPreserveFloat16).</summary>
    public bool DenormPreserveFloat16 { get; init; }
    /// <summary>True when shaders may request that float32 subnormals are kept (shaderDenormPreserveFloat32).</summary>
    public bool DenormPreserveFloat32 { get; init; }
    /// <summary>True when shaders may request that float32 subnormals are flushed (shaderDenormFlushToZeroFloat32).</summary>
    public bool DenormFlushToZeroFloat32 { get; init; }
    /// <summary>denormBehaviorIndependence: whether denormal modes may differ per float width ("all", "32-bit only", "none").</summary>
    public string DenormBehaviorIndependence { get; init; } = "none";
    /// <summary>The float-control execution modes Stax adds to its float32 shaders on this device, e.g.
    /// <c>SignedZeroInfNanPreserve 32, DenormPreserve 32</c>, or <c>none</c>; the kernels handle NaN,
    /// infinity and subnormals explicitly either way (see the README's Vulkan section).</summary>
    public string AppliedFloatControls { get; init; } = "none";

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Vulkan device {DeviceIndex}: {DeviceName} ({DeviceType})");
        sb.AppendLine($"  vendor: {Vendor} (0x{VendorId:X4}), driver: {Driver} (version 0x{DriverVersion:X}), API {ApiVersion}");
        sb.AppendLine($"  maxStorageBufferRange: {MaxStorageBufferRange} bytes ({MaxStorageBufferRange / (1024.0 * 1024):0.#} MiB), minStorageBufferOffsetAlignment: {MinStorageBufferOffsetAlignment}");
        sb.AppendLine($"  shared memory: {MaxComputeSharedMemorySize} bytes, workgroup invocations: {MaxComputeWorkGroupInvocations}, workgroup count: {MaxComputeWorkGroupCount}");
        sb.AppendLine($"  push constants: {MaxPushConstantsSize} bytes, storage buffers per stage: {MaxPerStageStorageBuffers}");
        sb.AppendLine($"  subgroup size: {SubgroupSize} (arithmetic: {(SubgroupArithmetic ? "yes" : "no")})");
        sb.AppendLine($"  fp16 arithmetic: {(ShaderFloat16 ? "yes" : "no")}, 16-bit storage: {(StorageBuffer16Bit ? "yes" : "no")}, 8-bit storage: {(StorageBuffer8Bit ? "yes" : "no")}, fp64: {(ShaderFloat64 ? "yes" : "no")} (unused)");
        sb.AppendLine(FloatControls
            ? $"  float controls: SignedZeroInfNanPreserve f16 {YesNo(SignedZeroInfNanPreserveFloat16)}, f32 {YesNo(SignedZeroInfNanPreserveFloat32)}; DenormPreserve f16 {YesNo(DenormPreserveFloat16)}, f32 {YesNo(DenormPreserveFloat32)}; DenormFlushToZero f32 {YesNo(DenormFlushToZeroFloat32)}; denorm independence: {DenormBehaviorIndependence}; applied: {AppliedFloatControls}"
            : $"  float controls: not reported (Vulkan 1.1 without VK_KHR_shader_float_controls); applied: {AppliedFloatControls}");
        sb.Append($"  memory: {DeviceLocalBytes / (1024.0 * 1024 * 1024):0.##} GiB device-local, {(UnifiedMemory ? "unified (host-visible, no staging)" : "discrete (staging copies)")}");
        return sb.ToString();
    }

    static string YesNo(bool b) => b ? "yes" : "no";

    internal static string VendorName(uint id) => id switch
    {
        0x10DE => "NVIDIA",
        0x1002 => "AMD",
        0x8086 => "Intel",
        0x13B5 => "ARM",
        0x5143 => "Qualcomm",
        0x1010 => "Imagination",
        0x106B => "Apple",
        0x10005 => "Mesa",
        _ => $"0x{id:X}",
    };
}
