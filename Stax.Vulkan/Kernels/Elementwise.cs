namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    // Op codes of shaders/elementwise.comp.
    static readonly Dictionary<Primitive, int> UnaryOps = new()
    {
        [Prims.Neg] = 0, [Prims.Exp] = 1, [Prims.Log] = 2, [Prims.Log1p] = 3, [Prims.Expm1] = 4, [Prims.Tanh] = 5,
        [Prims.Logistic] = 6, [Prims.Sqrt] = 7, [Prims.Rsqrt] = 8, [Prims.Abs] = 9, [Prims.Sign] = 10, [Prims.Sin] = 11,
        [Prims.Cos] = 12, [Prims.Erf] = 13, [Prims.ErfInv] = 14, [Prims.Floor] = 15, [Prims.Ceil] = 16,
        [Prims.Not] = 19, [Prims.IsFinite] = 20,
    };
    static readonly Dictionary<Primitive, int> BinaryOps = new()
    {
        [Prims.Add] = 32, [Prims.Sub] = 33, [Prims.Mul] = 34, [Prims.Div] = 35, [Prims.Rem] = 36, [Prims.Pow] = 37,
        [Prims.Max] = 38, [Prims.Min] = 39, [Prims.Atan2] = 40, [Prims.And] = 41, [Prims.Or] = 42, [Prims.Xor] = 43,
        [Prims.ShiftLeft] = 44, [Prims.ShiftRightLogical] = 45, [Prims.ShiftRightArithmetic] = 46,
        [Prims.Eq] = 47, [Prims.Ne] = 48, [Prims.Lt] = 49, [Prims.Le] = 50, [Prims.Gt] = 51, [Prims.Ge] = 52,
    };
    const int OpRoundAway = 17, OpRoundEven = 18, OpSelect = 64, OpConvert = 65, OpIota = 66, OpBitcast = 67;

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
        foreach (var (prim, op) in UnaryOps)
            Kernels[prim] = (b, p, ins, outs, it, ot) => b.Elementwise(op, ins[0].DType, outs[0], ins[0]);
        Kernels[Prims.Round] = (b, p, ins, outs, it, ot) =>
            b.Elementwise(((RoundParams)p).Method == RoundingMethod.AwayFromZero ? OpRoundAway : OpRoundEven, ins[0].DType, outs[0], ins[0]);
        foreach (var (prim, op) in BinaryOps)
            Kernels[prim] = (b, p, ins, outs, it, ot) => b.Elementwise(op, ins[0].DType, outs[0], ins[0], ins[1]);
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
