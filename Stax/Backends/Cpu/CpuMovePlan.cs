using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

/// <summary>
/// A strided copy of a box of elements, simplified once: size-1 dimensions dropped, neighbours that
/// are contiguous in both source and destination merged, and the copy's kind chosen (contiguous
/// rows, strided rows, or 2-D tiles when the source's unit-stride dimension is not the
/// destination's), for any element size. Built per equation and cached (<see cref="CpuPlanCache{TParams, TPlan}"/>), so a
/// compiled program's transposes, slices and reversals allocate nothing per call.
/// </summary>
internal sealed class CpuMovePlan
{
    const int Tile = 32;

    readonly long _srcBase, _dstBase;
    readonly long[] _ss, _ds;
    readonly int[] _dims;
    readonly int _rank, _tileDim;
    readonly bool _empty, _contiguous;

    CpuMovePlan(long srcBase, long[] ss, long dstBase, long[] ds, int[] dims, bool empty)
    {
        _srcBase = srcBase; _dstBase = dstBase; _ss = ss; _ds = ds; _dims = dims; _empty = empty;
        _rank = dims.Length;
        if (empty) return;
        int inner = _rank - 1;
        // The transposed tile case: the destination's inner dimension is unit-stride, the source's is
        // not, and some outer dimension k is unit-stride in the source.
        _tileDim = -1;
        if (ds[inner] == 1 && ss[inner] != 1 && dims[inner] >= 4)
            for (int j = inner - 1; j >= 0; j--)
                if (ss[j] == 1 && dims[j] >= 4) { _tileDim = j; break; }
        _contiguous = ss[inner] == 1 && ds[inner] == 1;
    }

    /// <summary>
    /// The plan for copying the box <paramref name="dims"/>: element at multi-index i goes from
    /// src[srcBase + Σ i_d·srcStrides_d] to dst[dstBase + Σ i_d·dstStrides_d] (offsets and strides in
    /// elements; source strides may be negative). The caller guarantees every offset is in bounds
    /// (the primitives' shape rules establish that), and destination offsets are distinct.
    /// </summary>
    public static CpuMovePlan Make(long srcBase, ReadOnlySpan<long> srcStrides, long dstBase, ReadOnlySpan<long> dstStrides,
        ReadOnlySpan<int> dims)
    {
        var d = new List<int>(dims.Length);
        var ss = new List<long>(dims.Length);
        var ds = new List<long>(dims.Length);
        bool empty = false;
        for (int k = 0; k < dims.Length; k++)
        {
            if (dims[k] == 0) { empty = true; break; }
            if (dims[k] == 1) continue;
            int last = d.Count - 1;
            if (last >= 0 && ss[last] == srcStrides[k] * dims[k] && ds[last] == dstStrides[k] * dims[k])
            {
                d[last] *= dims[k];
                ss[last] = srcStrides[k];
                ds[last] = dstStrides[k];
                continue;
            }
            d.Add(dims[k]); ss.Add(srcStrides[k]); ds.Add(dstStrides[k]);
        }
        if (d.Count == 0) { d.Add(1); ss.Add(1); ds.Add(1); }
        return new CpuMovePlan(srcBase, ss.ToArray(), dstBase, ds.ToArray(), d.ToArray(), empty);
    }

    /// <summary>Copies elements of <paramref name="esize"/> bytes from <paramref name="src"/> to
    /// <paramref name="dst"/> (no allocation: the chunks get the plan and the arrays as a struct state).</summary>
    public void Run(byte[] src, byte[] dst, int esize)
    {
        if (_empty) return;
        var args = new Arrays(this, src, dst, esize);
        switch (esize)
        {
            case 1: Run<byte>(args); break;
            case 2: Run<ushort>(args); break;
            case 4: Run<uint>(args); break;
            case 8: Run<ulong>(args); break;
            default: throw new NotSupportedException($"CPU movement kernels: element size {esize} is not supported");
        }
    }

    readonly record struct Arrays(CpuMovePlan Plan, byte[] Src, byte[] Dst, int ESize);

    static void Run<T>(Arrays a) where T : unmanaged
    {
        var plan = a.Plan;
        int inner = plan._rank - 1;
        long n = plan._dims[inner];
        if (plan._tileDim >= 0)
        {
            int k = plan._tileDim;
            long outer = 1;
            for (int j = 0; j < inner; j++) if (j != k) outer *= plan._dims[j];
            long kTiles = (plan._dims[k] + Tile - 1) / Tile;
            long perItem = (long)Tile * n;
            CpuParallel.For(outer * kTiles, Math.Max(1, CpuParallel.ElementwiseGrain / perItem), a,
                static (a, w0, w1) => a.Plan.Tiles<T>(a.Src, a.Dst, w0, w1), align: 1);
            return;
        }
        long rows = 1;
        for (int j = 0; j < inner; j++) rows *= plan._dims[j];
        CpuParallel.For(rows, Math.Max(1, CpuParallel.ElementwiseGrain / n), a,
            static (a, r0, r1) => a.Plan.Rows<T>(a.Src, a.Dst, a.ESize, r0, r1), align: 1);
    }

    void Rows<T>(byte[] src, byte[] dst, int esize, long r0, long r1) where T : unmanaged
    {
        int inner = _rank - 1;
        long n = _dims[inner];
        ref byte s0 = ref MemoryMarshal.GetArrayDataReference(src);
        ref byte d0 = ref MemoryMarshal.GetArrayDataReference(dst);
        for (long r = r0; r < r1; r++)
        {
            Offsets(r, inner, -1, out long so, out long dOff);
            so += _srcBase; dOff += _dstBase;
            if (_contiguous)
                Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref d0, (nint)(dOff * esize)),
                    ref Unsafe.Add(ref s0, (nint)(so * esize)), (uint)(n * esize));
            else
                CopyStrided<T>(ref Unsafe.Add(ref s0, (nint)(so * esize)), _ss[inner],
                    ref Unsafe.Add(ref d0, (nint)(dOff * esize)), _ds[inner], n);
        }
    }

    // Offsets of the row whose outer multi-index (dimensions 0..count-1 except `skip`) has flat index r.
    void Offsets(long r, int count, int skip, out long so, out long dOff)
    {
        so = 0; dOff = 0;
        for (int j = count - 1; j >= 0; j--)
        {
            if (j == skip) continue;
            long i = r % _dims[j];
            r /= _dims[j];
            so += i * _ss[j];
            dOff += i * _ds[j];
        }
    }

    static void CopyStrided<T>(ref byte src, long srcStride, ref byte dst, long dstStride, long n) where T : unmanaged
    {
        ref T s = ref Unsafe.As<byte, T>(ref src);
        ref T d = ref Unsafe.As<byte, T>(ref dst);
        nint si = 0, di = 0, sst = (nint)srcStride, dst_ = (nint)dstStride;
        for (long i = 0; i < n; i++, si += sst, di += dst_)
            Unsafe.Add(ref d, di) = Unsafe.Add(ref s, si);
    }

    // Copies tiles w0..w1 of the (k, inner) plane. Each Tile x Tile block is read as contiguous
    // source runs (along k) into a small local buffer and written as contiguous destination runs
    // (along inner), so every cache line is touched once even when both strides are powers of two
    // (which would make a direct strided tile loop thrash one cache set).
    void Tiles<T>(byte[] src, byte[] dst, long w0, long w1) where T : unmanaged
    {
        int inner = _rank - 1, k = _tileDim;
        int nk = _dims[k], nj = _dims[inner];
        long kTiles = (nk + Tile - 1) / Tile;
        Span<T> buf = stackalloc T[Tile * Tile];
        ref T b0 = ref MemoryMarshal.GetReference(buf);
        ref T s0 = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(src));
        ref T d0 = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(dst));
        nint sj = (nint)_ss[inner], dk = (nint)_ds[k];
        for (long w = w0; w < w1; w++)
        {
            long o = w / kTiles;
            int kb = (int)(w % kTiles) * Tile;
            Offsets(o, inner, k, out long so, out long dOff);
            so += _srcBase + kb * _ss[k];
            dOff += _dstBase + kb * _ds[k];
            int kEnd = Math.Min(Tile, nk - kb);
            for (int jb = 0; jb < nj; jb += Tile)
            {
                int jEnd = Math.Min(Tile, nj - jb);
                for (int b = 0; b < jEnd; b++)
                {
                    ref T s = ref Unsafe.Add(ref s0, (nint)so + (jb + b) * sj);
                    ref T t = ref Unsafe.Add(ref b0, b * Tile);
                    for (int a = 0; a < kEnd; a++) Unsafe.Add(ref t, a) = Unsafe.Add(ref s, a);
                }
                for (int a = 0; a < kEnd; a++)
                {
                    ref T d = ref Unsafe.Add(ref d0, (nint)dOff + a * dk + jb);
                    ref T t = ref Unsafe.Add(ref b0, a);
                    for (int b = 0; b < jEnd; b++) Unsafe.Add(ref d, b) = Unsafe.Add(ref t, b * Tile);
                }
            }
        }
    }
}
