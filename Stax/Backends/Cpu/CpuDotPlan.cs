namespace Stax.Backends.Cpu;

/// <summary>
/// How a dot_general of given operand shapes maps onto batched GEMMs: the matrix sizes, each
/// operand's strides (or the permutation that copies it into GEMM order) and the batch offsets.
/// It depends only on the shapes and parameters, so a compiled program's equation computes it
/// once and later calls allocate nothing for it.
/// </summary>
internal sealed class CpuDotPlan
{
    public long M, N, K, NBatch;
    /// <summary>Permutation copying an operand to (batch, free, contracting) / (batch, contracting, free) order, or null when used in place.</summary>
    public int[]? LhsPerm, RhsPerm;
    public long RsA, CsA, RsB, CsB;
    public long[] LhsOffsets = Array.Empty<long>(), RhsOffsets = Array.Empty<long>();

    /// <summary>The plan for operands of types <paramref name="lt"/> and <paramref name="rt"/> under <paramref name="p"/>.</summary>
    public static CpuDotPlan For(AbstractValue lt, AbstractValue rt, DotGeneralParams p)
        => CpuPlanCache<DotGeneralParams, CpuDotPlan>.Get(p, lt.Shape, rt.Shape, 0, static (_, p, l, r) => Make(l, r, p));

    static CpuDotPlan Make(Shape ls, Shape rs, DotGeneralParams p)
    {
        int[] lB = p.LhsBatch.ToArray(), rB = p.RhsBatch.ToArray(), lC = p.LhsContracting.ToArray(), rC = p.RhsContracting.ToArray();
        int[] lF = Enumerable.Range(0, ls.Rank).Where(d => !lB.Contains(d) && !lC.Contains(d)).ToArray();
        int[] rF = Enumerable.Range(0, rs.Rank).Where(d => !rB.Contains(d) && !rC.Contains(d)).ToArray();
        var plan = new CpuDotPlan { M = Prod(ls, lF), N = Prod(rs, rF), K = Prod(ls, lC), NBatch = Prod(ls, lB) };
        if (plan.M * plan.N * plan.NBatch == 0) return plan;
        if (plan.M > int.MaxValue || plan.N > int.MaxValue || plan.K > int.MaxValue)
            throw new NotSupportedException($"dot_general: matrix dimensions ({plan.M}, {plan.K}) x ({plan.K}, {plan.N}) are too large for the CPU backend");
        long[] lStr = ls.Strides(), rStr = rs.Strides();
        // Each operand is used in place when its free and contracting dims each collapse to one stride;
        // otherwise it is copied to (batch, free, contracting) or (batch, contracting, free) order.
        if (!(CpuDot.Collapse(ls, lStr, lF, out plan.RsA) && CpuDot.Collapse(ls, lStr, lC, out plan.CsA)))
        {
            plan.LhsPerm = lB.Concat(lF).Concat(lC).ToArray();
            plan.RsA = plan.K; plan.CsA = 1;
            lB = Enumerable.Range(0, lB.Length).ToArray();
            ls = new Shape(lB.Select(d => ls[p.LhsBatch[d]]).ToArray().Concat(new[] { (int)plan.M, (int)plan.K }).ToArray());
            lStr = ls.Strides();
        }
        if (!(CpuDot.Collapse(rs, rStr, rC, out plan.RsB) && CpuDot.Collapse(rs, rStr, rF, out plan.CsB)))
        {
            plan.RhsPerm = rB.Concat(rC).Concat(rF).ToArray();
            plan.RsB = plan.N; plan.CsB = 1;
            rB = Enumerable.Range(0, rB.Length).ToArray();
            rs = new Shape(rB.Select(d => rs[p.RhsBatch[d]]).ToArray().Concat(new[] { (int)plan.K, (int)plan.N }).ToArray());
            rStr = rs.Strides();
        }
        var bShape = lB.Select(d => ls[d]).ToArray();
        plan.LhsOffsets = CpuDot.BatchOffsets(bShape, lB.Select(d => lStr[d]).ToArray());
        plan.RhsOffsets = CpuDot.BatchOffsets(bShape, rB.Select(d => rStr[d]).ToArray());
        return plan;
    }

    static long Prod(Shape s, int[] dims)
    {
        long n = 1;
        foreach (var d in dims) n *= s[d];
        return n;
    }
}
