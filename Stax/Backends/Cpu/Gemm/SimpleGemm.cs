using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// A simpler blocked, vectorised GEMM for float64 and int32: C[M,N] = A[M,K] * B[K,N] computed
/// row by row as sums of scaled B rows (separate multiply and add, no FMA), so every ISA path and
/// thread count gives identical bits. int32 wraps modulo 2^32 as XLA does. B is first copied to a
/// row-major panel when it is not already one.
/// </summary>
internal static unsafe class SimpleGemm<T> where T : unmanaged, INumber<T>
{
    const int JB = 512; // column block, so the C row segment and B rows stay in cache

    public static void Multiply(int M, int N, int K, T* A, long rsA, long csA, T* B, long rsB, long csB,
        T* C, long ldc, Isa isa, int threads)
    {
        if (M <= 0 || N <= 0) return;
        T[]? copy = null;
        if (csB != 1 && K > 0)
        {
            copy = GC.AllocateUninitializedArray<T>(K * N, pinned: true);
            fixed (T* d = copy)
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < N; j++) d[(long)k * N + j] = B[k * rsB + j * csB];
        }
        fixed (T* bc = copy)
        {
            T* b = copy != null ? bc : B;
            long rs = copy != null ? N : rsB;
            if ((long)M * N * K < 32 * 32 * 32) threads = 1;
            if (threads <= 1 || M < 2) Rows(0, M, N, K, A, rsA, csA, b, rs, C, ldc, isa);
            else
            {
                int tasks = Math.Min(threads, M);
                T* a = A, c = C;
                Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                    Rows((int)((long)M * t / tasks), (int)((long)M * (t + 1) / tasks), N, K, a, rsA, csA, b, rs, c, ldc, isa));
            }
        }
    }

    static void Rows(int m0, int m1, int N, int K, T* A, long rsA, long csA, T* B, long rsB, T* C, long ldc, Isa isa)
    {
        for (int j0 = 0; j0 < N; j0 += JB)
        {
            int nb = Math.Min(JB, N - j0);
            for (int i = m0; i < m1; i++)
            {
                T* c = C + i * ldc + j0;
                new Span<T>(c, nb).Clear();
                for (int k = 0; k < K; k++)
                    Axpy(A[i * rsA + k * csA], B + k * rsB + j0, c, nb, isa);
            }
        }
    }

    // c[j] = c[j] + a * b[j]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Axpy(T a, T* b, T* c, int n, Isa isa)
    {
        int j = 0;
        if (isa == Isa.Vector512 && Vector512<T>.IsSupported)
        {
            var va = Vector512.Create(a);
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
                (Vector512.Load(c + j) + va * Vector512.Load(b + j)).Store(c + j);
        }
        else if (isa == Isa.Vector256 && Vector256<T>.IsSupported)
        {
            var va = Vector256.Create(a);
            for (; j <= n - Vector256<T>.Count; j += Vector256<T>.Count)
                (Vector256.Load(c + j) + va * Vector256.Load(b + j)).Store(c + j);
        }
        else if (isa == Isa.Vector128 && Vector128<T>.IsSupported)
        {
            var va = Vector128.Create(a);
            for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count)
                (Vector128.Load(c + j) + va * Vector128.Load(b + j)).Store(c + j);
        }
        for (; j < n; j++) c[j] = unchecked(c[j] + a * b[j]);
    }
}
