using System.Text;

namespace Stax.Tracing;

/// <summary>A typed variable of a program.</summary>
public sealed class Var
{
    /// <summary>Creates a variable.</summary>
    public Var(AbstractValue aval) { Aval = aval; }
    /// <summary>Its type.</summary>
    public AbstractValue Aval { get; }
}

/// <summary>One equation: outputs = primitive[params](inputs).</summary>
public sealed record Eqn(Primitive Primitive, Params Params, Var[] Inputs, Var[] Outputs, string? Scope = null);

/// <summary>
/// A staged program (JAX's jaxpr): constant variables, input variables, equations in order and
/// output variables. Constants' values live beside it in <see cref="ClosedJaxpr"/>.
/// </summary>
public sealed class Jaxpr
{
    /// <summary>Creates a program.</summary>
    public Jaxpr(Var[] constVars, Var[] inVars, Eqn[] eqns, Var[] outVars)
    {
        ConstVars = constVars;
        InVars = inVars;
        Eqns = eqns;
        OutVars = outVars;
    }

    /// <summary>Variables bound to constants.</summary>
    public Var[] ConstVars { get; }
    /// <summary>Inputs.</summary>
    public Var[] InVars { get; }
    /// <summary>Equations.</summary>
    public Eqn[] Eqns { get; }
    /// <summary>Outputs (may repeat inputs or constants).</summary>
    public Var[] OutVars { get; }

    /// <summary>Input types.</summary>
    public AbstractValue[] InAvals => InVars.Select(v => v.Aval).ToArray();
    /// <summary>Output types.</summary>
    public AbstractValue[] OutAvals => OutVars.Select(v => v.Aval).ToArray();

    /// <summary>Readable text, like JAX's jaxpr printing.</summary>
    public override string ToString() => JaxprPrinter.Print(this, null);
}

/// <summary>A program together with the values of its constants.</summary>
public sealed class ClosedJaxpr
{
    /// <summary>Pairs a program with constant values (one per constant variable).</summary>
    public ClosedJaxpr(Jaxpr jaxpr, Tensor[] consts)
    {
        if (consts.Length != jaxpr.ConstVars.Length) throw new ArgumentException("ClosedJaxpr: one value per constant variable is needed");
        Jaxpr = jaxpr;
        Consts = consts;
    }

    /// <summary>The program.</summary>
    public Jaxpr Jaxpr { get; }
    /// <summary>The constants' values.</summary>
    public Tensor[] Consts { get; }

    /// <summary>Readable text; small constants are shown inline after the program.</summary>
    public override string ToString() => JaxprPrinter.Print(Jaxpr, Consts);

    /// <summary>Closure conversion: the same program without constants, taking them as its leading
    /// inputs (how call primitives such as jit carry programs), and the constants to pass there.</summary>
    public (Jaxpr Jaxpr, Tensor[] Consts) ConstantsAsInputs()
        => (new Jaxpr(Array.Empty<Var>(), Jaxpr.ConstVars.Concat(Jaxpr.InVars).ToArray(), Jaxpr.Eqns, Jaxpr.OutVars), Consts);
}

/// <summary>Prints programs as <c>{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add a b in (c) }</c>.</summary>
public static class JaxprPrinter
{
    /// <summary>Formats a program (constants listed after it when given).</summary>
    public static string Print(Jaxpr jaxpr, Tensor[]? consts)
    {
        var names = new Dictionary<Var, string>();
        var literals = new HashSet<Var>();
        // Concrete scalar constants print inline as literals (2.0:f32[]), as JAX prints them.
        if (consts != null)
            for (int i = 0; i < consts.Length; i++)
                if (consts[i].IsConcrete && consts[i].Rank == 0)
                {
                    var c = consts[i];
                    names[jaxpr.ConstVars[i]] = $"{Literal(c)}:{c.Aval}";
                    literals.Add(jaxpr.ConstVars[i]);
                }
        var sb = new StringBuilder();
        PrintInto(sb, jaxpr, names, 0, literals);
        if (consts != null && consts.Length > literals.Count)
        {
            sb.Append("\nconstants:");
            for (int i = 0; i < consts.Length; i++)
            {
                if (literals.Contains(jaxpr.ConstVars[i])) continue;
                var c = consts[i];
                string value = c.IsConcrete && c.Size <= 10 ? c.ToString() : c.Aval.ToString();
                sb.Append("\n  ").Append(names[jaxpr.ConstVars[i]]).Append(" = ").Append(value.Replace("\n", " "));
            }
        }
        return sb.ToString();
    }

    static string Literal(Tensor c)
    {
        var text = c.ToString();
        int open = text.IndexOf('('), comma = text.IndexOf(',');
        return text[(open + 1)..comma];
    }

    static string Name(Dictionary<Var, string> names, Var v)
    {
        if (names.TryGetValue(v, out var n)) return n;
        int i = names.Count(kv => !kv.Value.Contains(':'));
        var s = new StringBuilder();
        do { s.Insert(0, (char)('a' + i % 26)); i = i / 26 - 1; } while (i >= 0);
        n = s.ToString();
        names[v] = n;
        return n;
    }

    static string Typed(Dictionary<Var, string> names, Var v) => $"{Name(names, v)}:{v.Aval}";

    internal static void PrintInto(StringBuilder sb, Jaxpr j, Dictionary<Var, string> names, int indent, HashSet<Var>? literals = null)
    {
        string pad = new(' ', indent);
        sb.Append("{ lambda ");
        sb.Append(string.Join(" ", j.ConstVars.Where(v => literals == null || !literals.Contains(v)).Select(v => Typed(names, v))));
        sb.Append("; ");
        sb.Append(string.Join(" ", j.InVars.Select(v => Typed(names, v))));
        sb.Append(". let");
        foreach (var e in j.Eqns)
        {
            sb.Append('\n').Append(pad).Append("    ");
            sb.Append(string.Join(" ", e.Outputs.Select(v => Typed(names, v))));
            sb.Append(" = ").Append(e.Primitive.Name);
            var ps = e.Params is JitParams jp ? PrintJit(jp, names, indent + 6) : e.Params.ToString();
            if (!string.IsNullOrEmpty(ps)) sb.Append('[').Append(ps).Append(']');
            foreach (var v in e.Inputs) sb.Append(' ').Append(Name(names, v));
        }
        sb.Append('\n').Append(pad).Append("  in (").Append(string.Join(", ", j.OutVars.Select(v => Name(names, v)))).Append(") }");
    }

    static string PrintJit(JitParams p, Dictionary<Var, string> names, int indent)
    {
        var sb = new StringBuilder();
        sb.Append("name=").Append(p.Name).Append('\n').Append(new string(' ', indent)).Append("jaxpr=");
        PrintInto(sb, p.Jaxpr, names, indent);
        return sb.ToString();
    }
}
