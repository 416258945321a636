using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

// Transpose, slice, pad, concatenate, rev and the dynamic slices. All of them are one operation:
// a strided copy of a box of elements (MoveStridedCopy), which simplifies the box (drops size-1
// dimensions, merges dimensions that are contiguous in both source and destination) and then
// copies contiguous rows with memmove, transposes 2-D tiles when the source's unit-stride
// dimension is not the destination's, or falls back to a strided element loop. Kernels work on
// raw bytes and are generic over the element size (1, 2, 4, 8 bytes), so every dtype shares them.
// They do not vectorise explicitly (memmove already does), so they ignore Config.Isa.
public sealed partial class CpuBackend
{
    static partial void RegisterSlicing()
    {
        Kernels[Prims.Transpose] = (p, ins, outs, it, ot) => TransposeKernel((TransposeParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.Slice] = (p, ins, outs, it, ot) => SliceKernel((SliceParams)p, ins[0], it[0], outs[0], ot[0]);
        Kernels[Prims.Rev] = (p, ins, outs, it, ot) => RevKernel((RevParams)p, ins[0], it[0], outs[0]);
        Kernels[Prims.Pad] = (p, ins, outs, it, ot) => PadKernel((PadParams)p, ins[0], ins[1], it[0], outs[0], ot[0]);
        Kernels[Prims.Concatenate] = (p, ins, outs, it, ot) => ConcatenateKernel((ConcatenateParams)p, ins, it, outs[0], ot[0]);
        Kernels[Prims.DynamicSlice] = (p, ins, outs, it, ot) => DynamicSliceKernel(ins, it, outs[0], ot[0]);
        Kernels[Prims.DynamicUpdateSlice] = (p, ins, outs, it, ot) => DynamicUpdateSliceKernel(ins, it, outs[0]);
    }

    static void TransposeKernel(TransposeParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst, AbstractValue dt)
    {
        var inStrides = st.Shape.Strides();
        var srcStrides = new long[dt.Rank];
        for (int i = 0; i < srcStrides.Length; i++) srcStrides[i] = inStrides[p.Permutation[i]];
        MoveStridedCopy(src.Data, 0, srcStrides, dst.Data, 0, dt.Shape.Strides(), dt.Shape.ToArray(), dst.DType.SizeOf());
    }

    static void SliceKernel(SliceParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst, AbstractValue dt)
    {
        var inStrides = st.Shape.Strides();
        var srcStrides = new long[st.Rank];
        long srcBase = 0;
        for (int d = 0; d < st.Rank; d++)
        {
            srcBase += p.StartIndices[d] * inStrides[d];
            srcStrides[d] = p.Strides[d] * inStrides[d];
        }
        MoveStridedCopy(src.Data, srcBase, srcStrides, dst.Data, 0, dt.Shape.Strides(), dt.Shape.ToArray(), dst.DType.SizeOf());
    }

    static void RevKernel(RevParams p, CpuBuffer src, AbstractValue st, CpuBuffer dst)
    {
        var srcStrides = st.Shape.Strides();
        long srcBase = 0;
        foreach (var d in p.Dimensions.Span)
        {
            if (st.Shape[d] == 0) return;
            srcBase += (st.Shape[d] - 1) * srcStrides[d];
            srcStrides[d] = -srcStrides[d];
        }
        MoveStridedCopy(src.Data, srcBase, srcStrides, dst.Data, 0, st.Shape.Strides(), st.Shape.ToArray(), dst.DType.SizeOf());
    }

    static void PadKernel(PadParams p, CpuBuffer src, CpuBuffer value, AbstractValue st, CpuBuffer dst, AbstractValue dt)
    {
        int esize = dst.DType.SizeOf();
        int rank = st.Rank;
        var outStrides = dt.Shape.Strides();
        var box = new int[rank];
        var srcStrides = st.Shape.Strides();
        var dstStrides = new long[rank];
        long srcBase = 0, dstBase = 0;
        bool fullyCovered = true;
        for (int d = 0; d < rank; d++)
        {
            int n = st.Shape[d], outN = dt.Shape[d];
            long step = p.Interior[d] + 1L, low = p.Low[d];
            // Input element i lands at low + i * step; keep those inside [0, outN).
            long first = low >= 0 ? 0 : (-low + step - 1) / step;
            long last = n == 0 || low + (n - 1) * step < 0 ? -1 : Math.Min(n - 1, MoveFloorDiv(outN - 1 - low, step));
            box[d] = (int)Math.Max(0, last - first + 1);
            srcBase += first * srcStrides[d];
            dstBase += (low + first * step) * outStrides[d];
            dstStrides[d] = step * outStrides[d];
            if (p.Low[d] > 0 || p.High[d] > 0 || (p.Interior[d] > 0 && n > 1)) fullyCovered = false;
        }
        if (!fullyCovered) MoveFill(dst.Data, value.Data.AsSpan(0, esize), esize);
        foreach (var b in box) if (b == 0) return;
        MoveStridedCopy(src.Data, srcBase, srcStrides, dst.Data, dstBase, dstStrides, box, esize);
    }

    static long MoveFloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    static void ConcatenateKernel(ConcatenateParams p, CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst, AbstractValue dt)
    {
        int esize = dst.DType.SizeOf();
        var dstStrides = dt.Shape.Strides();
        long offset = 0;
        for (int i = 0; i < ins.Length; i++)
        {
            var shape = it[i].Shape;
            if (shape.Size > 0)
                MoveStridedCopy(ins[i].Data, 0, shape.Strides(), dst.Data, offset * dstStrides[p.Dimension], dstStrides, shape.ToArray(), esize);
            offset += shape[p.Dimension];
        }
    }

    // XLA clamps each start index to [0, operand size - slice size].
    static long[] MoveClampedStarts(CpuBuffer[] idx, AbstractValue[] idxTypes, int first, Shape operand, ReadOnlySpan<int> sizes)
    {
        var starts = new long[operand.Rank];
        for (int d = 0; d < starts.Length; d++)
        {
            var b = idx[first + d];
            long v = b.DType switch
            {
                DType.Int32 => b.Span<int>()[0],
                DType.UInt32 => b.Span<uint>()[0],
                _ => b.Data[0],
            };
            starts[d] = Math.Clamp(v, 0, operand[d] - (long)sizes[d]);
        }
        return starts;
    }

    static void DynamicSliceKernel(CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst, AbstractValue dt)
    {
        var shape = it[0].Shape;
        if (dt.Size == 0) return;
        var starts = MoveClampedStarts(ins, it, 1, shape, dt.Shape.Dims);
        var strides = shape.Strides();
        long srcBase = 0;
        for (int d = 0; d < starts.Length; d++) srcBase += starts[d] * strides[d];
        MoveStridedCopy(ins[0].Data, srcBase, strides, dst.Data, 0, dt.Shape.Strides(), dt.Shape.ToArray(), dst.DType.SizeOf());
    }

    static void DynamicUpdateSliceKernel(CpuBuffer[] ins, AbstractValue[] it, CpuBuffer dst)
    {
        var shape = it[0].Shape;
        MoveCopyAll(ins[0].Data, dst.Data);
        var ushape = it[1].Shape;
        if (ushape.Size == 0) return;
        var starts = MoveClampedStarts(ins, it, 2, shape, ushape.Dims);
        var strides = shape.Strides();
        long dstBase = 0;
        for (int d = 0; d < starts.Length; d++) dstBase += starts[d] * strides[d];
        MoveStridedCopy(ins[1].Data, 0, ushape.Strides(), dst.Data, dstBase, strides, ushape.ToArray(), dst.DType.SizeOf());
    }

    // ------------------------------------------------------------------ engine

    const int MoveByteGrain = 1 << 17;

    static void MoveCopyAll(byte[] src, byte[] dst)
    {
        long n = src.Length;
        CpuParallel.For(n, MoveByteGrain, (s, e) => src.AsSpan((int)s, (int)(e - s)).CopyTo(dst.AsSpan((int)s)));
    }

    static void MoveFill(byte[] dst, ReadOnlySpan<byte> value, int esize)
    {
        if (dst.Length == 0) return;
        ulong pattern = 0;
        for (int i = 0; i < esize; i++) pattern |= (ulong)value[i] << (8 * i);
        long n = dst.Length / esize;
        CpuParallel.For(n, MoveByteGrain / esize, (s, e) =>
        {
            var span = dst.AsSpan((int)(s * esize), (int)((e - s) * esize));
            switch (esize)
            {
                case 1: span.Fill((byte)pattern); break;
                case 2: MemoryMarshal.Cast<byte, ushort>(span).Fill((ushort)pattern); break;
                case 4: MemoryMarshal.Cast<byte, uint>(span).Fill((uint)pattern); break;
                default: MemoryMarshal.Cast<byte, ulong>(span).Fill(pattern); break;
            }
        });
    }

    /// <summary>
    /// Copies the box <paramref name="dims"/>: element at multi-index i goes from
    /// src[srcBase + Σ i_d·srcStrides_d] to dst[dstBase + Σ i_d·dstStrides_d] (offsets and strides in
    /// elements; source strides may be negative). The caller guarantees every offset is in bounds
    /// (the primitives' shape rules establish that), and destination offsets are distinct.
    /// </summary>
    internal static void MoveStridedCopy(byte[] src, long srcBase, long[] srcStrides, byte[] dst, long dstBase, long[] dstStrides, int[] dims, int esize)
    {
        // Simplify: drop size-1 dimensions, merge neighbours contiguous in both buffers.
        var d = new List<int>(dims.Length);
        var ss = new List<long>(dims.Length);
        var ds = new List<long>(dims.Length);
        for (int k = 0; k < dims.Length; k++)
        {
            if (dims[k] == 0) return;
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
        var job = new MoveCopyJob(src, srcBase, ss.ToArray(), dst, dstBase, ds.ToArray(), d.ToArray(), esize);
        switch (esize)
        {
            case 1: job.Run<byte>(); break;
            case 2: job.Run<ushort>(); break;
            case 4: job.Run<uint>(); break;
            case 8: job.Run<ulong>(); break;
            default: throw new NotSupportedException($"CPU movement kernels: element size {esize} is not supported");
        }
    }

    sealed class MoveCopyJob(byte[] src, long srcBase, long[] ss, byte[] dst, long dstBase, long[] ds, int[] dims, int esize)
    {
        const int Tile = 32;
        readonly int _rank = dims.Length;

        public void Run<T>() where T : unmanaged
        {
            int inner = _rank - 1;
            long n = dims[inner];
            // The transposed tile case: the destination's inner dimension is unit-stride, the source's is
            // not, and some outer dimension k is unit-stride in the source.
            int k = -1;
            if (ds[inner] == 1 && ss[inner] != 1 && n >= 4)
                for (int j = inner - 1; j >= 0; j--)
                    if (ss[j] == 1 && dims[j] >= 4) { k = j; break; }
            if (k >= 0) { RunTiled<T>(k); return; }
            long rows = 1;
            for (int j = 0; j < inner; j++) rows *= dims[j];
            bool contiguous = ss[inner] == 1 && ds[inner] == 1;
            CpuParallel.For(rows, Math.Max(1, CpuParallel.ElementwiseGrain / n), (r0, r1) =>
            {
                ref byte s0 = ref MemoryMarshal.GetArrayDataReference(src);
                ref byte d0 = ref MemoryMarshal.GetArrayDataReference(dst);
                for (long r = r0; r < r1; r++)
                {
                    Offsets(r, inner, -1, out long so, out long dOff);
                    so += srcBase; dOff += dstBase;
                    if (contiguous)
                        Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref d0, (nint)(dOff * esize)), ref Unsafe.Add(ref s0, (nint)(so * esize)), (uint)(n * esize));
                    else
                        CopyStrided<T>(ref Unsafe.Add(ref s0, (nint)(so * esize)), ss[inner], ref Unsafe.Add(ref d0, (nint)(dOff * esize)), ds[inner], n);
                }
            }, align: 1);
        }

        // Offsets of the row whose outer multi-index (dimensions 0..count-1 except `skip`) has flat index r.
        void Offsets(long r, int count, int skip, out long so, out long dOff)
        {
            so = 0; dOff = 0;
            for (int j = count - 1; j >= 0; j--)
            {
                if (j == skip) continue;
                long i = r % dims[j];
                r /= dims[j];
                so += i * ss[j];
                dOff += i * ds[j];
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

        // Copies tiles of the (k, inner) plane. Each Tile x Tile block is read as contiguous source
        // runs (along k) into a small local buffer and written as contiguous destination runs (along
        // inner), so every cache line is touched once even when both strides are powers of two
        // (which would make a direct strided tile loop thrash one cache set).
        void RunTiled<T>(int k) where T : unmanaged
        {
            int inner = _rank - 1;
            long outer = 1;
            for (int j = 0; j < inner; j++) if (j != k) outer *= dims[j];
            int nk = dims[k], nj = dims[inner];
            long kTiles = (nk + Tile - 1) / Tile;
            long work = outer * kTiles;
            long perItem = (long)Tile * nj;
            CpuParallel.For(work, Math.Max(1, CpuParallel.ElementwiseGrain / perItem), (w0, w1) =>
            {
                Span<T> buf = stackalloc T[Tile * Tile];
                ref T b0 = ref MemoryMarshal.GetReference(buf);
                ref T s0 = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(src));
                ref T d0 = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(dst));
                nint sj = (nint)ss[inner], dk = (nint)ds[k];
                for (long w = w0; w < w1; w++)
                {
                    long o = w / kTiles;
                    int kb = (int)(w % kTiles) * Tile;
                    Offsets(o, inner, k, out long so, out long dOff);
                    so += srcBase + kb * ss[k];
                    dOff += dstBase + kb * ds[k];
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
            }, align: 1);
        }
    }
}
