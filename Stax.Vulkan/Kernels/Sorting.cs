namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    const int MaxSortKeys = 4;

    /// <summary>
    /// Sorts the lines of an [outer, n, inner] view: a bitonic network over a permutation buffer
    /// (one dispatch per stage) with a total comparator (keys, then original index), so the result
    /// is the stable sort. Returns the permutation buffer [lines, N] and N.
    /// </summary>
    VulkanBuffer SortPermutation(VulkanBuffer[] keys, long outer, int n, long inner, bool descending, string op, out int N)
    {
        if (keys.Length > MaxSortKeys)
            throw new NotSupportedException($"{op}: the Vulkan backend sorts by at most {MaxSortKeys} keys, got {keys.Length}");
        N = 1;
        while (N < n) N <<= 1;
        long lines = outer * inner;
        var perm = Allocate(DType.UInt32, lines * N);
        var spec = new int[7];
        spec[1] = keys.Length; spec[2] = descending ? 1 : 0;
        for (int k = 0; k < keys.Length; k++) spec[3 + k] = (int)keys[k].DType;
        var binds = new VulkanBuffer[] { perm, perm, keys[0], keys.Length > 1 ? keys[1] : keys[0], keys.Length > 2 ? keys[2] : keys[0], keys.Length > 3 ? keys[3] : keys[0] };
        var push = new[] { checked((int)lines), n, checked((int)inner), N, 0, 0, 0, 0 };
        long total = lines * N;
        Run("sort", spec, binds, push, total);
        spec[0] = 1;
        for (int k = 2; k <= N; k <<= 1)
            for (int j = k >> 1; j > 0; j >>= 1)
            {
                push[4] = k; push[5] = j;
                Run("sort", spec, binds, push, total);
            }
        return perm;
    }

    /// <summary>out[line, i] = x[line, perm[line, i]] for i &lt; m (MODE 2), or the int32 positions (MODE 3).</summary>
    void ApplyPermutation(VulkanBuffer perm, int N, VulkanBuffer output, VulkanBuffer? x, long outer, int n, long inner, int m)
    {
        if (output.Length == 0) return;
        VulkanBuffer? xw = null; bool own = false;
        if (x != null) xw = Widen(x, out own);
        var res = xw == null || output.DType == xw.DType ? output : Allocate(xw.DType, output.Length);
        var spec = new[] { xw == null ? 3 : 2, 1, 0, 0, 0, 0, 0 };
        var src = xw ?? perm;
        Run("sort", spec, new[] { perm, res, src, src, src, src }, new[] { checked((int)(outer * inner)), n, checked((int)inner), N, 0, 0, m, 0 }, outer * inner * m);
        if (!ReferenceEquals(res, output))
        {
            Narrow(res, output);
            res.Dispose();
        }
        if (own) xw!.Dispose();
    }

    static partial void RegisterSorting()
    {
        Kernels[Prims.Sort] = (b, p, ins, outs, it, ot) =>
        {
            var sp = (SortParams)p;
            var s = it[0].Shape;
            if (s.Size == 0) return;
            long outer = 1, inner = 1;
            for (int d = 0; d < sp.Dimension; d++) outer *= s[d];
            for (int d = sp.Dimension + 1; d < s.Rank; d++) inner *= s[d];
            int n = s[sp.Dimension];
            var owned = new List<VulkanBuffer>();
            var keys = ins.Take(sp.NumKeys).Select(k => { var w = b.WidenKey(k, out bool o); if (o) owned.Add(w); return w; }).ToArray();
            using var perm = b.SortPermutation(keys, outer, n, inner, false, "sort", out int N);
            for (int i = 0; i < ins.Length; i++) b.ApplyPermutation(perm, N, outs[i], ins[i], outer, n, inner, n);
            foreach (var w in owned) w.Dispose();
        };
        Kernels[Prims.TopK] = (b, p, ins, outs, it, ot) =>
        {
            int k = ((TopKParams)p).K;
            var s = it[0].Shape;
            if (ot[0].Size == 0) return;
            int n = s[s.Rank - 1];
            long outer = s.Size / n;
            var key = b.WidenKey(ins[0], out bool own);
            using var perm = b.SortPermutation(new[] { key }, outer, n, 1, true, "top_k", out int N);
            b.ApplyPermutation(perm, N, outs[0], ins[0], outer, n, 1, k);
            b.ApplyPermutation(perm, N, outs[1], null, outer, n, 1, k);
            if (own) key.Dispose();
        };
    }
}
