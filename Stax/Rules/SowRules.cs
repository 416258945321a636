namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static void RegisterSow()
    {
        var sow = Prims.Sow;
        sow.Jvp = (xs, ts, ps) => One(sow.Bind1(ps, xs[0]), ts[0]);
        sow.Transpose = (cts, a, ps) => new[] { cts[0] };
        sow.Batch = (ctx, xs, ds, ps) => (new[] { sow.Bind1(ps, xs[0]) }, new[] { ds[0] });
    }
}
