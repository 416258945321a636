using Silk.NET.Vulkan;

namespace Stax.Vulkan;

/// <summary>Points a descriptor set's storage-buffer bindings 0..n-1 at the given buffer ranges
/// (every kernel's layout is n storage buffers, in binding order).</summary>
internal static unsafe class DescriptorWrites
{
    public static void StorageBuffers(VulkanContext ctx, DescriptorSet set, ReadOnlySpan<Binding> bindings)
    {
        var infos = stackalloc DescriptorBufferInfo[bindings.Length];
        var writes = stackalloc WriteDescriptorSet[bindings.Length];
        for (int i = 0; i < bindings.Length; i++)
        {
            infos[i] = new DescriptorBufferInfo(bindings[i].Buffer, bindings[i].Offset, bindings[i].Range);
            writes[i] = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet,
                DstSet = set,
                DstBinding = (uint)i,
                DescriptorCount = 1,
                DescriptorType = DescriptorType.StorageBuffer,
                PBufferInfo = &infos[i],
            };
        }
        ctx.Vk.UpdateDescriptorSets(ctx.Device, (uint)bindings.Length, writes, 0, null);
    }
}
