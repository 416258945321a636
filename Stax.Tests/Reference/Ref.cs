namespace Stax.Tests.Reference;

/// <summary>A reference implementation of one primitive: naive scalar loops over doubles.</summary>
public delegate RefArray[] RefRule(Params parameters, RefArray[] inputs, AbstractValue[] outputTypes);

/// <summary>
/// The naive scalar reference evaluator: one obviously-correct implementation per primitive,
/// registered per family (Reference/Ref*.cs), used as the oracle for every backend and as the
/// kernels of <see cref="Infrastructure.ReferenceBackend"/>.
/// </summary>
public static partial class Ref
{
    static readonly Dictionary<Primitive, RefRule> Rules = new();

    static Ref()
    {
        RegisterElementwise();
        RegisterConversion();
        RegisterReshaping();
        RegisterSlicing();
        RegisterIndexing();
        RegisterReduction();
        RegisterSorting();
        RegisterDot();
        RegisterWindow();
        RegisterRandom();
    }

    static partial void RegisterElementwise();
    static partial void RegisterConversion();
    static partial void RegisterReshaping();
    static partial void RegisterSlicing();
    static partial void RegisterIndexing();
    static partial void RegisterReduction();
    static partial void RegisterSorting();
    static partial void RegisterDot();
    static partial void RegisterWindow();
    static partial void RegisterRandom();

    public static bool Has(Primitive p) => Rules.ContainsKey(p);

    /// <summary>Evaluates a primitive: type rule from Stax (so errors agree), values from the reference.</summary>
    public static RefArray[] Eval(Primitive p, Params parameters, params RefArray[] inputs)
    {
        var inTypes = inputs.Select(i => new AbstractValue(new Shape(i.Shape), i.DType)).ToArray();
        var outTypes = p.AbstractEval(inTypes, parameters);
        return Run(p, parameters, inputs, outTypes);
    }

    internal static RefArray[] Run(Primitive p, Params parameters, RefArray[] inputs, AbstractValue[] outTypes)
    {
        if (!Rules.TryGetValue(p, out var rule))
            throw new NotSupportedException($"reference evaluator: no rule for {p.Name}");
        var outs = rule(parameters, inputs, outTypes);
        // Every result is fitted to its dtype, so rules may compute in plain double.
        for (int k = 0; k < outs.Length; k++)
        {
            var o = outs[k];
            for (int i = 0; i < o.Data.Length; i++) o.Data[i] = RefArray.Fit(o.Data[i], outTypes[k].DType);
        }
        return outs;
    }

    /// <summary>An output array of the given type, zero-filled.</summary>
    public static RefArray New(AbstractValue t) => new(t.Shape.ToArray(), t.DType, new double[t.Size]);

    /// <summary>Multi-index of flat index <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    public static int[] Unravel(long flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 0) return idx;
            idx[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
        return idx;
    }

    /// <summary>Flat index of a multi-index.</summary>
    public static long Ravel(int[] idx, int[] shape)
    {
        long f = 0;
        for (int d = 0; d < shape.Length; d++) f = f * shape[d] + idx[d];
        return f;
    }
}
