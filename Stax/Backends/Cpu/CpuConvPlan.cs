using System.Numerics;
using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu;

/// <summary>
/// A convolution's shape-derived plan (<see cref="CpuConv.Plan{T}"/>): the implicit im2col
/// operand's geometry (its kernel-offset tables are as long as the kernel window, hundreds of
/// entries for a weight gradient), the output row order and the weight layout. Cached per
/// parameter object and shapes, so repeated calls of a compiled program allocate nothing for it.
/// </summary>
internal sealed class CpuConvPlan<T> where T : unmanaged, INumber<T>
{
    public ConvOperand<T> Op;
    public long M, Kd, RsW, CsW;
    public int N, O, Og, G, B, Groups;
    public bool Direct;
    /// <summary>Permutation copying the kernel to W[o, k] order, or null when it is used in place.</summary>
    public int[]? WeightPerm;
    public long[] OutStrides = Array.Empty<long>();
    /// <summary>Set when the convolution runs as Winograd F(2x2, 3x3) (<see cref="Conv.Winograd3x3"/>) or,
    /// for a weight gradient's 3x3 output, F(3x3, 2x2) (<see cref="Conv.WinogradWeightGradient"/>) instead of the GEMM.</summary>
    public Conv.WinogradGeometry? Winograd;

    static readonly ConditionalWeakTable<ConvParams, List<(Shape L, Shape R, Shape O, CpuConvPlan<T> Plan)>> Cache = new();
    const int MaxPlansPerParams = 8;

    /// <summary>The plan for these operand and output shapes under <paramref name="p"/>.</summary>
    public static CpuConvPlan<T> For(Shape ls, Shape rs, Shape os, ConvParams p)
    {
        var plans = Cache.GetValue(p, static _ => new());
        lock (plans)
        {
            foreach (var (l, r, o, plan) in plans)
                if (l == ls && r == rs && o == os) return plan;
        }
        var made = new CpuConvPlan<T>();
        CpuConv.Plan(made, ls, rs, os, p);
        lock (plans)
        {
            if (plans.Count >= MaxPlansPerParams) plans.RemoveAt(0);
            plans.Add((ls, rs, os, made));
        }
        return made;
    }
}
