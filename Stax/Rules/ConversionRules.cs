namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static partial void RegisterConversion()
    {
        var convert = Prims.ConvertElementType;
        convert.Jvp = (xs, ts, ps) =>
        {
            var c = (ConvertParams)ps;
            var y = convert.Bind1(ps, xs[0]);
            bool smooth = xs[0].DType.IsFloat() && c.NewDType.IsFloat();
            return One(y, smooth && ts[0] is { } t ? Lax.ConvertElementType(t, c.NewDType) : null);
        };
        convert.Transpose = (cts, a, ps) =>
            new[] { cts[0] is { } c ? Lax.ConvertElementType(c, a[0].Aval.DType) : null };
        convert.Batch = (ctx, xs, ds, ps) => (new[] { convert.Bind1(ps, xs[0]) }, new[] { ds[0] });

        var bitcast = Prims.BitcastConvertType;
        bitcast.Jvp = (xs, ts, ps) => One(bitcast.Bind1(ps, xs[0]), null);
        bitcast.Batch = (ctx, xs, ds, ps) => (new[] { bitcast.Bind1(ps, xs[0]) }, new[] { ds[0] });
    }
}
