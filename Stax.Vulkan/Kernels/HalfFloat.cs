namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    /// <summary>
    /// Primitives whose kernels handle float16/bfloat16 buffers themselves: data movement moves the
    /// 16-bit patterns unchanged (packed copies, or 32-bit words holding the zero-extended bits),
    /// conversion/bitcast/iota/select read and write 16-bit elements directly, and sort/top_k compare
    /// float32 keys but move the original bits. Every other primitive computes float16/bfloat16
    /// operands in float32 and rounds its results to nearest even, as the CPU backend does
    /// (<see cref="ExecuteWidened"/>).
    /// </summary>
    static readonly HashSet<Primitive> Native16 = new()
    {
        Prims.ConvertElementType, Prims.BitcastConvertType, Prims.Iota, Prims.Select,
        Prims.BroadcastInDim, Prims.Transpose, Prims.Slice, Prims.Rev, Prims.Concatenate, Prims.Pad,
        Prims.Gather, Prims.DynamicSlice, Prims.DynamicUpdateSlice, Prims.Scatter, Prims.Sort, Prims.TopK,
    };

    /// <summary>True for float16 and bfloat16.</summary>
    internal static bool Is16BitFloat(DType t) => t is DType.Float16 or DType.BFloat16;

    /// <summary>
    /// Runs <paramref name="kernel"/> with every float16/bfloat16 operand widened (exactly) to a
    /// float32 scratch buffer and every float16/bfloat16 result computed into float32 scratch and then
    /// narrowed into <paramref name="outs"/> with round-to-nearest-even. The scratch buffers come
    /// from the pool and are released once recorded (the pool reuses them after the queue passes them).
    /// </summary>
    void ExecuteWidened(VulkanKernel kernel, Params parameters, VulkanBuffer[] ins, VulkanBuffer[] outs,
        AbstractValue[] inTypes, AbstractValue[] outTypes)
    {
        var wins = new VulkanBuffer[ins.Length];
        var wit = new AbstractValue[inTypes.Length];
        var wouts = new VulkanBuffer[outs.Length];
        var wot = new AbstractValue[outTypes.Length];
        try
        {
            for (int i = 0; i < ins.Length; i++)
            {
                bool w = Is16BitFloat(ins[i].DType);
                wins[i] = w ? Convert(ins[i], DType.Float32) : ins[i];
                wit[i] = w ? inTypes[i] with { DType = DType.Float32 } : inTypes[i];
            }
            for (int i = 0; i < outs.Length; i++)
            {
                bool w = Is16BitFloat(outs[i].DType);
                wouts[i] = w ? Allocate(DType.Float32, outs[i].Length) : outs[i];
                wot[i] = w ? outTypes[i] with { DType = DType.Float32 } : outTypes[i];
            }
            kernel(this, parameters, wins, wouts, wit, wot);
            for (int i = 0; i < outs.Length; i++)
                if (!ReferenceEquals(wouts[i], outs[i])) Elementwise(OpConvert, DType.Float32, outs[i], wouts[i]);
        }
        finally
        {
            for (int i = 0; i < ins.Length; i++)
                if (wins[i] != null && !ReferenceEquals(wins[i], ins[i])) wins[i].Dispose();
            for (int i = 0; i < outs.Length; i++)
                if (wouts[i] != null && !ReferenceEquals(wouts[i], outs[i])) wouts[i].Dispose();
        }
    }

    /// <summary>
    /// A 32-bit copy of <paramref name="x"/> for kernels that move whole words: uint8/bool values
    /// zero-extended, float16/bfloat16 bit patterns zero-extended (the input itself when 32-bit).
    /// </summary>
    VulkanBuffer WidenBits(VulkanBuffer x, out bool owned)
    {
        owned = x.DType.SizeOf() != 4;
        if (!owned) return x;
        var r = Allocate(DType.UInt32, x.Length);
        Elementwise(Is16BitFloat(x.DType) ? OpBitcast : OpConvert, x.DType, r, x);
        return r;
    }

    /// <summary>Writes the working-dtype result <paramref name="res"/> into <paramref name="output"/>:
    /// the low 16 bits for float16/bfloat16 (their bits were widened), else a conversion.</summary>
    void Narrow(VulkanBuffer res, VulkanBuffer output)
        => Elementwise(Is16BitFloat(output.DType) ? OpBitcast : OpConvert, res.DType, output, res);

    /// <summary>A float32 copy of a float16/bfloat16 sort key (exact); other keys as <see cref="Widen"/>.</summary>
    VulkanBuffer WidenKey(VulkanBuffer x, out bool owned)
    {
        if (!Is16BitFloat(x.DType)) return Widen(x, out owned);
        owned = true;
        return Convert(x, DType.Float32);
    }
}
