namespace Stax;

public static partial class Lax
{
    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="shape"/>; operand dimension i maps to output dimension <paramref name="broadcastDimensions"/>[i].</summary>
    public static Tensor BroadcastInDim(Tensor x, Shape shape, params int[] broadcastDimensions)
        => x.Shape == shape && broadcastDimensions.Length == shape.Rank ? x
            : Prims.BroadcastInDim.Bind1(new BroadcastInDimParams(shape, broadcastDimensions), x);

    /// <summary>Row-major reshape.</summary>
    public static Tensor Reshape(Tensor x, Shape newSizes)
        => x.Shape == newSizes ? x : Prims.Reshape.Bind1(new ReshapeParams(newSizes), x);
}
