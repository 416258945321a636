using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Stax;
using Stax.Backends.Cpu;
using Stax.Backends.Cpu.Simd;

namespace Stax.Bench;

/// <summary>Elementwise kernels on 1M float32 against TensorPrimitives (same machine, same run).</summary>
[MemoryDiagnoser]
public class ElementwiseBench
{
    const int N = 1 << 20;
    float[] _a = null!, _b = null!, _c = null!, _out = null!, _tmp = null!;
    Tensor _ta = null!, _tb = null!, _tc = null!;
    // Pre-allocated CPU buffers: the *_StaxKernel rows time the kernel alone (no allocation of the
    // 4 MB result, no dispatch), which is what TensorPrimitives' rows measure.
    CpuBuffer _ba = null!, _bb = null!, _bc = null!, _bz = null!, _bo = null!, _bt = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        _b = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        _c = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        _out = new float[N];
        _tmp = new float[N];
        _ta = Tensor.FromArray(_a, N);
        _tb = Tensor.FromArray(_b, N);
        _tc = Tensor.FromArray(_c, N);
        _ba = Buf(_a); _bb = Buf(_b); _bc = Buf(_c); _bz = Buf(new float[N]); _bo = Buf(new float[N]); _bt = Buf(new float[N]);
    }

    static CpuBuffer Buf(float[] v)
        => (CpuBuffer)CpuBackend.Instance.Upload(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()), DType.Float32);

    [Benchmark, BenchmarkCategory("relu")]
    public void Relu_StaxKernel() => Drivers.Binary<MaxOp<float>, float>(_ba, _bz, _bo);

    [Benchmark, BenchmarkCategory("exp")]
    public void Exp_StaxKernel() => Drivers.Unary<VecUnary<ExpAlgo>, float>(_ba, _bo);

    [Benchmark, BenchmarkCategory("fma")]
    public void APlusBC_StaxKernels()
    {
        Drivers.Binary<MulOp<float>, float>(_bb, _bc, _bt);
        Drivers.Binary<AddOp<float>, float>(_ba, _bt, _bo);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("relu")]
    public void Relu_TensorPrimitives() => TensorPrimitives.Max(_a, 0f, _out);

    [Benchmark, BenchmarkCategory("relu")]
    public Tensor Relu_Stax() => Np.Relu(_ta);

    [Benchmark, BenchmarkCategory("exp")]
    public void Exp_TensorPrimitives() => TensorPrimitives.Exp(_a, _out);

    [Benchmark, BenchmarkCategory("exp")]
    public Tensor Exp_Stax() => Lax.Exp(_ta);

    [Benchmark, BenchmarkCategory("fma")]
    public void APlusBC_TensorPrimitivesFma() => TensorPrimitives.FusedMultiplyAdd(_b, _c, _a, _out);

    [Benchmark, BenchmarkCategory("fma")]
    public void APlusBC_TensorPrimitivesMulAdd()
    {
        TensorPrimitives.Multiply(_b, _c, _tmp);
        TensorPrimitives.Add(_a, _tmp, _out);
    }

    [Benchmark, BenchmarkCategory("fma")]
    public Tensor APlusBC_Stax() => Np.Add(_ta, Np.Multiply(_tb, _tc));
}
