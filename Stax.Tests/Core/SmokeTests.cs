using Stax.Tests.Infrastructure;

namespace Stax.Tests.Core;

public class SmokeTests
{
    [Fact]
    public void BroadcastAndConvertMatchReference()
    {
        var x = TestData.Tensor(1, new[] { 3, 1 });
        Check.AgainstReference(Prims.BroadcastInDim, new BroadcastInDimParams(new Shape(2, 3, 4), new[] { 1, 2 }), new[] { x });
        Check.AgainstReference(Prims.ConvertElementType, new ConvertParams(DType.Int32), new[] { TestData.Tensor(2, new[] { 9 }, specials: true) });
    }

    [Fact]
    public void ReferenceBackendCountsKernels()
    {
        var backend = new ReferenceBackend();
        var x = Tensor.FromBytes(new byte[12], new Shape(3), DType.Float32, backend);
        var y = Lax.Reshape(x, new Shape(1, 3));
        Assert.Equal(1, backend.KernelCalls);
        Assert.Equal(new Shape(1, 3), y.Shape);
        Assert.Same(backend, y.Backend);
    }
}
