namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int MaxWindowRank = 6;

    /// <summary>Per-dimension window description: operand size, window-output size, window, stride, low padding, base and window dilation.</summary>
    readonly record struct WinDim(int In, int Out, int Win, int Stride, int Lo, int Hi, int BDil, int WDil)
    {
        public bool Trivial => Win == 1 && Stride == 1 && Lo == 0 && Hi == 0 && BDil == 1 && WDil == 1;
    }

    /// <summary>Merges neighbouring dimensions the window does not touch (so NHWC pooling is rank 3).</summary>
    static List<WinDim> MergeWindowDims(IEnumerable<WinDim> dims, string op)
    {
        var r = new List<WinDim>();
        foreach (var d in dims)
        {
            if (d.Trivial && r.Count > 0 && r[^1].Trivial)
            {
                long n = (long)r[^1].In * d.In;
                r[^1] = r[^1] with { In = checked((int)n), Out = checked((int)n) };
            }
            else r.Add(d);
        }
        if (r.Count > MaxWindowRank)
            throw new NotSupportedException($"{op}: the Vulkan backend supports windows over at most {MaxWindowRank} non-trivial dimension groups, got {r.Count}");
        return r;
    }

    void WindowOp(int mode, int kind, List<WinDim> dims, VulkanBuffer output, VulkanBuffer x, VulkanBuffer? aux, long n)
    {
        if (n == 0) return;
        // Lavapipe silently ends a loop nest after 65535 loop-header executions per invocation.
        long ws = dims.Aggregate(1L, (a, d) => a * d.Win);
        long headers = ws * (dims.Count + 2);
        if (mode == 2) headers *= dims.Aggregate(1L, (a, d) => a * ((d.Win + d.Stride - 1) / d.Stride)) + 1;
        if (headers > 60000 && Ctx.Capabilities.DeviceName.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"window: a {ws}-position window is too large for one lavapipe invocation (its loops stop after 65535 iterations); use the CPU backend");
        var xw = Widen(x, out bool ownX);
        VulkanBuffer? aw = null; bool ownA = false;
        if (aux != null) aw = Widen(aux, out ownA);
        var work = (aw ?? xw).DType;
        var res = output.DType == work ? output : Allocate(work, output.Length);
        var push = new int[2 + 5 * MaxWindowRank];
        push[0] = checked((int)n); push[1] = dims.Count;
        for (int d = 0; d < dims.Count; d++)
        {
            var w = dims[d];
            if (w.Win > 0xFFFF || w.Stride > 0x7FFF || w.BDil > 0xFFFF || w.WDil > 0x7FFF)
                throw new NotSupportedException($"window: the Vulkan backend supports window sizes and dilations below 65536 and strides below 32768, got window {w.Win}, stride {w.Stride}, dilations {w.BDil}/{w.WDil}");
            push[2 + 5 * d] = w.In; push[3 + 5 * d] = w.Out; push[4 + 5 * d] = w.Lo;
            push[5 + 5 * d] = w.Win | w.Stride << 16; push[6 + 5 * d] = w.BDil | w.WDil << 16;
        }
        Run("window", new[] { mode, kind, (int)work }, new[] { res, xw, aw ?? xw }, push, n);
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (ownX) xw.Dispose();
        if (ownA) aw!.Dispose();
    }

    static IEnumerable<WinDim> WinDims(Shape operand, Shape outShape, IntTuple win, IntTuple str, IntTuple lo, IntTuple hi, IntTuple? bdil, IntTuple? wdil)
        => Enumerable.Range(0, operand.Rank).Select(d => new WinDim(operand[d], outShape[d], win[d], str[d], lo[d], hi[d], bdil?[d] ?? 1, wdil?[d] ?? 1));

    static partial void RegisterWindow()
    {
        foreach (var (prim, kind) in new[] { (Prims.ReduceWindowSum, RedSum), (Prims.ReduceWindowMax, RedMax), (Prims.ReduceWindowMin, RedMin) })
            Kernels[prim] = (b, p, ins, outs, it, ot) =>
            {
                var w = (ReduceWindowParams)p;
                var dims = MergeWindowDims(WinDims(it[0].Shape, ot[0].Shape, w.WindowDimensions, w.WindowStrides, w.PaddingLow, w.PaddingHigh, w.BaseDilation, w.WindowDilation), prim.Name);
                b.WindowOp(0, kind, dims, outs[0], ins[0], null, ot[0].Size);
            };
        Kernels[Prims.SelectAndGatherAdd] = (b, p, ins, outs, it, ot) =>
        {
            var s = (SelectAndGatherAddParams)p;
            var dims = MergeWindowDims(WinDims(it[1].Shape, ot[0].Shape, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh, s.BaseDilation, s.WindowDilation), "select_and_gather_add");
            b.WindowOp(1, ReferenceEquals(s.SelectPrim, Prims.Ge) ? RedMax : RedMin, dims, outs[0], ins[1], ins[0], ot[0].Size);
        };
        Kernels[Prims.SelectAndScatterAdd] = (b, p, ins, outs, it, ot) =>
        {
            var s = (SelectAndScatterAddParams)p;
            var dims = MergeWindowDims(WinDims(it[1].Shape, it[0].Shape, s.WindowDimensions, s.WindowStrides, s.PaddingLow, s.PaddingHigh, null, null), "select_and_scatter_add");
            b.WindowOp(2, ReferenceEquals(s.SelectPrim, Prims.Ge) ? RedMax : RedMin, dims, outs[0], ins[1], ins[0], ot[0].Size);
        };
    }
}
