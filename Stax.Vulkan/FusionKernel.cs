using System.Runtime.InteropServices;

namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    /// <summary>Records one dispatch of shaders/fused.comp computing a fused chain's outputs (float32, one element per invocation).</summary>
    internal void RunFused(FusedChainParams p, VulkanBuffer[] ins, VulkanBuffer[] outs)
    {
        long n = outs[0].Length;
        var program = (VulkanBuffer)Upload(MemoryMarshal.AsBytes(p.Program.AsSpan()), DType.UInt32);
        var buffers = new VulkanBuffer?[FusionPass.Bindings];
        for (int i = 0; i < outs.Length; i++) buffers[i] = outs[i];
        for (int i = 0; i < ins.Length; i++) buffers[4 + i] = ins[i];
        buffers[FusionPass.Bindings - 1] = program;
        Run("fused", Array.Empty<int>(), buffers, stackalloc int[] { checked((int)n) }, n);
        program.Dispose();
    }
}
