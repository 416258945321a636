using System.Numerics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterDot()
    {
        Kernels[Prims.DotGeneral] = (p, ins, outs, it, ot) =>
            CpuDot.Run(ins[0], ins[1], outs[0], it[0], it[1], ot[0], (DotGeneralParams)p, null);
        Kernels[Prims.ConvGeneralDilated] = (p, ins, outs, it, ot) =>
            CpuDot.Run(ins[0], ins[1], outs[0], it[0], it[1], ot[0], null, (ConvParams)p);
    }
}

/// <summary>
/// dot_general and conv_general_dilated on the CPU. Operands are brought to a compute type
/// (float32 for float32/float16/bfloat16, float64, or int32), multiplied with the packed float32
/// GEMM (<see cref="Sgemm"/>) or the simpler one (<see cref="SimpleGemm{T}"/>), and the result is
/// converted to the output dtype. Convolution is an implicit-im2col GEMM (<see cref="CpuConv"/>).
/// </summary>
internal static unsafe class CpuDot
{
    /// <summary>
    /// Computes the product into <paramref name="output"/>. <paramref name="epilogue"/> (float32 dot_general only) runs on
    /// each finished block of the result, seen as a row-major (free lhs dims) x (free rhs dims) matrix, when the GEMM path
    /// supports it: the result says whether it ran; when false the caller applies it to the whole result.
    /// </summary>
    public static bool Run(CpuBuffer lhs, CpuBuffer rhs, CpuBuffer output, AbstractValue lt, AbstractValue rt, AbstractValue ot,
        DotGeneralParams? dot, ConvParams? conv, GemmEpilogue? epilogue = null)
    {
        var inT = lt.DType;
        var outT = ot.DType;
        var compute = inT == DType.Float64 || outT == DType.Float64 ? DType.Float64
            : inT == DType.Int32 && outT == DType.Int32 ? DType.Int32 : DType.Float32;
        switch (compute)
        {
            case DType.Float64: Typed<double>(lhs, rhs, output, lt, rt, ot, dot, conv, null); return false;
            case DType.Int32: Typed<int>(lhs, rhs, output, lt, rt, ot, dot, conv, null); return false;
            default: return Typed<float>(lhs, rhs, output, lt, rt, ot, dot, conv, ot.DType == DType.Float32 ? epilogue : null);
        }
    }

    static bool Typed<T>(CpuBuffer lhs, CpuBuffer rhs, CpuBuffer output, AbstractValue lt, AbstractValue rt, AbstractValue ot,
        DotGeneralParams? dot, ConvParams? conv, GemmEpilogue? epilogue) where T : unmanaged, INumber<T>
    {
        bool folded = false;
        var ct = Compute<T>();
        T[]? lConv = lt.DType == ct ? null : ToCompute<T>(lhs);
        T[]? rConv = rt.DType == ct ? null : ToCompute<T>(rhs);
        T[]? oTmp = ot.DType == ct ? null : GC.AllocateUninitializedArray<T>((int)ot.Size, pinned: true);
        fixed (byte* lb = lhs.Data, rb = rhs.Data, ob = output.Data)
        fixed (T* lc = lConv, rc = rConv, oc = oTmp)
        {
            T* l = lConv != null ? lc : (T*)lb;
            T* r = rConv != null ? rc : (T*)rb;
            T* o = oTmp != null ? oc : (T*)ob;
            if (dot != null) folded = DotGeneral(l, r, o, lt, rt, dot, epilogue);
            else CpuConv.Run(l, r, o, lt.Shape, rt.Shape, ot.Shape, conv!);
        }
        if (oTmp != null) FromCompute(oTmp, output);
        return folded;
    }

    static DType Compute<T>() => typeof(T) == typeof(double) ? DType.Float64 : typeof(T) == typeof(int) ? DType.Int32 : DType.Float32;

    static T[] ToCompute<T>(CpuBuffer b) where T : unmanaged, INumber<T>
    {
        var r = GC.AllocateUninitializedArray<T>((int)b.Length, pinned: true);
        switch (b.DType)
        {
            case DType.Float16: { var s = b.Span<Half>(); for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating((float)s[i]); break; }
            case DType.BFloat16: { var s = b.Span<ushort>(); for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating((float)BFloat16.FromBits(s[i])); break; }
            case DType.Float32: { var s = b.Span<float>(); for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(s[i]); break; }
            case DType.Int32: { var s = b.Span<int>(); for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(s[i]); break; }
            default: for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(CpuBackend.ReadDouble(b, i)); break;
        }
        return r;
    }

    static void FromCompute<T>(T[] v, CpuBuffer o) where T : unmanaged, INumber<T>
    {
        switch (o.DType)
        {
            case DType.Float16: { var s = o.Span<Half>(); for (int i = 0; i < v.Length; i++) s[i] = (Half)float.CreateTruncating(v[i]); break; }
            case DType.BFloat16: { var s = o.Span<ushort>(); for (int i = 0; i < v.Length; i++) s[i] = ((BFloat16)float.CreateTruncating(v[i])).Bits; break; }
            case DType.Float32: { var s = o.Span<float>(); for (int i = 0; i < v.Length; i++) s[i] = float.CreateTruncating(v[i]); break; }
            case DType.Float64: { var s = o.Span<double>(); for (int i = 0; i < v.Length; i++) s[i] = double.CreateTruncating(v[i]); break; }
            default: { var s = o.Span<int>(); for (int i = 0; i < v.Length; i++) s[i] = int.CreateTruncating(v[i]); break; }
        }
    }

    /// <summary>C = A * B with the GEMM for <typeparamref name="T"/>.</summary>
    public static void Gemm<T>(int M, int N, int K, T* A, long rsA, long csA, T* B, long rsB, long csB, T* C, long ldc, Isa isa, int threads)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            Sgemm.Multiply(M, N, K, (float*)A, rsA, csA, (float*)B, rsB, csB, (float*)C, ldc, isa, threads);
        else
            SimpleGemm<T>.Multiply(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, isa, threads);
    }

    // ---------------------------------------------------------------- dot_general

    static bool DotGeneral<T>(T* lhs, T* rhs, T* output, AbstractValue lt, AbstractValue rt, DotGeneralParams p, GemmEpilogue? epilogue)
        where T : unmanaged, INumber<T>
    {
        var plan = CpuDotPlan.For(lt, rt, p);
        if (plan.M * plan.N * plan.NBatch == 0) return false;
        bool folded = false;
        var isa = Config.Isa;
        int threads = Config.NumThreads;
        T[]? lCopy = plan.LhsPerm is { } lp ? Permute(lhs, lt.Shape, lp) : null;
        T[]? rCopy = plan.RhsPerm is { } rp ? Permute(rhs, rt.Shape, rp) : null;
        fixed (T* lc = lCopy, rc = rCopy)
        {
            T* a = lCopy != null ? lc : lhs, b = rCopy != null ? rc : rhs;
            if (epilogue != null && plan.NBatch == 1 && typeof(T) == typeof(float))
                folded = Sgemm.Multiply((int)plan.M, (int)plan.N, (int)plan.K, (float*)a + plan.LhsOffsets[0], plan.RsA, plan.CsA,
                    (float*)b + plan.RhsOffsets[0], plan.RsB, plan.CsB, (float*)output, plan.N, isa, threads, epilogue);
            else if (plan.NBatch > 1 && threads > 1 && plan.NBatch >= threads)
                BatchesInParallel(plan, a, b, output, isa, threads);
            else
            {
                int m = (int)plan.M, n = (int)plan.N, k = (int)plan.K;
                var lOff = plan.LhsOffsets;
                var rOff = plan.RhsOffsets;
                for (long bi = 0; bi < plan.NBatch; bi++)
                    Gemm(m, n, k, a + lOff[bi], plan.RsA, plan.CsA, b + rOff[bi], plan.RsB, plan.CsB, output + bi * m * n, n, isa, threads);
            }
        }
        return folded;
    }

    // Many batches: one chunk per thread over contiguous ranges of batches, single-threaded GEMMs
    // (pointers travel as nint: pointer types cannot be generic arguments).
    static void BatchesInParallel<T>(CpuDotPlan plan, T* a, T* b, T* c, Isa isa, int threads) where T : unmanaged, INumber<T>
    {
        int tasks = (int)Math.Min(threads, plan.NBatch);
        CpuParallel.For(tasks, 1, (plan, (nint)a, (nint)b, (nint)c, isa, tasks), static (st, t0, t1) =>
        {
            var (plan, a, b, c, isa, tasks) = st;
            long nBatch = plan.NBatch;
            int m = (int)plan.M, n = (int)plan.N, k = (int)plan.K;
            for (long t = t0; t < t1; t++)
            {
                long b0 = nBatch * t / tasks, b1 = nBatch * (t + 1) / tasks;
                for (long bi = b0; bi < b1; bi++)
                    Gemm(m, n, k, (T*)a + plan.LhsOffsets[bi], plan.RsA, plan.CsA, (T*)b + plan.RhsOffsets[bi], plan.RsB, plan.CsB, (T*)c + bi * m * n, n, isa, 1);
            }
        }, align: 1);
    }

    // True when the index over `dims` (row-major in the given order) is a single stride into memory.
    internal static bool Collapse(Shape s, long[] strides, int[] dims, out long stride)
    {
        stride = 1;
        int prev = -1;
        foreach (var d in dims)
        {
            if (s[d] == 1) continue;
            if (prev >= 0 && strides[prev] != strides[d] * s[d]) return false;
            prev = d;
        }
        if (prev >= 0) stride = strides[prev];
        return true;
    }

    internal static long[] BatchOffsets(int[] shape, long[] strides)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        var r = new long[n];
        var idx = new int[shape.Length];
        for (long i = 0; i < n; i++)
        {
            long off = 0;
            for (int d = 0; d < shape.Length; d++) off += idx[d] * strides[d];
            r[i] = off;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return r;
    }

    /// <summary>A row-major copy of <paramref name="src"/> with dimensions reordered: output dim i = input dim perm[i].</summary>
    static T[] Permute<T>(T* src, Shape s, int[] perm) where T : unmanaged
    {
        var dst = GC.AllocateUninitializedArray<T>((int)s.Size, pinned: true);
        fixed (T* d = dst) Permute(src, s, perm, d);
        return dst;
    }

    /// <summary>Writes <paramref name="src"/> with dimensions reordered (output dim i = input dim perm[i]) row-major into <paramref name="dst"/>.</summary>
    internal static void Permute<T>(T* src, Shape s, int[] perm, T* dst) where T : unmanaged
    {
        long size = s.Size;
        if (size == 0) return;
        var str = s.Strides();
        int rank = perm.Length;
        var dims = perm.Select(d => s[d]).ToArray();
        var pstr = perm.Select(d => str[d]).ToArray();
        int inner = rank == 0 ? 1 : dims[rank - 1];
        long innerStride = rank == 0 ? 0 : pstr[rank - 1];
        var idx = new int[Math.Max(0, rank - 1)];
        long o = 0;
        while (o < size)
        {
            long off = 0;
            for (int d = 0; d < rank - 1; d++) off += idx[d] * pstr[d];
            for (int j = 0; j < inner; j++) dst[o++] = src[off + j * innerStride];
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++idx[d] < dims[d]) break;
                idx[d] = 0;
            }
        }
    }
}
