using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Gemm;

namespace Stax.Tests.Performance;

/// <summary>
/// The direct kernel for products with at most 16 columns and a row-major A
/// (<see cref="FewColumnsDot"/>, a classifier head's forward pass): within float32 rounding of a
/// float64 product, and the same bits for one and two threads.
/// </summary>
public unsafe class FewColumnsDotTests
{
    // (M, N, K, B transposed in memory)
    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 128, 10, 512, false },   // the MLP head's forward pass: [128x512] @ [512x10]
        { 128, 10, 512, true },
        { 1000, 10, 100, false },  // large enough for two threads; K with a tail past the last vector
        { 37, 13, 300, false },    // ragged rows, columns (a 4-wide group, then 1 column) and K
        { 9, 3, 47, true },
        { 5, 16, 32, false },
        { 300, 7, 129, true },
        { 1, 2, 64, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CloseToFloat64AndTheSameForAnyThreadCount(int m, int n, int k, bool bT)
    {
        if (!Vector512.IsHardwareAccelerated) return; // AVX-512 only
        Assert.True(FewColumnsDot.Applies(n, k, 1));
        var rng = new Random(m * 31 + n * 7 + k);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        long rsB = bT ? 1 : n, csB = bT ? k : 1;
        // Canaries after each row's n columns (ldc = n + 3): nothing outside C may be written.
        long ldc = n + 3;
        var c1 = new float[m * ldc];
        var c2 = new float[m * ldc];
        Array.Fill(c1, float.NaN);
        Array.Fill(c2, float.NaN);
        fixed (float* pa = a, pb = b, p1 = c1, p2 = c2)
        {
            // Through the GEMM's entry point, which must dispatch these shapes to the kernel.
            Sgemm.Multiply(m, n, k, pa, k, 1, pb, rsB, csB, p1, ldc, Isa.Vector512, 1);
            FewColumnsDot.Multiply(m, n, k, pa, k, pb, rsB, csB, p2, ldc, 2);
        }
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double want = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = (double)a[i * k + p] * b[p * rsB + j * csB];
                    want += t;
                    scale += Math.Abs(t);
                }
                long e = i * ldc + j;
                Assert.True(Math.Abs(c1[e] - want) <= 1e-6 * scale + 1e-30, $"C[{i},{j}] = {c1[e]}, float64 {want}");
                Assert.Equal(BitConverter.SingleToInt32Bits(c1[e]), BitConverter.SingleToInt32Bits(c2[e]));
            }
            for (long j = n; j < ldc; j++) Assert.True(float.IsNaN(c1[i * ldc + j]) && float.IsNaN(c2[i * ldc + j]));
        }
    }
}
