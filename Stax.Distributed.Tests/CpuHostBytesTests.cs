using System.Runtime.InteropServices;
using Stax.Backends.Cpu;

namespace Stax.Distributed.Tests;

/// <summary>The core's in-place access to CPU tensor memory that the MPI axis reduces through.</summary>
public sealed class CpuHostBytesTests
{
    [Fact]
    public void HostBytes_reads_a_tensor_in_place_and_fills_an_uninitialized_one()
    {
        var cpu = CpuBackend.Instance;
        var x = Tensor.FromArray(new float[] { 1.5f, -2, 3 });
        Assert.Equal(x.ToBytes(), cpu.HostBytes(x).ToArray());

        var r = cpu.AllocateUninitialized(new Shape(2, 2), DType.Int32);
        Assert.Equal(new Shape(2, 2), r.Shape);
        Assert.Equal(DType.Int32, r.DType);
        new[] { 4, -5, 6, 7 }.AsSpan().CopyTo(MemoryMarshal.Cast<byte, int>(cpu.HostBytes(r)));
        Assert.Equal(new[] { 4, -5, 6, 7 }, r.ToArray<int>());
        Assert.Equal(new[] { 5, -4, 7, 8 }, (r + 1).ToArray<int>());
    }

    [Fact]
    public void HostBytes_refuses_a_traced_tensor()
    {
        string? message = null;
        Transforms.Jit((Tensor t) =>
        {
            message = Assert.Throws<ArgumentException>(() => CpuBackend.Instance.HostBytes(t)).Message;
            return t;
        })(Np.Ones(new Shape(2)));
        Assert.Contains("CpuBackend.HostBytes", message);
        Assert.Contains("traced", message);
    }
}
