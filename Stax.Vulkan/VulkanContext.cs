using System.Runtime.InteropServices;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace Stax.Vulkan;

/// <summary>
/// The Vulkan instance, the chosen physical device, its logical device and compute queue. Device
/// choice: <c>STAX_VULKAN_DEVICE</c> (an index or a case-insensitive name substring), else the
/// first discrete GPU, then integrated, virtual, CPU (lavapipe).
/// </summary>
internal sealed unsafe class VulkanContext : IDisposable
{
    public readonly Vk Vk;
    /// <summary>The float-control modes requested for every shader module (the device allowing).</summary>
    public readonly FloatModes RequestedFloatModes;
    public readonly Instance Instance;
    public readonly PhysicalDevice Physical;
    public readonly Device Device;
    public readonly Queue Queue;
    public readonly uint QueueFamily;
    public readonly VulkanCapabilities Capabilities;
    public readonly PhysicalDeviceMemoryProperties MemoryProperties;
    /// <summary>What the device allows of SPIR-V float controls (all false without them).</summary>
    public readonly FloatControlsSupport FloatControls;
    bool _disposed;

    const string FloatControlsExtension = "VK_KHR_shader_float_controls";

    public static uint MakeVersion(uint major, uint minor, uint patch) => (major << 22) | (minor << 12) | patch;
    static string VersionString(uint v) => $"{v >> 22}.{(v >> 12) & 0x3FF}.{v & 0xFFF}";

    /// <summary>Float-control modes from <c>STAX_VULKAN_FLOAT_CONTROLS</c>: unset or <c>on</c> requests
    /// SignedZeroInfNanPreserve and DenormPreserve, <c>off</c>/<c>0</c>/<c>none</c> requests none (the kernels'
    /// explicit NaN/Inf/subnormal handling alone, as on a device without float controls).</summary>
    public static FloatModes FloatModesFromEnvironment()
    {
        var v = Environment.GetEnvironmentVariable("STAX_VULKAN_FLOAT_CONTROLS")?.Trim().ToLowerInvariant();
        return v switch
        {
            null or "" or "1" or "on" => FloatModes.SignedZeroInfNanPreserve | FloatModes.DenormPreserve,
            "0" or "off" or "none" => FloatModes.None,
            _ => throw new ArgumentException($"STAX_VULKAN_FLOAT_CONTROLS={v}: expected on or off"),
        };
    }

    public VulkanContext(string? deviceSelector, FloatModes? floatModes = null)
    {
        RequestedFloatModes = floatModes ?? FloatModesFromEnvironment();
        try { Vk = new Vk(VulkanLoader.Load()); }
        catch (Exception e) when (e is FileNotFoundException or DllNotFoundException or PlatformNotSupportedException)
        {
            throw new VulkanNotAvailableException($"the Vulkan loader (libvulkan.so.1 / vulkan-1.dll) was not found ({e.Message}); on Debian install mesa-vulkan-drivers libvulkan1", e);
        }

        var appName = (byte*)SilkMarshal.StringToPtr("Stax");
        try
        {
            var app = new ApplicationInfo
            {
                SType = StructureType.ApplicationInfo,
                PApplicationName = appName,
                PEngineName = appName,
                ApiVersion = MakeVersion(1, 2, 0),
            };
            var ici = new InstanceCreateInfo { SType = StructureType.InstanceCreateInfo, PApplicationInfo = &app };
            Instance inst;
            var r = Vk.CreateInstance(&ici, null, &inst);
            if (r == Result.ErrorIncompatibleDriver)
                throw new VulkanNotAvailableException("no Vulkan driver is installed (vkCreateInstance returned VK_ERROR_INCOMPATIBLE_DRIVER); on Debian install mesa-vulkan-drivers for the software driver");
            if (r < 0) throw new VulkanNotAvailableException($"vkCreateInstance failed with {VulkanException.Name(r)}", new VulkanException(r, "vkCreateInstance"));
            Instance = inst;
        }
        finally { SilkMarshal.Free((nint)appName); }

        try
        {
            (Physical, Capabilities, QueueFamily) = ChooseDevice(deviceSelector);
            // Float controls are core in Vulkan 1.2; a 1.1 device needs the extension enabled.
            PhysicalDeviceProperties chosen;
            Vk.GetPhysicalDeviceProperties(Physical, &chosen);
            bool core = chosen.ApiVersion >= MakeVersion(1, 2, 0);
            bool ext = !core && HasExtension(Physical, FloatControlsExtension);
            FloatControls = core || ext ? QueryFloatControls(Physical) : FloatControlsSupport.Unsupported;
            // Every Stax shader computes in float32 only (16-bit floats are handled as bits).
            var plan = SpirvFloatControls.Plan(FloatControls, new[] { 32 }, RequestedFloatModes)[32];
            var applied = new List<string>();
            if ((plan & FloatModes.SignedZeroInfNanPreserve) != 0) applied.Add("SignedZeroInfNanPreserve 32");
            if ((plan & FloatModes.DenormPreserve) != 0) applied.Add("DenormPreserve 32");
            if ((plan & FloatModes.DenormFlushToZero) != 0) applied.Add("DenormFlushToZero 32");
            Capabilities = Capabilities with
            {
                FloatControls = core || ext,
                SignedZeroInfNanPreserveFloat16 = FloatControls.PreserveInfNan16,
                SignedZeroInfNanPreserveFloat32 = FloatControls.PreserveInfNan32,
                DenormPreserveFloat16 = FloatControls.DenormPreserve16,
                DenormPreserveFloat32 = FloatControls.DenormPreserve32,
                DenormFlushToZeroFloat32 = FloatControls.FlushToZero32,
                DenormBehaviorIndependence = FloatControls.DenormIndependence switch
                {
                    FloatControlsSupport.IndependenceAll => "all",
                    FloatControlsSupport.Independence32BitOnly => "32-bit only",
                    _ => "none",
                },
                AppliedFloatControls = applied.Count == 0 ? "none" : string.Join(", ", applied),
            };
            PhysicalDeviceMemoryProperties mp;
            Vk.GetPhysicalDeviceMemoryProperties(Physical, &mp);
            MemoryProperties = mp;

            float priority = 1f;
            var qci = new DeviceQueueCreateInfo
            {
                SType = StructureType.DeviceQueueCreateInfo,
                QueueFamilyIndex = QueueFamily,
                QueueCount = 1,
                PQueuePriorities = &priority,
            };
            var extName = (byte*)SilkMarshal.StringToPtr(FloatControlsExtension);
            try
            {
                var dci = new DeviceCreateInfo
                {
                    SType = StructureType.DeviceCreateInfo,
                    QueueCreateInfoCount = 1,
                    PQueueCreateInfos = &qci,
                    EnabledExtensionCount = ext ? 1u : 0u,
                    PpEnabledExtensionNames = ext ? &extName : null,
                };
                Device dev;
                VulkanException.Check(Vk.CreateDevice(Physical, &dci, null, &dev), "vkCreateDevice");
                Device = dev;
            }
            finally { SilkMarshal.Free((nint)extName); }
            Queue q;
            Vk.GetDeviceQueue(Device, QueueFamily, 0, &q);
            Queue = q;
        }
        catch
        {
            Vk.DestroyInstance(Instance, null);
            throw;
        }
    }

    (PhysicalDevice, VulkanCapabilities, uint) ChooseDevice(string? selector)
    {
        uint n = 0;
        VulkanException.Check(Vk.EnumeratePhysicalDevices(Instance, &n, null), "vkEnumeratePhysicalDevices");
        if (n == 0) throw new VulkanNotAvailableException("the Vulkan loader found no physical devices");
        var devs = new PhysicalDevice[n];
        fixed (PhysicalDevice* p = devs) VulkanException.Check(Vk.EnumeratePhysicalDevices(Instance, &n, p), "vkEnumeratePhysicalDevices");

        var candidates = new List<(int Index, PhysicalDevice Dev, VulkanCapabilities Caps, uint Family, int Rank)>();
        var rejected = new List<string>();
        for (int i = 0; i < devs.Length; i++)
        {
            PhysicalDeviceProperties props;
            Vk.GetPhysicalDeviceProperties(devs[i], &props);
            string name = SilkMarshal.PtrToString((nint)props.DeviceName) ?? "?";
            if (props.ApiVersion < MakeVersion(1, 1, 0)) { rejected.Add($"{i}: {name} (Vulkan {VersionString(props.ApiVersion)} < 1.1)"); continue; }
            int family = ComputeFamily(devs[i]);
            if (family < 0) { rejected.Add($"{i}: {name} (no compute queue)"); continue; }
            int rank = props.DeviceType switch
            {
                PhysicalDeviceType.DiscreteGpu => 0,
                PhysicalDeviceType.IntegratedGpu => 1,
                PhysicalDeviceType.VirtualGpu => 2,
                PhysicalDeviceType.Cpu => 3,
                _ => 4,
            };
            candidates.Add((i, devs[i], Describe(devs[i], i, props), (uint)family, rank));
        }
        if (candidates.Count == 0)
            throw new VulkanNotAvailableException($"no usable Vulkan 1.1 device with a compute queue ({string.Join("; ", rejected)})");

        if (!string.IsNullOrWhiteSpace(selector))
        {
            selector = selector.Trim();
            var all = string.Join(", ", candidates.Select(c => $"{c.Index}: {c.Caps.DeviceName}"));
            if (int.TryParse(selector, out int idx))
            {
                var c = candidates.FirstOrDefault(c => c.Index == idx);
                if (c.Caps == null) throw new ArgumentException($"STAX_VULKAN_DEVICE={selector}: no usable device with that index; devices: {all}");
                return (c.Dev, c.Caps, c.Family);
            }
            var m = candidates.FirstOrDefault(c => c.Caps.DeviceName.Contains(selector, StringComparison.OrdinalIgnoreCase));
            if (m.Caps == null) throw new ArgumentException($"STAX_VULKAN_DEVICE={selector}: no usable device whose name contains '{selector}'; devices: {all}");
            return (m.Dev, m.Caps, m.Family);
        }
        var best = candidates.OrderBy(c => c.Rank).ThenBy(c => c.Index).First();
        return (best.Dev, best.Caps, best.Family);
    }

    bool HasExtension(PhysicalDevice dev, string name)
    {
        uint n = 0;
        if (Vk.EnumerateDeviceExtensionProperties(dev, (byte*)null, &n, null) < 0 || n == 0) return false;
        var props = new ExtensionProperties[n];
        fixed (ExtensionProperties* p = props)
            if (Vk.EnumerateDeviceExtensionProperties(dev, (byte*)null, &n, p) < 0) return false;
        for (int i = 0; i < n; i++)
            fixed (byte* s = props[i].ExtensionName)
                if (SilkMarshal.PtrToString((nint)s) == name) return true;
        return false;
    }

    FloatControlsSupport QueryFloatControls(PhysicalDevice dev)
    {
        var fc = new PhysicalDeviceFloatControlsProperties { SType = StructureType.PhysicalDeviceFloatControlsProperties };
        var p2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = &fc };
        Vk.GetPhysicalDeviceProperties2(dev, &p2);
        return new FloatControlsSupport(
            fc.ShaderSignedZeroInfNanPreserveFloat16, fc.ShaderSignedZeroInfNanPreserveFloat32, fc.ShaderSignedZeroInfNanPreserveFloat64,
            fc.ShaderDenormPreserveFloat16, fc.ShaderDenormPreserveFloat32, fc.ShaderDenormPreserveFloat64,
            fc.ShaderDenormFlushToZeroFloat16, fc.ShaderDenormFlushToZeroFloat32, fc.ShaderDenormFlushToZeroFloat64,
            (int)fc.DenormBehaviorIndependence);
    }

    int ComputeFamily(PhysicalDevice dev)
    {
        uint n = 0;
        Vk.GetPhysicalDeviceQueueFamilyProperties(dev, &n, null);
        var fams = new QueueFamilyProperties[n];
        fixed (QueueFamilyProperties* p = fams) Vk.GetPhysicalDeviceQueueFamilyProperties(dev, &n, p);
        int any = -1;
        for (int i = 0; i < fams.Length; i++)
        {
            if ((fams[i].QueueFlags & QueueFlags.ComputeBit) == 0) continue;
            // Prefer a compute queue that is not also graphics (dedicated compute), else any.
            if ((fams[i].QueueFlags & QueueFlags.GraphicsBit) == 0) return i;
            if (any < 0) any = i;
        }
        return any;
    }

    VulkanCapabilities Describe(PhysicalDevice dev, int index, PhysicalDeviceProperties props)
    {
        bool v12 = props.ApiVersion >= MakeVersion(1, 2, 0);
        var subgroup = new PhysicalDeviceSubgroupProperties { SType = StructureType.PhysicalDeviceSubgroupProperties };
        var driver = new PhysicalDeviceDriverProperties { SType = StructureType.PhysicalDeviceDriverProperties };
        if (v12) subgroup.PNext = &driver;
        var p2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = &subgroup };
        Vk.GetPhysicalDeviceProperties2(dev, &p2);

        var f16 = new PhysicalDeviceShaderFloat16Int8Features { SType = StructureType.PhysicalDeviceShaderFloat16Int8Features };
        var s8 = new PhysicalDevice8BitStorageFeatures { SType = StructureType.PhysicalDevice8BitStorageFeatures, PNext = v12 ? &f16 : null };
        var s16 = new PhysicalDevice16BitStorageFeatures { SType = StructureType.PhysicalDevice16BitStorageFeatures, PNext = v12 ? &s8 : null };
        var f2 = new PhysicalDeviceFeatures2 { SType = StructureType.PhysicalDeviceFeatures2, PNext = &s16 };
        Vk.GetPhysicalDeviceFeatures2(dev, &f2);

        PhysicalDeviceMemoryProperties mp;
        Vk.GetPhysicalDeviceMemoryProperties(dev, &mp);
        ulong local = 0;
        for (int h = 0; h < mp.MemoryHeapCount; h++)
            if ((mp.MemoryHeaps[h].Flags & MemoryHeapFlags.DeviceLocalBit) != 0) local = Math.Max(local, mp.MemoryHeaps[h].Size);

        var lim = props.Limits;
        string driverText = v12
            ? $"{SilkMarshal.PtrToString((nint)driver.DriverName)} {SilkMarshal.PtrToString((nint)driver.DriverInfo)}".Trim()
            : "unknown";
        return new VulkanCapabilities
        {
            DeviceName = SilkMarshal.PtrToString((nint)props.DeviceName) ?? "?",
            DeviceType = props.DeviceType.ToString(),
            VendorId = props.VendorID,
            Vendor = VulkanCapabilities.VendorName(props.VendorID),
            Driver = driverText,
            DriverVersion = props.DriverVersion,
            ApiVersion = VersionString(props.ApiVersion),
            DeviceIndex = index,
            MaxStorageBufferRange = lim.MaxStorageBufferRange,
            MaxComputeSharedMemorySize = lim.MaxComputeSharedMemorySize,
            MaxComputeWorkGroupInvocations = lim.MaxComputeWorkGroupInvocations,
            MaxComputeWorkGroupCount = (lim.MaxComputeWorkGroupCount[0], lim.MaxComputeWorkGroupCount[1], lim.MaxComputeWorkGroupCount[2]),
            MaxPushConstantsSize = lim.MaxPushConstantsSize,
            MinStorageBufferOffsetAlignment = lim.MinStorageBufferOffsetAlignment,
            MaxPerStageStorageBuffers = lim.MaxPerStageDescriptorStorageBuffers,
            SubgroupSize = subgroup.SubgroupSize,
            SubgroupArithmetic = (subgroup.SupportedOperations & SubgroupFeatureFlags.ArithmeticBit) != 0
                && (subgroup.SupportedStages & ShaderStageFlags.ComputeBit) != 0,
            ShaderFloat16 = v12 && f16.ShaderFloat16,
            StorageBuffer8Bit = v12 && s8.StorageBuffer8BitAccess,
            StorageBuffer16Bit = s16.StorageBuffer16BitAccess,
            ShaderFloat64 = f2.Features.ShaderFloat64,
            UnifiedMemory = props.DeviceType is PhysicalDeviceType.Cpu or PhysicalDeviceType.IntegratedGpu && FindUnified(mp) >= 0,
            DeviceLocalBytes = local,
        };
    }

    static int FindUnified(PhysicalDeviceMemoryProperties mp)
    {
        const MemoryPropertyFlags want = MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
        for (int i = 0; i < mp.MemoryTypeCount; i++)
            if ((mp.MemoryTypes[i].PropertyFlags & want) == want) return i;
        return -1;
    }

    /// <summary>The first memory type allowed by <paramref name="typeBits"/> with all <paramref name="want"/> flags, or -1.</summary>
    public int FindMemoryType(uint typeBits, MemoryPropertyFlags want)
    {
        for (int i = 0; i < MemoryProperties.MemoryTypeCount; i++)
            if ((typeBits & (1u << i)) != 0 && (MemoryProperties.MemoryTypes[i].PropertyFlags & want) == want) return i;
        return -1;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Vk.DeviceWaitIdle(Device);
        Vk.DestroyDevice(Device, null);
        Vk.DestroyInstance(Instance, null);
    }
}
