using Stax.Backends;

namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    // Op codes of shaders/elementwise.comp beyond the elementwise registry's (ElementwiseOps):
    // data movement and conversions.
    const int OpSelect = 64, OpConvert = 65, OpIota = 66, OpBitcast = 67;

    /// <summary>Records an elementwise dispatch writing <paramref name="output"/>.</summary>
    internal void Elementwise(int op, DType dt, VulkanBuffer output, VulkanBuffer? a, VulkanBuffer? b = null, VulkanBuffer? c = null, int p0 = 0, int p1 = 0)
    {
        long n = output.Length;
        if (n == 0) return;
        int epw = 4 / output.DType.SizeOf();
        Run("elementwise", new[] { op, (int)dt, (int)output.DType }, new[] { output, a ?? output, b ?? a ?? output, c ?? a ?? output },
            stackalloc int[] { checked((int)n), p0, p1 }, (n + epw - 1) / epw);
    }

    /// <summary>A new buffer holding <paramref name="x"/> converted to <paramref name="to"/>.</summary>
    internal VulkanBuffer Convert(VulkanBuffer x, DType to)
    {
        var r = Allocate(to, x.Length);
        Elementwise(OpConvert, x.DType, r, x);
        return r;
    }

    static partial void RegisterElementwise()
    {
        // Every elementwise primitive's op code comes from the registry; a primitive with
        // several entries (round's tie rules) picks by its parameters.
        foreach (var prim in ElementwiseOps.Primitives)
        {
            var ops = ElementwiseOps.Of(prim);
            bool unary = ops[0].Arity is ElementwiseArity.Unary or ElementwiseArity.Predicate;
            Kernels[prim] = (b, p, ins, outs, it, ot) =>
            {
                var op = ops.Count == 1 ? ops[0] : ElementwiseOps.Find(prim, p)
                    ?? throw new NotSupportedException($"vulkan: {prim.Name} has no operator for parameters {p}");
                if (unary) b.Elementwise(op.VulkanOp, ins[0].DType, outs[0], ins[0]);
                else b.Elementwise(op.VulkanOp, ins[0].DType, outs[0], ins[0], ins[1]);
            };
        }
        Kernels[Prims.Select] = (b, p, ins, outs, it, ot) => b.Elementwise(OpSelect, ins[1].DType, outs[0], ins[0], ins[1], ins[2]);
        Kernels[Prims.ConvertElementType] = (b, p, ins, outs, it, ot) => b.Elementwise(OpConvert, ins[0].DType, outs[0], ins[0]);
        Kernels[Prims.BitcastConvertType] = (b, p, ins, outs, it, ot) => b.Elementwise(OpBitcast, ins[0].DType, outs[0], ins[0]);
        Kernels[Prims.Iota] = (b, p, ins, outs, it, ot) =>
        {
            var ip = (IotaParams)p;
            long inner = 1;
            for (int d = ip.Dimension + 1; d < ip.Shape.Rank; d++) inner *= ip.Shape[d];
            b.Elementwise(OpIota, ip.DType, outs[0], null, null, null, ip.Shape[ip.Dimension], checked((int)Math.Max(inner, 1)));
        };
    }
}
