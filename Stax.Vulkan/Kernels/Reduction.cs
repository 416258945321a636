namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int RedSum = 0, RedProd = 1, RedMax = 2, RedMin = 3, RedArgmax = 4, RedArgmin = 5;
    const int ModeGroup = 0, ModeThread = 1, ScanBlock = 4096;

    /// <summary>Combine workgroup partials with subgroup arithmetic where the device has it
    /// (<see cref="VulkanCapabilities.SubgroupArithmetic"/>); false forces the shared-memory tree
    /// (a switch for tests and benchmarks).</summary>
    internal static bool UseSubgroupReduce = true;

    /// <summary>True when one-workgroup-per-output reductions of kind <paramref name="op"/> use reduce_sg.</summary>
    internal bool SubgroupReduce(int op) => UseSubgroupReduce && op < RedArgmax && Ctx.Capabilities.SubgroupArithmetic;

    /// <summary>The dtype a reduction works in: uint8/bool are widened to uint32 (sums and products
    /// wrap to the same low bits; max/min agree, and the empty max/min narrow to 0 and 255/true).</summary>
    static DType ReduceWork(DType t) => t is DType.UInt8 or DType.Bool ? DType.UInt32 : t;

    /// <summary>A buffer in the working dtype (the input itself, or a widened copy to dispose).
    /// float16/bfloat16 become their zero-extended bits (for kernels that only move values; the
    /// arithmetic ones get float32 operands from <see cref="ExecuteWidened"/>).</summary>
    VulkanBuffer Widen(VulkanBuffer x, out bool owned)
    {
        if (Is16BitFloat(x.DType)) return WidenBits(x, out owned);
        var w = ReduceWork(x.DType);
        owned = w != x.DType;
        return owned ? Convert(x, w) : x;
    }

    /// <summary>Most elements one workgroup folds in one pass of a one-workgroup-per-output reduction:
    /// lavapipe ends a loop after 65535 iterations of each of the 256 invocations. Longer rows are cut
    /// into chunks whose partials are reduced again (multi-pass), so rows have no length cap; tests
    /// lower this (on a backend of their own) to run several passes on small inputs.</summary>
    internal long GroupFoldLimit = 256L * 65535;

    /// <summary>Rows of at least twice this many elements are split into chunks of at least this size
    /// when there are few outputs, so a long reduction spreads over about <see cref="TargetGroups"/> workgroups.</summary>
    const long SplitChunk = 65536;
    const long TargetGroups = 1024;

    /// <summary>
    /// Records the reduce shader over an [outer, r, inner] view of <paramref name="x"/> (working dtype).
    /// Arg reductions of partials pass the partials' indices in <paramref name="xIdx"/>; with
    /// <paramref name="outVals"/> they also write the chosen values there (partials for a next pass).
    /// </summary>
    void ReduceView(int op, VulkanBuffer output, VulkanBuffer x, long outer, long r, long inner, VulkanBuffer? xIdx = null, VulkanBuffer? outVals = null)
    {
        long n = outer * inner;
        if (n == 0) return;
        bool arg = op >= RedArgmax;
        long chunk = Math.Min(r, Math.Max(1, GroupFoldLimit));
        if (n < TargetGroups && r >= 2 * SplitChunk) chunk = Math.Min(chunk, Math.Max(SplitChunk, (r * n + TargetGroups - 1) / TargetGroups));
        int flags = (xIdx != null ? 1 : 0) | (outVals != null ? 2 : 0);
        if (chunk < r)
        {
            // One pass to partials [outer, chunks, inner], then reduce those (again in passes if needed).
            long nc = (r + chunk - 1) / chunk;
            long parts = outer * nc * inner;
            var part = Allocate(arg ? DType.Int32 : x.DType, parts);
            var partVals = arg ? Allocate(x.DType, parts) : null;
            Span<int> pp = stackalloc int[] { checked((int)outer), checked((int)r), checked((int)inner), checked((int)chunk), (xIdx != null ? 1 : 0) | (arg ? 2 : 0) };
            var spec = new[] { op, (int)x.DType, ModeGroup };
            uint gx = (uint)Math.Min(parts, 65535);
            Run(SubgroupReduce(op) ? "reduce_sg" : "reduce", spec, new[] { part, x, partVals ?? part, xIdx ?? x }, pp, gx, (uint)((parts + gx - 1) / gx), 1);
            ReduceView(op, output, arg ? partVals! : part, outer, nc, inner, arg ? part : null, outVals);
            part.Dispose();
            partVals?.Dispose();
            return;
        }
        Span<int> push = stackalloc int[] { checked((int)outer), checked((int)r), checked((int)inner), 0, flags };
        // Lavapipe ends a loop after 65535 iterations: an invocation folds at most 4096 elements.
        bool perThread = r <= 256 || (n >= 8192 && r <= 4096);
        var spec1 = new[] { op, (int)x.DType, perThread ? ModeThread : ModeGroup };
        var binds = new[] { output, x, outVals ?? output, xIdx ?? x };
        if (perThread) Run("reduce", spec1, binds, push, n);
        else
        {
            uint gx = (uint)Math.Min(n, 65535);
            Run(SubgroupReduce(op) ? "reduce_sg" : "reduce", spec1, binds, push, gx, (uint)((n + gx - 1) / gx), 1);
        }
    }

    void Reduce(int op, IntTuple axes, VulkanBuffer input, Shape shape, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var x = Widen(input, out bool ownX);
        var res = output.DType == x.DType ? output : Allocate(x.DType, output.Length);
        // Blocks (size, reduced) after dropping size-1 dims and merging neighbours of the same kind.
        var blocks = new List<(long Size, bool Red)>();
        for (int d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            bool red = axes.Contains(d);
            if (blocks.Count > 0 && blocks[^1].Red == red) blocks[^1] = (blocks[^1].Size * shape[d], red);
            else blocks.Add((shape[d], red));
        }
        int nred = blocks.Count(b => b.Red);
        if (nred <= 1)
        {
            int j = blocks.FindIndex(b => b.Red);
            long outer = 1, r = 1, inner = 1;
            for (int k = 0; k < blocks.Count; k++)
                if (j < 0 || k < j) outer *= blocks[k].Size; else if (k == j) r = blocks[k].Size; else inner *= blocks[k].Size;
            ReduceView(op, res, x, outer, r, inner);
        }
        else
        {
            // Move the reduced axes last with a strided copy, then reduce rows.
            var perm = Enumerable.Range(0, shape.Rank).Where(d => !axes.Contains(d)).Concat(axes.ToArray()).ToArray();
            var src = Strides(shape);
            var dims = perm.Select(d => (long)shape[d]).ToArray();
            var tmp = Allocate(x.DType, x.Length);
            StridedCopy(tmp, x, dims, perm.Select(d => src[d]).ToArray(), 0, StridesOf(dims), 0, "reduce");
            long r = axes.ToArray().Aggregate(1L, (a, d) => a * shape[d]);
            ReduceView(op, res, tmp, output.Length, r, 1);
            tmp.Dispose();
        }
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (ownX) x.Dispose();
    }

    void ArgReduce(bool isMax, int axis, VulkanBuffer input, Shape shape, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var x = Widen(input, out bool ownX);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Rank; d++) inner *= shape[d];
        ReduceView(isMax ? RedArgmax : RedArgmin, output, x, outer, shape[axis], inner);
        if (ownX) x.Dispose();
    }

    void Scan(int op, CumulativeParams p, VulkanBuffer input, Shape shape, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var x = Widen(input, out bool ownX);
        var res = output.DType == x.DType ? output : Allocate(x.DType, output.Length);
        long outer = 1, inner = 1;
        for (int d = 0; d < p.Axis; d++) outer *= shape[d];
        for (int d = p.Axis + 1; d < shape.Rank; d++) inner *= shape[d];
        long lines = outer * inner, r = shape[p.Axis];
        // Lines scan in blocks of ScanBlock (lavapipe ends a loop after 65535 iterations): block
        // scans, then per-line carries of the blocks, then the carries applied.
        long nb = (r + ScanBlock - 1) / ScanBlock;
        Span<int> push = stackalloc int[] { checked((int)outer), checked((int)r), checked((int)inner), p.Reverse ? 1 : 0, ScanBlock };
        Run("reduce", new[] { op, (int)x.DType, 2 }, new[] { res, x, res, x }, push, lines * nb);
        if (nb > 1)
        {
            var aux = Allocate(x.DType, lines * nb);
            Run("reduce", new[] { op, (int)x.DType, 3 }, new[] { res, x, aux, x }, push, lines);
            Run("reduce", new[] { op, (int)x.DType, 4 }, new[] { res, x, aux, x }, push, res.Length);
            aux.Dispose();
        }
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (ownX) x.Dispose();
    }

    static long[] StridesOf(long[] dims)
    {
        var st = new long[dims.Length];
        long acc = 1;
        for (int d = dims.Length - 1; d >= 0; d--) { st[d] = acc; acc *= dims[d]; }
        return st;
    }

    static partial void RegisterReduction()
    {
        foreach (var (prim, op) in new[] { (Prims.ReduceSum, RedSum), (Prims.ReduceProd, RedProd), (Prims.ReduceMax, RedMax), (Prims.ReduceMin, RedMin) })
            Kernels[prim] = (b, p, ins, outs, it, ot) => b.Reduce(op, ((ReduceParams)p).Axes, ins[0], it[0].Shape, outs[0]);
        foreach (var (prim, op) in new[] { (Prims.Cumsum, RedSum), (Prims.Cumprod, RedProd), (Prims.Cummax, RedMax), (Prims.Cummin, RedMin) })
            Kernels[prim] = (b, p, ins, outs, it, ot) => b.Scan(op, (CumulativeParams)p, ins[0], it[0].Shape, outs[0]);
        Kernels[Prims.Argmax] = (b, p, ins, outs, it, ot) => b.ArgReduce(true, ((ArgReduceParams)p).Axes[0], ins[0], it[0].Shape, outs[0]);
        Kernels[Prims.Argmin] = (b, p, ins, outs, it, ot) => b.ArgReduce(false, ((ArgReduceParams)p).Axes[0], ins[0], it[0].Shape, outs[0]);
    }
}
