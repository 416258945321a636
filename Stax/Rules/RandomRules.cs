using Stax.Tracing;

namespace Stax.Rules;

// Rules of threefry2x32: integer outputs have no tangent; the primitive is elementwise, so a
// batch dimension is aligned across the operands and carried through unchanged.
internal static partial class RuleRegistry
{
    static partial void RegisterRandom()
    {
        var tf = Prims.Threefry2x32;
        tf.Jvp = (xs, ts, ps) => (tf.Bind(ps, xs), new Tensor?[2]);
        tf.Batch = (ctx, xs, ds, ps) =>
        {
            var (args, d) = BatchRules.Align(xs, ds, ctx.AxisSize);
            return (tf.Bind(ps, args), new int?[] { d, d });
        };
    }
}
