using System.Runtime.InteropServices;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterSorting()
    {
        Kernels[Prims.Sort] = (p, ins, outs, it, ot) => SortKernel((SortParams)p, ins, outs, it);
        Kernels[Prims.TopK] = (p, ins, outs, it, ot) => TopKKernel(((TopKParams)p).K, ins[0], outs[0], outs[1], it[0]);
    }

    /// <summary>
    /// Maps an element to a long whose signed order is the sort order: floats first map -0.0 to
    /// +0.0 and every NaN to +NaN (jax's comparator), then their bits to a monotone integer (IEEE
    /// total order); integers and bool keep their value.
    /// </summary>
    static void SortKeys(CpuBuffer b, long baseIndex, long stride, int n, long[] keys)
    {
        switch (b.DType)
        {
            case DType.Float32:
            {
                var s = b.Span<float>();
                for (int j = 0; j < n; j++)
                {
                    float f = s[(int)(baseIndex + j * stride)];
                    int bits = f == 0 ? 0 : float.IsNaN(f) ? 0x7FC00000 : BitConverter.SingleToInt32Bits(f);
                    keys[j] = bits < 0 ? bits ^ 0x7FFFFFFF : bits;
                }
                break;
            }
            case DType.Float64:
            {
                var s = b.Span<double>();
                for (int j = 0; j < n; j++) keys[j] = DoubleKey(s[(int)(baseIndex + j * stride)]);
                break;
            }
            case DType.Float16:
            {
                var s = b.Span<Half>();
                for (int j = 0; j < n; j++) keys[j] = DoubleKey((double)s[(int)(baseIndex + j * stride)]);
                break;
            }
            case DType.BFloat16:
            {
                var s = b.Span<ushort>();
                for (int j = 0; j < n; j++) keys[j] = DoubleKey((float)BFloat16.FromBits(s[(int)(baseIndex + j * stride)]));
                break;
            }
            case DType.Int32:
            {
                var s = b.Span<int>();
                for (int j = 0; j < n; j++) keys[j] = s[(int)(baseIndex + j * stride)];
                break;
            }
            case DType.UInt32:
            {
                var s = b.Span<uint>();
                for (int j = 0; j < n; j++) keys[j] = s[(int)(baseIndex + j * stride)];
                break;
            }
            default:
                for (int j = 0; j < n; j++) keys[j] = b.Data[baseIndex + j * stride];
                break;
        }
    }

    static long DoubleKey(double v)
    {
        long bits = v == 0 ? 0 : double.IsNaN(v) ? 0x7FF8000000000000L : BitConverter.DoubleToInt64Bits(v);
        return bits < 0 ? bits ^ 0x7FFFFFFFFFFFFFFFL : bits;
    }

    /// <summary>Sorts <paramref name="perm"/> by <paramref name="keys"/> ascending, ties by position (stable).</summary>
    static void StableSortByKey(long[] keys, int[] perm, int n)
    {
        for (int j = 0; j < n; j++) perm[j] = j;
        Array.Sort(keys, perm, 0, n);
        // Array.Sort is not stable: restore input order inside each run of equal keys.
        for (int s = 0; s < n;)
        {
            int e = s + 1;
            while (e < n && keys[e] == keys[s]) e++;
            if (e - s > 1) Array.Sort(perm, s, e - s);
            s = e;
        }
    }

    static void Permute(CpuBuffer src, CpuBuffer dst, long baseIndex, long stride, int[] perm, int n)
    {
        switch (src.DType.SizeOf())
        {
            case 1: PermuteTyped<byte>(src, dst, baseIndex, stride, perm, n); break;
            case 2: PermuteTyped<ushort>(src, dst, baseIndex, stride, perm, n); break;
            case 4: PermuteTyped<int>(src, dst, baseIndex, stride, perm, n); break;
            default: PermuteTyped<long>(src, dst, baseIndex, stride, perm, n); break;
        }
    }

    static void PermuteTyped<T>(CpuBuffer src, CpuBuffer dst, long baseIndex, long stride, int[] perm, int n) where T : unmanaged
    {
        var s = src.Span<T>();
        var d = dst.Span<T>();
        for (int j = 0; j < n; j++) d[(int)(baseIndex + j * stride)] = s[(int)(baseIndex + perm[j] * stride)];
    }

    static void SortKernel(SortParams p, CpuBuffer[] ins, CpuBuffer[] outs, AbstractValue[] types)
    {
        var shape = types[0].Shape;
        long total = shape.Size;
        if (total == 0) return;
        int n = shape[p.Dimension];
        long inner = 1;
        for (int d = p.Dimension + 1; d < shape.Rank; d++) inner *= shape[d];
        long rows = total / n;
        int numKeys = p.NumKeys;
        CpuParallel.For(rows, Math.Max(1, CpuParallel.ElementwiseGrain / n), (r0, r1) =>
        {
            var keys = new long[numKeys][];
            for (int k = 0; k < numKeys; k++) keys[k] = new long[n];
            var perm = new int[n];
            IComparer<int>? lex = numKeys == 1 ? null : Comparer<int>.Create((a, b) =>
            {
                for (int k = 0; k < keys.Length; k++)
                {
                    int c = keys[k][a].CompareTo(keys[k][b]);
                    if (c != 0) return c;
                }
                return a.CompareTo(b);
            });
            for (long row = r0; row < r1; row++)
            {
                long baseIndex = row / inner * n * inner + row % inner;
                for (int k = 0; k < numKeys; k++) SortKeys(ins[k], baseIndex, inner, n, keys[k]);
                if (lex == null) StableSortByKey(keys[0], perm, n);
                else
                {
                    for (int j = 0; j < n; j++) perm[j] = j;
                    Array.Sort(perm, 0, n, lex);
                }
                for (int i = 0; i < ins.Length; i++) Permute(ins[i], outs[i], baseIndex, inner, perm, n);
            }
        }, align: 1);
    }

    static void TopKKernel(int k, CpuBuffer src, CpuBuffer values, CpuBuffer indices, AbstractValue type)
    {
        int n = type.Shape[type.Rank - 1];
        long rows = n == 0 ? 0 : type.Size / n;
        if (k == 0 || rows == 0) return;
        int esize = type.DType.SizeOf();
        CpuParallel.For(rows, Math.Max(1, CpuParallel.ElementwiseGrain / n), (r0, r1) =>
        {
            var keys = new long[n];
            var perm = new int[n];
            for (long row = r0; row < r1; row++)
            {
                SortKeys(src, row * n, 1, n, keys);
                for (int j = 0; j < n; j++) keys[j] = ~keys[j]; // descending
                StableSortByKey(keys, perm, n);
                var idx = indices.Span<int>().Slice((int)(row * k), k);
                for (int j = 0; j < k; j++)
                {
                    idx[j] = perm[j];
                    src.Data.AsSpan((int)((row * n + perm[j]) * esize), esize).CopyTo(values.Data.AsSpan((int)((row * k + j) * esize)));
                }
            }
        }, align: 1);
    }
}
