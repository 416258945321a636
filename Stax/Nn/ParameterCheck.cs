using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Stax.Tracing;

namespace Stax.Nn;

/// <summary>
/// Checks the parameters (and state) given to a leaf module at apply time against the ones its
/// init function would create for this input: container types, keys and shapes. Without it,
/// parameters of another model fail deep inside a layer (a cast, a missing key) or, worse, run
/// with the wrong widths.
/// </summary>
internal static class ParameterCheck
{
    sealed record Expected(ShapeTree Parameters, ShapeTree State);

    // Per module instance and input type; the module's init function decides, so no global key works.
    static readonly ConditionalWeakTable<Module, ConcurrentDictionary<(Shape, DType), Expected>> Cache = new();

    /// <summary>Throws an ArgumentException naming <paramref name="where"/> unless the trees fit.</summary>
    public static void Check(Module module, AbstractValue input, object parameters, object? state, string where)
    {
        var expected = Cache.GetOrCreateValue(module).GetOrAdd((input.Shape, input.DType), _ => Stage(module, input));
        Compare(expected.Parameters, parameters, "parameters", module, input, where);
        if (state is not null) Compare(expected.State, state, "state", module, input, where);
    }

    // Parameter creation staged, not run: only the types are needed.
    static Expected Stage(Module module, AbstractValue input)
    {
        TreeDef? pDef = null, sDef = null;
        int nParams = 0;
        var staged = StagingTrace.Stage(_ =>
        {
            var (p, s) = module.CreateLeaf(input, Rng.Key(0));
            var (pl, pd) = Tree.Flatten(p);
            var (sl, sd) = Tree.Flatten(s);
            (pDef, sDef, nParams) = (pd, sd, pl.Length);
            return pl.Concat(sl).ToArray();
        }, Array.Empty<AbstractValue>(), $"{module.Name} parameter check");
        var avals = staged.Jaxpr.OutAvals;
        return new Expected(new ShapeTree(pDef!, avals.Take(nParams).ToArray()), new ShapeTree(sDef!, avals.Skip(nParams).ToArray()));
    }

    static void Compare(ShapeTree expected, object given, string what, Module module, AbstractValue input, string where)
    {
        string Fail(string detail) =>
            $"{where}: the {what} do not fit {module.Name} for an input {input}: {detail}; expected {expected} (given the {what} of another model, or an input of another shape?)";
        TreeDef def;
        Tensor[] leaves;
        try { (leaves, def) = Tree.Flatten(given); }
        catch (ArgumentException e) { throw new ArgumentException(Fail(e.Message)); }
        var diff = expected.Def.Difference(def);
        if (diff != null) throw new ArgumentException(Fail(diff));
        var paths = expected.Def.LeafPaths;
        var wrong = Enumerable.Range(0, leaves.Length).Where(i => leaves[i].Shape != expected.Leaves[i].Shape)
            .Select(i => $"{paths[i]} has shape {leaves[i].Shape}, not {expected.Leaves[i].Shape}").ToArray();
        if (wrong.Length > 0) throw new ArgumentException(Fail(string.Join(", ", wrong)));
    }
}
