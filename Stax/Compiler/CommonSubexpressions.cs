using Stax.Tracing;

namespace Stax.Compiler;

/// <summary>
/// Common-subexpression elimination: an equation that applies the same primitive with equal
/// parameters to the same inputs as an earlier one is dropped, and its outputs are read from the
/// earlier one's. Traced programs repeat such work per parameter leaf (an optimizer's bias
/// corrections, the same scalar converted once per leaf), which would otherwise run, and on a GPU
/// dispatch, once per repetition. Only primitives without effects take part: control flow, calls,
/// collectives and <c>sow</c> (the control family) and primitives with their own implementation stay.
/// An equation whose output the program returns is kept too, so that two results are never one
/// buffer (donating one of them must not overwrite the other).
/// </summary>
internal static class CommonSubexpressions
{
    readonly record struct Key(Primitive Primitive, Params Params, Var[] Inputs)
    {
        public bool Equals(Key other)
            => ReferenceEquals(Primitive, other.Primitive) && Params.Equals(other.Params)
               && Inputs.AsSpan().SequenceEqual(other.Inputs, ReferenceEqualityComparer.Instance);

        public override int GetHashCode()
        {
            var h = new HashCode();
            h.Add(Primitive.Name);
            h.Add(Params);
            foreach (var v in Inputs) h.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(v));
            return h.ToHashCode();
        }
    }

    static bool Pure(Primitive p) => p.Family != PrimitiveFamily.Control && p.Impl == null;

    /// <summary>The program with repeated equations removed (the same object when none repeats).</summary>
    public static Jaxpr Run(Jaxpr program)
    {
        var rename = new Dictionary<Var, Var>(ReferenceEqualityComparer.Instance);
        var seen = new Dictionary<Key, Eqn>();
        var eqns = new List<Eqn>(program.Eqns.Length);
        var results = new HashSet<Var>(program.OutVars, ReferenceEqualityComparer.Instance);
        Var Resolve(Var v) => rename.TryGetValue(v, out var r) ? r : v;
        foreach (var e in program.Eqns)
        {
            var inputs = e.Inputs;
            for (int i = 0; i < inputs.Length; i++)
                if (rename.ContainsKey(inputs[i])) { inputs = e.Inputs.Select(Resolve).ToArray(); break; }
            var eqn = ReferenceEquals(inputs, e.Inputs) ? e : e with { Inputs = inputs };
            if (Pure(e.Primitive))
            {
                var key = new Key(e.Primitive, e.Params, inputs);
                if (seen.TryGetValue(key, out var first) && !e.Outputs.Any(results.Contains))
                {
                    for (int i = 0; i < e.Outputs.Length; i++) rename[e.Outputs[i]] = first.Outputs[i];
                    continue;
                }
                seen.TryAdd(key, eqn);
            }
            eqns.Add(eqn);
        }
        if (rename.Count == 0) return program;
        return new Jaxpr(program.ConstVars, program.InVars, eqns.ToArray(), program.OutVars.Select(Resolve).ToArray());
    }
}
