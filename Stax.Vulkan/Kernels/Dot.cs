namespace Stax.Vulkan;

/// <summary>How the GEMM reads one operand: element (batch, row, col) is at Off + batch·Batch + row·Row + col·Col.</summary>
internal readonly record struct MatrixView(long Off, long Batch, long Row, long Col);

public sealed partial class VulkanBackend
{
    /// <summary>Lavapipe ends a loop after 65535 iterations: longer contractions run in passes that accumulate.</summary>
    const int GemmKChunk = 32768;
    /// <summary>Use the aligned 4-wide GEMM variant where it applies (a switch for benchmarks and tests).</summary>
    internal static bool UseVec4Gemm = true;

    /// <summary>
    /// Records C[b] = A[b]·B[b] for b in [0, batch): C is dense [batch, m, n]; A is read as
    /// [batch, m, k] and B as [batch, k, n] through <paramref name="av"/> and <paramref name="bv"/>.
    /// </summary>
    internal void Gemm(VulkanBuffer c, VulkanBuffer a, MatrixView av, VulkanBuffer b, MatrixView bv, long batch, long m, long n, long k)
    {
        if (batch * m * n == 0) return;
        if (c.DType is not (DType.Float32 or DType.Int32))
            throw DTypeNotSupported("dot_general", c.DType);
        if (k == 0)
        {
            long serial = Stream.Fill(Bind(c), (ulong)(c.Length * 4), 0);
            c.LastUse = serial;
            return;
        }
        string shader = c.DType == DType.Float32 ? "gemm_f32" : "gemm_i32";
        // Aligned 4-wide B/C rows when n % 4 == 0 and B's columns are contiguous (offsets in 4s).
        bool vec4 = UseVec4Gemm && n % 4 == 0 && bv.Col == 1 && bv.Row % 4 == 0 && bv.Batch % 4 == 0 && bv.Off % 4 == 0;
        var spec = new[] { vec4 ? 1 : 0, 0, 1, 0, 1 };
        uint gx = (uint)((n + 63) / 64), gy = (uint)((m + 63) / 64);
        if (gx > 65535 || gy > 65535)
            throw new NotSupportedException($"dot_general: a {m}x{n} output is too large for one Vulkan dispatch grid");
        for (long k0 = 0; k0 < k; k0 += GemmKChunk)
        {
            int kc = (int)Math.Min(GemmKChunk, k - k0);
            for (long b0 = 0; b0 < batch; b0 += 65535)
            {
                uint gz = (uint)Math.Min(65535, batch - b0);
                int[] push =
                {
                    checked((int)m), checked((int)n), kc, checked((int)(av.Off + k0 * av.Col)), checked((int)av.Batch), checked((int)av.Row), checked((int)av.Col),
                    checked((int)(bv.Off + k0 * bv.Row)), checked((int)bv.Batch), checked((int)bv.Row), checked((int)bv.Col), checked((int)(m * n)), k0 > 0 ? 1 : 0, (int)b0, 0, 0,
                };
                // Binding 3 (convolution geometry) is unused by the matrix form.
                Run(shader, spec, new VulkanBuffer?[] { c, a, b, null }, push, gx, gy, gz);
            }
        }
    }

    /// <summary>
    /// Views an operand as [batch, rows, cols] where each of the three groups lists operand dims in
    /// order. When every group's dims are laid out contiguously (in that order) the buffer is read
    /// in place through strides; otherwise it is first transposed into [groups...] order.
    /// </summary>
    MatrixView GroupView(VulkanBuffer x, Shape shape, int[][] groups, string op, out VulkanBuffer buffer, out bool owned)
    {
        var st = Strides(shape);
        long[] gstride = new long[3];
        bool ok = true;
        for (int g = 0; g < 3 && ok; g++)
        {
            long expect = -1;
            gstride[g] = 0;
            for (int i = groups[g].Length - 1; i >= 0; i--)
            {
                int d = groups[g][i];
                if (shape[d] == 1) continue;
                if (expect >= 0 && st[d] != expect) { ok = false; break; }
                if (expect < 0) gstride[g] = st[d];
                expect = st[d] * shape[d];
            }
        }
        if (ok)
        {
            buffer = x; owned = false;
            return new MatrixView(0, gstride[0], gstride[1], gstride[2]);
        }
        var perm = groups.SelectMany(g => g).ToArray();
        var dims = perm.Select(d => (long)shape[d]).ToArray();
        buffer = Allocate(x.DType, x.Length);
        owned = true;
        StridedCopy(buffer, x, dims, perm.Select(d => st[d]).ToArray(), 0, StridesOf(dims), 0, op);
        long rows = groups[1].Aggregate(1L, (a, d) => a * shape[d]), cols = groups[2].Aggregate(1L, (a, d) => a * shape[d]);
        return new MatrixView(0, rows * cols, cols, 1);
    }

    void DotGeneral(DotGeneralParams p, VulkanBuffer lhs, VulkanBuffer rhs, Shape ls, Shape rs, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var work = output.DType;
        bool convL = lhs.DType != work, convR = rhs.DType != work;
        var l = convL ? Convert(lhs, work) : lhs;
        var r = convR ? Convert(rhs, work) : rhs;
        int[] lFree = Enumerable.Range(0, ls.Rank).Where(d => !p.LhsBatch.Contains(d) && !p.LhsContracting.Contains(d)).ToArray();
        int[] rFree = Enumerable.Range(0, rs.Rank).Where(d => !p.RhsBatch.Contains(d) && !p.RhsContracting.Contains(d)).ToArray();
        long batch = p.LhsBatch.ToArray().Aggregate(1L, (a, d) => a * ls[d]);
        long m = lFree.Aggregate(1L, (a, d) => a * ls[d]);
        long n = rFree.Aggregate(1L, (a, d) => a * rs[d]);
        long k = p.LhsContracting.ToArray().Aggregate(1L, (a, d) => a * ls[d]);
        var av = GroupView(l, ls, new[] { p.LhsBatch.ToArray(), lFree, p.LhsContracting.ToArray() }, "dot_general", out var la, out bool ownA);
        var bv = GroupView(r, rs, new[] { p.RhsBatch.ToArray(), p.RhsContracting.ToArray(), rFree }, "dot_general", out var rb, out bool ownB);
        Gemm(output, la, av, rb, bv, batch, m, n, k);
        if (ownA) la.Dispose();
        if (ownB) rb.Dispose();
        if (convL) l.Dispose();
        if (convR) r.Dispose();
    }

    static partial void RegisterDot()
    {
        Kernels[Prims.DotGeneral] = (b, p, ins, outs, it, ot) => b.DotGeneral((DotGeneralParams)p, ins[0], ins[1], it[0].Shape, it[1].Shape, outs[0]);
    }
}
