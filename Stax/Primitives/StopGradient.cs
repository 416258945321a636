namespace Stax.Extend;

public static partial class Prims
{
    /// <summary>The identity with a zero derivative (see <see cref="Transforms.StopGradient"/>).</summary>
    public static readonly Primitive StopGradient = new("stop_gradient", PrimitiveFamily.Unary, (ins, _) => new[] { ins[0] }, inputs: 1)
    {
        Impl = (args, _) => new[] { args[0] },
    };
}
