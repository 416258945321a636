namespace Stax.Vulkan;

/// <summary>A primitive's implementation: records dispatches that fill the pre-allocated outputs.</summary>
internal delegate void VulkanKernel(VulkanBackend b, Params p, VulkanBuffer[] ins, VulkanBuffer[] outs, AbstractValue[] inTypes, AbstractValue[] outTypes);

public sealed partial class VulkanBackend
{
    static readonly Dictionary<Primitive, VulkanKernel> Kernels = new();

    static VulkanBackend()
    {
        RegisterElementwise();
        RegisterMovement();
        RegisterReduction();
        RegisterDot();
        RegisterWindow();
        RegisterConv();
        RegisterIndexing();
        RegisterSorting();
    }

    static partial void RegisterElementwise();
    static partial void RegisterMovement();
    static partial void RegisterReduction();
    static partial void RegisterDot();
    static partial void RegisterWindow();
    static partial void RegisterConv();
    static partial void RegisterIndexing();
    static partial void RegisterSorting();

    /// <summary>The primitives this backend has kernels for (reshape included).</summary>
    public static IReadOnlyCollection<string> SupportedPrimitives => Kernels.Keys.Select(k => k.Name).Append(Prims.Reshape.Name).ToArray();

    /// <summary>Records one dispatch of <paramref name="shader"/> over <paramref name="invocations"/> invocations (1D, 256 per group).</summary>
    internal void Run(string shader, int[] spec, VulkanBuffer?[] buffers, ReadOnlySpan<int> push, long invocations)
    {
        if (invocations <= 0) return;
        long groups = (invocations + 255) / 256;
        uint gx = (uint)Math.Min(groups, 65535);
        uint gy = (uint)((groups + gx - 1) / gx);
        Run(shader, spec, buffers, push, gx, gy, 1);
    }

    /// <summary>Records one dispatch with an explicit workgroup grid.</summary>
    internal void Run(string shader, int[] spec, VulkanBuffer?[] buffers, ReadOnlySpan<int> push, uint gx, uint gy, uint gz)
    {
        var k = Pipelines.Get(shader, buffers.Length, spec);
        Span<Binding> bind = stackalloc Binding[buffers.Length];
        for (int i = 0; i < buffers.Length; i++) bind[i] = Bind(buffers[i]);
        long serial = Stream.Dispatch(k, bind, System.Runtime.InteropServices.MemoryMarshal.AsBytes(push), gx, gy, gz);
        foreach (var b in buffers) if (b != null) b.LastUse = serial;
    }

    /// <summary>Row-major strides of a shape.</summary>
    internal static long[] Strides(Shape s)
    {
        var st = new long[s.Rank];
        long acc = 1;
        for (int d = s.Rank - 1; d >= 0; d--) { st[d] = acc; acc *= s[d]; }
        return st;
    }
}
