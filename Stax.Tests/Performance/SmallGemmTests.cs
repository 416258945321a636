using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Tests.Performance;

/// <summary>
/// The direct kernels for products with a dimension of about 10 (<see cref="SmallGemm"/>): the
/// same bits as the packed, blocked GEMM they bypass (every element accumulated from zero over k
/// in order), for any thread count, and within float32 rounding of a float64 product.
/// </summary>
public unsafe class SmallGemmTests
{
    // (M, N, K, A transposed in memory, B transposed in memory)
    public static TheoryData<int, int, int, bool, bool> Shapes => new()
    {
        { 128, 512, 10, false, true },   // input gradient through a 512 -> 10 head: [128x10] @ [512x10]^T
        { 128, 512, 10, false, false },
        { 37, 75, 7, true, false },      // ragged rows and columns, A column-major
        { 5, 33, 16, false, false },
        { 512, 10, 128, true, false },   // weight gradient of the head: [128x512]^T @ [128x10]
        { 784, 10, 128, true, false },
        { 100, 13, 300, true, true },
        { 45, 16, 9, true, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SameBitsAsTheBlockedGemmAndCloseToFloat64(int m, int n, int k, bool aT, bool bT)
    {
        if (!Vector512.IsHardwareAccelerated) return; // the kernels are AVX-512 only
        var rng = new Random(m * 31 + n * 7 + k);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        // A[i, p] at a[i * rsA + p * csA]; B[p, j] at b[p * rsB + j * csB].
        long rsA = aT ? 1 : k, csA = aT ? m : 1, rsB = bT ? 1 : n, csB = bT ? k : 1;
        var blocked = new float[m * n];
        var direct1 = new float[m * n];
        var direct2 = new float[m * n];
        fixed (float* pa = a, pb = b, pc = blocked, p1 = direct1, p2 = direct2)
        {
            // The generic entry point with a strided A runs the packed, blocked GEMM (no small-shape dispatch).
            Sgemm.Multiply(m, n, k, new StridedA(pa, rsA, csA), pb, rsB, csB, pc, n, Isa.Vector512, 1);
            Sgemm.Multiply(m, n, k, pa, rsA, csA, pb, rsB, csB, p1, n, Isa.Vector512, 1);
            Sgemm.Multiply(m, n, k, pa, rsA, csA, pb, rsB, csB, p2, n, Isa.Vector512, 2);
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double want = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = (double)a[i * rsA + p * csA] * b[p * rsB + j * csB];
                    want += t;
                    scale += Math.Abs(t);
                }
                int e = i * n + j;
                Assert.True(Math.Abs(direct1[e] - want) <= 1e-6 * scale + 1e-30, $"C[{i},{j}] = {direct1[e]}, float64 {want}");
                Assert.Equal(BitConverter.SingleToInt32Bits(blocked[e]), BitConverter.SingleToInt32Bits(direct1[e]));
                Assert.Equal(BitConverter.SingleToInt32Bits(direct1[e]), BitConverter.SingleToInt32Bits(direct2[e]));
            }
    }
}
