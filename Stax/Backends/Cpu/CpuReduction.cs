using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

/// <summary>
/// Reduction kernels. Every result is computed by a fixed algorithm that does not depend on the
/// thread count: a contiguous row is cut into fixed blocks of <see cref="RowBlock"/> elements, each
/// block is reduced with vector accumulators, and block results are combined in a fixed pairwise
/// tree; a strided reduction accumulates rows in fixed blocks of <see cref="RowsPerBlock"/> rows,
/// again combined pairwise. Threads only decide who computes which independent piece.
/// </summary>
public sealed partial class CpuBackend
{
    enum ReduceKind { Sum, Prod, Max, Min }

    const int RowBlock = 512;
    const int RowsPerBlock = 32;
    const int TileWidth = 2048;

    static partial void RegisterReduction()
    {
        Kernels[Prims.ReduceSum] = (p, ins, outs, it, ot) => Reduce(ReduceKind.Sum, ((ReduceParams)p).Axes, ins[0], it[0], outs[0]);
        Kernels[Prims.ReduceProd] = (p, ins, outs, it, ot) => Reduce(ReduceKind.Prod, ((ReduceParams)p).Axes, ins[0], it[0], outs[0]);
        Kernels[Prims.ReduceMax] = (p, ins, outs, it, ot) => Reduce(ReduceKind.Max, ((ReduceParams)p).Axes, ins[0], it[0], outs[0]);
        Kernels[Prims.ReduceMin] = (p, ins, outs, it, ot) => Reduce(ReduceKind.Min, ((ReduceParams)p).Axes, ins[0], it[0], outs[0]);
        Kernels[Prims.Cumsum] = (p, ins, outs, it, ot) => Cumulative(ReduceKind.Sum, (CumulativeParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Cumprod] = (p, ins, outs, it, ot) => Cumulative(ReduceKind.Prod, (CumulativeParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Cummax] = (p, ins, outs, it, ot) => Cumulative(ReduceKind.Max, (CumulativeParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Cummin] = (p, ins, outs, it, ot) => Cumulative(ReduceKind.Min, (CumulativeParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Argmax] = (p, ins, outs, it, ot) => ArgReduce(true, ((ArgReduceParams)p).Axes[0], ins[0], it[0], outs[0]);
        Kernels[Prims.Argmin] = (p, ins, outs, it, ot) => ArgReduce(false, ((ArgReduceParams)p).Axes[0], ins[0], it[0], outs[0]);
    }

    // ------------------------------------------------------------------ dtype dispatch

    /// <summary>Narrow types are computed in a working type: float16/bfloat16 in float32, uint8/bool in int32
    /// (sums and products wrap to the same low bits; max/min agree).</summary>
    static DType WorkingType(DType t) => t switch
    {
        DType.Float16 or DType.BFloat16 => DType.Float32,
        DType.UInt8 or DType.Bool => DType.Int32,
        _ => t,
    };

    static byte[] ToWorking(CpuBuffer b, DType work)
    {
        if (b.DType == work) return b.Data;
        var r = new byte[b.Length * work.SizeOf()];
        int n = (int)b.Length;
        switch (b.DType)
        {
            case DType.Float16: { var s = b.Span<Half>(); var d = MemoryMarshal.Cast<byte, float>(r.AsSpan()); for (int i = 0; i < n; i++) d[i] = (float)s[i]; break; }
            case DType.BFloat16: { var s = b.Span<ushort>(); var d = MemoryMarshal.Cast<byte, float>(r.AsSpan()); for (int i = 0; i < n; i++) d[i] = (float)BFloat16.FromBits(s[i]); break; }
            default: { var s = b.Data; var d = MemoryMarshal.Cast<byte, int>(r.AsSpan()); for (int i = 0; i < n; i++) d[i] = s[i]; break; }
        }
        return r;
    }

    static void FromWorking(byte[] work, DType workType, CpuBuffer dst)
    {
        if (dst.DType == workType) { if (!ReferenceEquals(work, dst.Data)) work.AsSpan(0, dst.Data.Length).CopyTo(dst.Data); return; }
        int n = (int)dst.Length;
        switch (dst.DType)
        {
            case DType.Float16: { var s = MemoryMarshal.Cast<byte, float>(work.AsSpan()); var d = dst.Span<Half>(); for (int i = 0; i < n; i++) d[i] = (Half)s[i]; break; }
            case DType.BFloat16: { var s = MemoryMarshal.Cast<byte, float>(work.AsSpan()); var d = dst.Span<ushort>(); for (int i = 0; i < n; i++) d[i] = ((BFloat16)s[i]).Bits; break; }
            case DType.Bool: { var s = MemoryMarshal.Cast<byte, int>(work.AsSpan()); for (int i = 0; i < n; i++) dst.Data[i] = (byte)(s[i] > 0 ? 1 : 0); break; } // empty max is int.MinValue: false
            default: { var s = MemoryMarshal.Cast<byte, int>(work.AsSpan()); for (int i = 0; i < n; i++) dst.Data[i] = unchecked((byte)s[i]); break; }
        }
    }

    static void Reduce(ReduceKind kind, IntTuple axes, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        var work = WorkingType(src.DType);
        var input = ToWorking(src, work);
        var output = dst.DType == work ? dst.Data : new byte[dst.Length * work.SizeOf()];
        var isa = Config.Isa;
        var dims = srcType.Shape;
        switch (work)
        {
            case DType.Float32: ReduceTyped<float>(kind, dims, axes, input, output, isa); break;
            case DType.Float64: ReduceTyped<double>(kind, dims, axes, input, output, isa); break;
            case DType.Int32: ReduceTyped<int>(kind, dims, axes, input, output, isa); break;
            case DType.UInt32: ReduceTyped<uint>(kind, dims, axes, input, output, isa); break;
            default: throw new NotSupportedException($"reduce: dtype {src.DType.Name()} is not supported by the CPU backend");
        }
        FromWorking(output, work, dst);
    }

    static void ReduceTyped<T>(ReduceKind kind, Shape dims, IntTuple axes, byte[] input, byte[] output, Isa isa) where T : unmanaged, INumber<T>
    {
        switch (kind)
        {
            case ReduceKind.Sum: ReduceAxes<T, AddOp<T>>(dims, axes, input, output, isa); break;
            case ReduceKind.Prod: ReduceAxes<T, MulOp<T>>(dims, axes, input, output, isa); break;
            case ReduceKind.Max: ReduceAxes<T, MaxOp<T>>(dims, axes, input, output, isa); break;
            default: ReduceAxes<T, MinOp<T>>(dims, axes, input, output, isa); break;
        }
    }

    // ------------------------------------------------------------------ reduce over axes

    /// <summary>
    /// Reduces in stages: dimensions of size 1 are dropped, neighbours of the same kind (kept or
    /// reduced) are merged, and each remaining reduced block, innermost first, is reduced as an
    /// (outer, reduced, inner) problem.
    /// </summary>
    static void ReduceAxes<T, TOp>(Shape dims, IntTuple axes, byte[] input, byte[] output, Isa isa)
        where T : unmanaged where TOp : IAggregation<T>
    {
        long outSize = 1, redSize = 1;
        for (int i = 0; i < dims.Rank; i++) { if (axes.Contains(i)) redSize *= dims[i]; else outSize *= dims[i]; }
        var dst = MemoryMarshal.Cast<byte, T>(output.AsSpan(0, checked((int)(outSize * Unsafe.SizeOf<T>()))));
        if (outSize == 0) return;
        if (redSize == 0) { dst.Fill(TOp.Identity); return; }

        // (size, reduced) after dropping size-1 dims and merging neighbours of the same kind, on
        // the stack (a train step reduces every step: no lists).
        Span<long> sizes = stackalloc long[Math.Max(1, dims.Rank)];
        Span<bool> reduced = stackalloc bool[Math.Max(1, dims.Rank)];
        int count = 0, nReduced = 0;
        for (int i = 0; i < dims.Rank; i++)
        {
            if (dims[i] == 1) continue;
            bool red = axes.Contains(i);
            if (count > 0 && reduced[count - 1] == red) sizes[count - 1] *= dims[i];
            else { sizes[count] = dims[i]; reduced[count] = red; count++; if (red) nReduced++; }
        }
        if (nReduced == 0)
        {
            MemoryMarshal.Cast<byte, T>(input.AsSpan()).Slice(0, (int)outSize).CopyTo(dst);
            return;
        }
        byte[] current = input;
        while (true)
        {
            int j = count - 1;
            while (!reduced[j]) j--;
            long outer = 1, inner = 1;
            for (int k = 0; k < j; k++) outer *= sizes[k];
            for (int k = j + 1; k < count; k++) inner *= sizes[k];
            long r = sizes[j];
            // Remove block j; its neighbours (both kept) merge.
            for (int k = j; k < count - 1; k++) { sizes[k] = sizes[k + 1]; reduced[k] = reduced[k + 1]; }
            count--; nReduced--;
            if (j > 0 && j < count && reduced[j - 1] == reduced[j])
            {
                sizes[j - 1] *= sizes[j];
                for (int k = j; k < count - 1; k++) { sizes[k] = sizes[k + 1]; reduced[k] = reduced[k + 1]; }
                count--;
            }
            bool last = nReduced == 0;
            byte[] next = last ? output : new byte[outer * inner * Unsafe.SizeOf<T>()];
            ReduceStage<T, TOp>(current, next, outer, r, inner, isa);
            if (last) return;
            current = next;
        }
    }

    static void ReduceStage<T, TOp>(byte[] src, byte[] dst, long outer, long r, long inner, Isa isa)
        where T : unmanaged where TOp : IAggregation<T>
    {
        if (inner == 1)
        {
            long nb = (r + RowBlock - 1) / RowBlock;
            if (outer >= 2 * Config.NumThreads || nb < 4)
            {
                // Static lambdas with explicit state: nothing is allocated when the work runs inline.
                CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / r), (src, dst, r, nb, isa), static (st, o0, o1) =>
                {
                    var s = MemoryMarshal.Cast<byte, T>(st.src.AsSpan());
                    var d = MemoryMarshal.Cast<byte, T>(st.dst.AsSpan());
                    for (long o = o0; o < o1; o++)
                        d[(int)o] = ReduceRow<T, TOp>(s.Slice((int)(o * st.r), (int)st.r), 0, st.nb, st.isa);
                }, align: 1);
            }
            else
            {
                // Few long rows: blocks in parallel, then the same pairwise tree over their results.
                var partials = new T[nb];
                for (long o = 0; o < outer; o++)
                {
                    long baseOff = o * r;
                    CpuParallel.For(nb, 4, (src, partials, baseOff, r, isa), static (st, b0, b1) =>
                    {
                        var s = MemoryMarshal.Cast<byte, T>(st.src.AsSpan());
                        for (long b = b0; b < b1; b++)
                        {
                            long start = b * RowBlock;
                            st.partials[b] = ReduceBlock<T, TOp>(s.Slice((int)(st.baseOff + start), (int)Math.Min(RowBlock, st.r - start)), st.isa);
                        }
                    }, align: 1);
                    MemoryMarshal.Cast<byte, T>(dst.AsSpan())[(int)o] = CombineTree<T, TOp>(partials, 0, nb);
                }
            }
            return;
        }

        // Strided: accumulate whole rows of the inner dimension, one column tile at a time.
        long tiles = (inner + TileWidth - 1) / TileWidth;
        long units = outer * tiles;
        long rowBlocks = (r + RowsPerBlock - 1) / RowsPerBlock;
        int depth = 2;
        for (long n = rowBlocks; n > 1; n = (n + 1) / 2) depth++;
        // Fewer column tiles than threads (a reduction to a few channels): the top levels of each
        // tile's tree run in parallel too.
        int threads = Config.NumThreads, levels = 0;
        if (units < threads && r * Math.Min(inner, TileWidth) * units >= 2 * CpuParallel.ElementwiseGrain)
            while ((units << levels) < threads && (2L << levels) <= rowBlocks && levels < 6) levels++;
        if (levels > 0)
        {
            StridedSubtrees<T, TOp>(src, dst, outer, r, inner, tiles, rowBlocks, depth, levels, isa);
            return;
        }
        CpuParallel.For(units, Math.Max(1, CpuParallel.ElementwiseGrain / (r * Math.Min(inner, TileWidth))),
            (src, dst, inner, r, tiles, rowBlocks, depth, isa), static (st, u0, u1) =>
        {
            var (src, dst, inner, r, tiles, rowBlocks, depth, isa) = st;
            var s = MemoryMarshal.Cast<byte, T>(src.AsSpan());
            var d = MemoryMarshal.Cast<byte, T>(dst.AsSpan());
            var scratch = ReductionScratch<T>.Get(TileWidth * depth);
            for (long u = u0; u < u1; u++)
            {
                long o = u / tiles, j0 = u % tiles * TileWidth;
                int w = (int)Math.Min(TileWidth, inner - j0);
                var target = d.Slice((int)(o * inner + j0), w);
                StridedTree<T, TOp>(s, o * r * inner + j0, inner, r, 0, rowBlocks, w, target, scratch, isa);
            }
        }, align: 1);
    }

    /// <summary>
    /// The strided reduction with each column tile's tree cut at <paramref name="levels"/> levels:
    /// the 2^levels subtrees (the same halves <see cref="StridedTree"/> takes; each has at least
    /// two row blocks per level cut, so none is cut short) run in parallel, then their results are
    /// combined in the tree's own order, so every output sees the same operations.
    /// </summary>
    static void StridedSubtrees<T, TOp>(byte[] src, byte[] dst, long outer, long r, long inner, long tiles, long rowBlocks,
        int depth, int levels, Isa isa) where T : unmanaged where TOp : IAggregation<T>
    {
        long leaves = 1L << levels, units = outer * tiles, w0 = Math.Min(inner, TileWidth);
        var partials = ReductionScratch<T>.Partials((int)(units * leaves * w0));
        CpuParallel.For(units * leaves, Math.Max(1, CpuParallel.ElementwiseGrain / Math.Max(1, r / leaves * w0)),
            (src, partials, inner, r, tiles, rowBlocks, depth, levels, isa), static (st, i0, i1) =>
        {
            var (src, partials, inner, r, tiles, rowBlocks, depth, levels, isa) = st;
            var s = MemoryMarshal.Cast<byte, T>(src.AsSpan());
            var scratch = ReductionScratch<T>.Get(TileWidth * depth);
            long w0 = Math.Min(inner, TileWidth);
            for (long i = i0; i < i1; i++)
            {
                long u = i >> levels, leaf = i & ((1L << levels) - 1);
                long o = u / tiles, j0 = u % tiles * TileWidth;
                int w = (int)Math.Min(TileWidth, inner - j0);
                long lo = 0, hi = rowBlocks;
                for (int l = levels - 1; l >= 0; l--)
                {
                    long mid = lo + (hi - lo) / 2;
                    if (((leaf >> l) & 1) == 0) hi = mid; else lo = mid;
                }
                StridedTree<T, TOp>(s, o * r * inner + j0, inner, r, lo, hi, w, partials.AsSpan((int)(i * w0), w), scratch, isa);
            }
        }, align: 1);
        var d = MemoryMarshal.Cast<byte, T>(dst.AsSpan());
        for (long u = 0; u < units; u++)
        {
            long o = u / tiles, j0 = u % tiles * TileWidth;
            int w = (int)Math.Min(TileWidth, inner - j0);
            var unit = partials.AsSpan((int)(u * leaves * w0), (int)(leaves * w0));
            CombineLeaves<T, TOp>(unit, 0, leaves, (int)w0, w, isa);
            unit.Slice(0, w).CopyTo(d.Slice((int)(o * inner + j0), w));
        }
    }

    /// <summary>Combines subtree results [a, b) (each <paramref name="w0"/> apart) into the first, in the tree's order.</summary>
    static void CombineLeaves<T, TOp>(Span<T> leaves, long a, long b, int w0, int w, Isa isa)
        where T : unmanaged where TOp : IAggregation<T>
    {
        if (b - a == 1) return;
        long m = a + (b - a) / 2;
        CombineLeaves<T, TOp>(leaves, a, m, w0, w, isa);
        CombineLeaves<T, TOp>(leaves, m, b, w0, w, isa);
        CombineInto<T, TOp>(leaves.Slice((int)(a * w0), w), leaves.Slice((int)(m * w0), w), isa);
    }

    /// <summary>Pairwise tree over the fixed blocks [lo, hi) of one contiguous row.</summary>
    static T ReduceRow<T, TOp>(ReadOnlySpan<T> row, long lo, long hi, Isa isa) where T : unmanaged where TOp : IAggregation<T>
    {
        if (hi - lo == 1)
        {
            long start = lo * RowBlock;
            return ReduceBlock<T, TOp>(row.Slice((int)start, (int)Math.Min(RowBlock, row.Length - start)), isa);
        }
        long mid = lo + (hi - lo) / 2;
        return TOp.Invoke(ReduceRow<T, TOp>(row, lo, mid, isa), ReduceRow<T, TOp>(row, mid, hi, isa));
    }

    /// <summary>The same pairwise tree as <see cref="ReduceRow"/>, over precomputed block results.</summary>
    static T CombineTree<T, TOp>(T[] partials, long lo, long hi) where T : unmanaged where TOp : IAggregation<T>
    {
        if (hi - lo == 1) return partials[lo];
        long mid = lo + (hi - lo) / 2;
        return TOp.Invoke(CombineTree<T, TOp>(partials, lo, mid), CombineTree<T, TOp>(partials, mid, hi));
    }

    /// <summary>Pairwise tree over row blocks [lo, hi) of a strided reduction, for a column tile of width w.</summary>
    static void StridedTree<T, TOp>(ReadOnlySpan<T> s, long baseOff, long inner, long r, long lo, long hi, int w, Span<T> target, Span<T> scratch, Isa isa)
        where T : unmanaged where TOp : IAggregation<T>
    {
        if (hi - lo == 1)
        {
            long r0 = lo * RowsPerBlock, r1 = Math.Min(r, r0 + RowsPerBlock);
            s.Slice((int)(baseOff + r0 * inner), w).CopyTo(target);
            if (w < 16)
            {
                // Narrow columns: a tight scalar loop (the same operations as CombineInto's scalar tail).
                for (long k = r0 + 1; k < r1; k++)
                {
                    int off = (int)(baseOff + k * inner);
                    for (int j = 0; j < w; j++) target[j] = TOp.Invoke(target[j], s[off + j]);
                }
                return;
            }
            for (long k = r0 + 1; k < r1; k++)
                CombineInto<T, TOp>(target, s.Slice((int)(baseOff + k * inner), w), isa);
            return;
        }
        long mid = lo + (hi - lo) / 2;
        StridedTree<T, TOp>(s, baseOff, inner, r, lo, mid, w, target, scratch, isa);
        var right = scratch.Slice(0, w);
        StridedTree<T, TOp>(s, baseOff, inner, r, mid, hi, w, right, scratch.Slice(TileWidth), isa);
        CombineInto<T, TOp>(target, right, isa);
    }

    /// <summary>dst[i] = op(dst[i], src[i]).</summary>
    static void CombineInto<T, TOp>(Span<T> dst, ReadOnlySpan<T> src, Isa isa) where T : unmanaged where TOp : IAggregation<T>
    {
        int n = dst.Length, i = 0;
        ref T d = ref MemoryMarshal.GetReference(dst);
        ref T s = ref MemoryMarshal.GetReference(src);
        if (isa == Isa.Vector512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref d, (nuint)i), Vector512.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        if (isa >= Isa.Vector256)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref d, (nuint)i), Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        if (isa >= Isa.Vector128)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Invoke(Vector128.LoadUnsafe(ref d, (nuint)i), Vector128.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        for (; i < n; i++) dst[i] = TOp.Invoke(dst[i], src[i]);
    }

    /// <summary>Reduces one block (at most <see cref="RowBlock"/> elements) with four vector accumulators.</summary>
    static T ReduceBlock<T, TOp>(ReadOnlySpan<T> x, Isa isa) where T : unmanaged where TOp : IAggregation<T>
    {
        int n = x.Length, i = 0;
        ref T p = ref MemoryMarshal.GetReference(x);
        T result = TOp.Identity;
        bool any = false;
        if (isa == Isa.Vector512 && n >= Vector512<T>.Count)
        {
            int c = Vector512<T>.Count;
            var a0 = Vector512.LoadUnsafe(ref p);
            Vector512<T> a1 = Vector512.Create(TOp.Identity), a2 = a1, a3 = a1;
            i = c;
            for (; i <= n - 4 * c; i += 4 * c)
            {
                a0 = TOp.Invoke(a0, Vector512.LoadUnsafe(ref p, (nuint)i));
                a1 = TOp.Invoke(a1, Vector512.LoadUnsafe(ref p, (nuint)(i + c)));
                a2 = TOp.Invoke(a2, Vector512.LoadUnsafe(ref p, (nuint)(i + 2 * c)));
                a3 = TOp.Invoke(a3, Vector512.LoadUnsafe(ref p, (nuint)(i + 3 * c)));
            }
            for (; i <= n - c; i += c) a0 = TOp.Invoke(a0, Vector512.LoadUnsafe(ref p, (nuint)i));
            var v = TOp.Invoke(TOp.Invoke(a0, a1), TOp.Invoke(a2, a3));
            result = Horizontal<T, TOp>(TOp.Invoke(v.GetLower(), v.GetUpper()));
            any = true;
        }
        else if (isa >= Isa.Vector256 && n >= Vector256<T>.Count)
        {
            int c = Vector256<T>.Count;
            var a0 = Vector256.LoadUnsafe(ref p);
            Vector256<T> a1 = Vector256.Create(TOp.Identity), a2 = a1, a3 = a1;
            i = c;
            for (; i <= n - 4 * c; i += 4 * c)
            {
                a0 = TOp.Invoke(a0, Vector256.LoadUnsafe(ref p, (nuint)i));
                a1 = TOp.Invoke(a1, Vector256.LoadUnsafe(ref p, (nuint)(i + c)));
                a2 = TOp.Invoke(a2, Vector256.LoadUnsafe(ref p, (nuint)(i + 2 * c)));
                a3 = TOp.Invoke(a3, Vector256.LoadUnsafe(ref p, (nuint)(i + 3 * c)));
            }
            for (; i <= n - c; i += c) a0 = TOp.Invoke(a0, Vector256.LoadUnsafe(ref p, (nuint)i));
            result = Horizontal<T, TOp>(TOp.Invoke(TOp.Invoke(a0, a1), TOp.Invoke(a2, a3)));
            any = true;
        }
        else if (isa >= Isa.Vector128 && n >= Vector128<T>.Count)
        {
            int c = Vector128<T>.Count;
            var a0 = Vector128.LoadUnsafe(ref p);
            Vector128<T> a1 = Vector128.Create(TOp.Identity), a2 = a1, a3 = a1;
            i = c;
            for (; i <= n - 4 * c; i += 4 * c)
            {
                a0 = TOp.Invoke(a0, Vector128.LoadUnsafe(ref p, (nuint)i));
                a1 = TOp.Invoke(a1, Vector128.LoadUnsafe(ref p, (nuint)(i + c)));
                a2 = TOp.Invoke(a2, Vector128.LoadUnsafe(ref p, (nuint)(i + 2 * c)));
                a3 = TOp.Invoke(a3, Vector128.LoadUnsafe(ref p, (nuint)(i + 3 * c)));
            }
            for (; i <= n - c; i += c) a0 = TOp.Invoke(a0, Vector128.LoadUnsafe(ref p, (nuint)i));
            result = Horizontal<T, TOp>(TOp.Invoke(TOp.Invoke(a0, a1), TOp.Invoke(a2, a3)));
            any = true;
        }
        if (!any && n > 0)
        {
            // Scalar path: eight interleaved accumulators (like vector lanes), combined pairwise.
            Span<T> acc = stackalloc T[8];
            int m = Math.Min(n, 8);
            for (int k = 0; k < 8; k++) acc[k] = k < m ? x[k] : TOp.Identity;
            i = m;
            for (; i <= n - 8; i += 8)
                for (int k = 0; k < 8; k++) acc[k] = TOp.Invoke(acc[k], x[i + k]);
            result = TOp.Invoke(TOp.Invoke(TOp.Invoke(acc[0], acc[4]), TOp.Invoke(acc[2], acc[6])),
                                TOp.Invoke(TOp.Invoke(acc[1], acc[5]), TOp.Invoke(acc[3], acc[7])));
        }
        for (; i < n; i++) result = TOp.Invoke(result, x[i]);
        return result;
    }

    static T Horizontal<T, TOp>(Vector256<T> v) where T : unmanaged where TOp : IAggregation<T>
        => Horizontal<T, TOp>(TOp.Invoke(v.GetLower(), v.GetUpper()));

    static T Horizontal<T, TOp>(Vector128<T> v) where T : unmanaged where TOp : IAggregation<T>
    {
        int c = Vector128<T>.Count;
        // Pairwise over lanes in a fixed order.
        Span<T> lanes = stackalloc T[c];
        v.CopyTo(lanes);
        for (int width = c; width > 1; width /= 2)
            for (int k = 0; k < width / 2; k++) lanes[k] = TOp.Invoke(lanes[k], lanes[k + width / 2]);
        return lanes[0];
    }

    // ------------------------------------------------------------------ cumulative

    static void Cumulative(ReduceKind kind, CumulativeParams p, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        var work = WorkingType(src.DType);
        var input = ToWorking(src, work);
        var output = dst.DType == work ? dst.Data : new byte[dst.Length * work.SizeOf()];
        var isa = Config.Isa;
        var shape = srcType.Shape;
        long outer = 1, inner = 1;
        for (int i = 0; i < p.Axis; i++) outer *= shape[i];
        for (int i = p.Axis + 1; i < shape.Rank; i++) inner *= shape[i];
        long n = shape[p.Axis];
        if (srcType.Size > 0)
        {
            switch (work)
            {
                case DType.Float32: CumulativeTyped<float>(kind, input, output, outer, n, inner, p.Reverse, isa); break;
                case DType.Float64: CumulativeTyped<double>(kind, input, output, outer, n, inner, p.Reverse, isa); break;
                case DType.Int32: CumulativeTyped<int>(kind, input, output, outer, n, inner, p.Reverse, isa); break;
                case DType.UInt32: CumulativeTyped<uint>(kind, input, output, outer, n, inner, p.Reverse, isa); break;
                default: throw new NotSupportedException($"cumulative: dtype {src.DType.Name()} is not supported by the CPU backend");
            }
        }
        FromWorking(output, work, dst);
    }

    static void CumulativeTyped<T>(ReduceKind kind, byte[] input, byte[] output, long outer, long n, long inner, bool reverse, Isa isa)
        where T : unmanaged, INumber<T>
    {
        switch (kind)
        {
            case ReduceKind.Sum: Scan<T, AddOp<T>>(input, output, outer, n, inner, reverse, isa); break;
            case ReduceKind.Prod: Scan<T, MulOp<T>>(input, output, outer, n, inner, reverse, isa); break;
            case ReduceKind.Max: Scan<T, MaxOp<T>>(input, output, outer, n, inner, reverse, isa); break;
            default: Scan<T, MinOp<T>>(input, output, outer, n, inner, reverse, isa); break;
        }
    }

    /// <summary>Sequential inclusive scan along the axis; rows of the inner dimensions are combined with vectors.</summary>
    static void Scan<T, TOp>(byte[] input, byte[] output, long outer, long n, long inner, bool reverse, Isa isa)
        where T : unmanaged where TOp : IAggregation<T>
    {
        if (inner == 1)
        {
            CpuParallel.For(outer, Math.Max(1, CpuParallel.ElementwiseGrain / n), (o0, o1) =>
            {
                var s = MemoryMarshal.Cast<byte, T>(input.AsSpan());
                var d = MemoryMarshal.Cast<byte, T>(output.AsSpan());
                for (long o = o0; o < o1; o++)
                {
                    var xs = s.Slice((int)(o * n), (int)n);
                    var ys = d.Slice((int)(o * n), (int)n);
                    if (reverse)
                    {
                        T acc = xs[(int)n - 1];
                        ys[(int)n - 1] = acc;
                        for (int k = (int)n - 2; k >= 0; k--) ys[k] = acc = TOp.Invoke(acc, xs[k]);
                    }
                    else
                    {
                        T acc = xs[0];
                        ys[0] = acc;
                        for (int k = 1; k < n; k++) ys[k] = acc = TOp.Invoke(acc, xs[k]);
                    }
                }
            }, align: 1);
            return;
        }
        long tiles = (inner + TileWidth - 1) / TileWidth;
        CpuParallel.For(outer * tiles, Math.Max(1, CpuParallel.ElementwiseGrain / (n * Math.Min(inner, TileWidth))), (u0, u1) =>
        {
            var s = MemoryMarshal.Cast<byte, T>(input.AsSpan());
            var d = MemoryMarshal.Cast<byte, T>(output.AsSpan());
            for (long u = u0; u < u1; u++)
            {
                long o = u / tiles, j0 = u % tiles * TileWidth;
                int w = (int)Math.Min(TileWidth, inner - j0);
                long baseOff = o * n * inner + j0;
                for (long step = 0; step < n; step++)
                {
                    long k = reverse ? n - 1 - step : step;
                    var row = d.Slice((int)(baseOff + k * inner), w);
                    s.Slice((int)(baseOff + k * inner), w).CopyTo(row);
                    if (step > 0)
                    {
                        long prev = reverse ? k + 1 : k - 1;
                        if (w == 1) row[0] = TOp.Invoke(d[(int)(baseOff + prev * inner)], row[0]);
                        else CombineInto<T, TOp>(row, d.Slice((int)(baseOff + prev * inner), w), isa);
                    }
                }
            }
        }, align: 1);
    }

    // ------------------------------------------------------------------ argmax / argmin

    static void ArgReduce(bool isMax, int axis, CpuBuffer src, AbstractValue srcType, CpuBuffer dst)
    {
        var work = WorkingType(src.DType);
        var input = ToWorking(src, work);
        var shape = srcType.Shape;
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Rank; i++) inner *= shape[i];
        long n = shape[axis];
        if (outer * inner == 0) return;
        switch (work)
        {
            case DType.Float32: ArgTyped<float>(isMax, input, dst, outer, n, inner); break;
            case DType.Float64: ArgTyped<double>(isMax, input, dst, outer, n, inner); break;
            case DType.Int32: ArgTyped<int>(isMax, input, dst, outer, n, inner); break;
            case DType.UInt32: ArgTyped<uint>(isMax, input, dst, outer, n, inner); break;
            default: throw new NotSupportedException($"argmax: dtype {src.DType.Name()} is not supported by the CPU backend");
        }
    }

    /// <summary>First index of the extreme value; the first NaN wins. uint32 indices share int32's bits (indices are non-negative).</summary>
    static void ArgTyped<T>(bool isMax, byte[] input, CpuBuffer dst, long outer, long n, long inner) where T : unmanaged, INumber<T>
    {
        CpuParallel.For(outer * inner, Math.Max(1, CpuParallel.ElementwiseGrain / n), (t0, t1) =>
        {
            var x = MemoryMarshal.Cast<byte, T>(input.AsSpan());
            var outI = dst.Span<int>();
            for (long t = t0; t < t1; t++)
            {
                long o = t / inner, j = t % inner;
                int off = (int)(o * n * inner + j), step = (int)inner;
                T best = x[off];
                int bi = 0;
                if (!T.IsNaN(best))
                {
                    for (int k = 1; k < n; k++)
                    {
                        T v = x[off + k * step];
                        if (isMax ? v > best : v < best) { best = v; bi = k; }
                        else if (T.IsNaN(v)) { bi = k; break; }
                    }
                }
                outI[(int)t] = bi;
            }
        }, align: 1);
    }
}

/// <summary>A per-thread scratch array for strided reductions (reused: a train step reduces every step).</summary>
internal static class ReductionScratch<T>
{
    [ThreadStatic] static T[]? _buffer, _partials;

    public static T[] Get(int length)
    {
        var b = _buffer;
        if (b == null || b.Length < length) _buffer = b = new T[length];
        return b;
    }

    /// <summary>A second array, for subtree results the caller combines (its workers use <see cref="Get"/>).</summary>
    public static T[] Partials(int length)
    {
        var b = _partials;
        if (b == null || b.Length < length) _partials = b = new T[length];
        return b;
    }
}
