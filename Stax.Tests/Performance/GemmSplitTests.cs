using Stax.Backends.Cpu.Gemm;

namespace Stax.Tests.Performance;

/// <summary>
/// How the blocked GEMM splits a product over threads (<see cref="Sgemm.Split(int, int, int, Isa, bool)"/>): column
/// slices for wide products, row slices for tall ones, both when one direction cannot give every thread a part,
/// and the same bits for every split (K is never split).
/// </summary>
public unsafe class GemmSplitTests
{
    [Theory]
    [InlineData(128, 512, 2, 1, 2)]    // an MLP layer on two threads: column slices, as before the grid
    [InlineData(128, 512, 8, 1, 8)]
    [InlineData(128, 512, 16, 2, 8)]   // 16 threads: 512 columns give 8 slices of 2 panels, so rows split too
    [InlineData(64, 128, 16, 2, 2)]    // a dense layer [64 x 9216] @ [9216 x 128]
    [InlineData(43264, 32, 16, 16, 1)] // a convolution: tall
    [InlineData(20, 20, 16, 1, 1)]     // too small for any split
    [InlineData(128, 512, 1, 1, 1)]
    public void SplitsByRowsAndColumns(int m, int n, int threads, int rows, int cols)
    {
        Assert.Equal((rows, cols), Sgemm.Split(m, n, threads, Isa.Vector512, epilogue: false));
    }

    [Fact]
    public void WithAnEpilogueTallProductsTakeRowSlicesFirst()
    {
        Assert.Equal((2, 1), Sgemm.Split(784, 512, 2, Isa.Vector512, epilogue: true));
        Assert.Equal((1, 2), Sgemm.Split(784, 512, 2, Isa.Vector512, epilogue: false));
    }

    [Theory]
    [InlineData(128, 512, 784)]
    [InlineData(128, 512, 512)]
    [InlineData(64, 128, 1100)]
    [InlineData(101, 300, 77)]
    public void EverySplitGivesTheSameBits(int m, int n, int k)
    {
        var rng = new Random(m + 7 * n + 31 * k);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (var isa in Config.AvailableIsas)
        {
            var one = Multiply(a, b, m, n, k, isa, 1);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double want = 0, scale = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double t = (double)a[i * k + p] * b[p * n + j];
                        want += t;
                        scale += Math.Abs(t);
                    }
                    Assert.True(Math.Abs(one[i * n + j] - want) <= 1e-6 * scale + 1e-30,
                        $"{isa}: C[{i},{j}] = {one[i * n + j]}, float64 {want}");
                }
            foreach (int threads in new[] { 2, 3, 5, 16 })
            {
                var split = Multiply(a, b, m, n, k, isa, threads);
                for (int e = 0; e < one.Length; e++)
                    Assert.True(BitConverter.SingleToInt32Bits(one[e]) == BitConverter.SingleToInt32Bits(split[e]),
                        $"{isa}, {threads} threads, split {Sgemm.Split(m, n, threads, isa, false)}: C[{e / n},{e % n}] differs");
            }
        }
    }

    static float[] Multiply(float[] a, float[] b, int m, int n, int k, Isa isa, int threads)
    {
        var c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c)
            Sgemm.Multiply(m, n, k, new StridedA(pa, k, 1), pb, n, 1, pc, n, isa, threads);
        return c;
    }
}
