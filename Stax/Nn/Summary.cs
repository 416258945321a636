using System.Globalization;
using System.Text;
using Stax.Tracing;

namespace Stax.Nn;

/// <summary>One row of a <see cref="Summary"/>: a parameter (or state) tensor.</summary>
/// <param name="Path">The leaf's key path in its tree, e.g. <c>[0]["w"]</c>.</param>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="DType">The tensor's element type.</param>
/// <param name="Count">Number of elements.</param>
/// <param name="IsState">True for entries of the state tree (e.g. BatchNorm running averages), which are not trained.</param>
public sealed record SummaryRow(string Path, Shape Shape, DType DType, long Count, bool IsState);

/// <summary>
/// A printable table of a model's parameters: key path, shape, dtype and element count of every
/// leaf, state entries marked, and the totals. <c>ToString()</c> gives aligned plain text (for a
/// console or a README code block), <see cref="ToMarkdown"/> a Markdown table.
/// </summary>
public sealed class Summary
{
    Summary(IReadOnlyList<SummaryRow> rows, string? header)
    {
        Rows = rows;
        Header = header;
    }

    /// <summary>The rows: parameters first, then state entries, each in tree-flattening order.</summary>
    public IReadOnlyList<SummaryRow> Rows { get; }

    /// <summary>An optional first line (the module, its input and output types).</summary>
    public string? Header { get; }

    /// <summary>Total number of parameter elements (state not included).</summary>
    public long TotalParameters => Rows.Where(r => !r.IsState).Sum(r => r.Count);

    /// <summary>Total number of state elements.</summary>
    public long TotalState => Rows.Where(r => r.IsState).Sum(r => r.Count);

    /// <summary>The summary of a parameter tree and, optionally, a state tree.</summary>
    public static Summary Of(object? parameters, object? state = null)
        => new(RowsOf(parameters, state, Tree.FlattenWithPaths(parameters).Leaves.Select(l => (l.Leaf.Shape, l.Leaf.DType)).ToArray(),
            Tree.FlattenWithPaths(state).Leaves.Select(l => (l.Leaf.Shape, l.Leaf.DType)).ToArray()), null);

    static List<SummaryRow> RowsOf(object? parameters, object? state, (Shape, DType)[] pTypes, (Shape, DType)[] sTypes)
    {
        var rows = new List<SummaryRow>();
        var pPaths = Tree.Paths(parameters);
        for (int i = 0; i < pPaths.Length; i++) rows.Add(new SummaryRow(pPaths[i].ToString(), pTypes[i].Item1, pTypes[i].Item2, pTypes[i].Item1.Size, false));
        var sPaths = Tree.Paths(state);
        for (int i = 0; i < sPaths.Length; i++) rows.Add(new SummaryRow(sPaths[i].ToString(), sTypes[i].Item1, sTypes[i].Item2, sTypes[i].Item1.Size, true));
        return rows;
    }

    /// <summary>
    /// The summary of <paramref name="module"/> initialized for <paramref name="input"/>: the
    /// initialization is staged, so no parameter is materialised and nothing is computed.
    /// </summary>
    internal static Summary OfModule(Module module, Key key, AbstractValue input)
    {
        object? p = null, s = null;
        AbstractValue? output = null;
        int np = 0;
        var staged = StagingTrace.Stage(_ =>
        {
            var (o, ps, st) = module.InitializeWithState(key, input);
            output = o;
            var pl = Tree.Leaves(ps);
            np = pl.Length;
            p = ps;
            s = st;
            return pl.Concat(Tree.Leaves(st)).ToArray();
        }, Array.Empty<AbstractValue>(), $"{module.Name}.Summary");
        var types = staged.Jaxpr.OutAvals.Select(a => (a.Shape, a.DType)).ToArray();
        var rows = RowsOf(p, s, types[..np], types[np..]);
        return new Summary(rows, $"{module.Name}: {input} -> {output}");
    }

    static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    static string[][] Cells(IEnumerable<SummaryRow> rows)
        => rows.Select(r => new[] { r.Path + (r.IsState ? " (state)" : ""), r.Shape.ToString(), r.DType.Name(), Count(r.Count) }).ToArray();

    static readonly string[] Titles = { "path", "shape", "dtype", "count" };

    /// <summary>An aligned plain-text table with the totals underneath.</summary>
    public override string ToString()
    {
        var body = Cells(Rows);
        var footer = new List<string[]> { new[] { "total parameters", "", "", Count(TotalParameters) } };
        if (Rows.Any(r => r.IsState)) footer.Add(new[] { "total state", "", "", Count(TotalState) });
        var all = body.Concat(footer).Prepend(Titles).ToArray();
        var widths = Enumerable.Range(0, 4).Select(c => all.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        if (Header != null) sb.AppendLine(Header);
        string Line(string[] r) => string.Join("  ", r.Select((c, i) => i == 3 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
        string Rule() => string.Join("  ", widths.Select(w => new string('-', w)));
        sb.AppendLine(Line(Titles));
        sb.AppendLine(Rule());
        foreach (var r in body) sb.AppendLine(Line(r));
        sb.AppendLine(Rule());
        foreach (var r in footer) sb.AppendLine(Line(r));
        return sb.ToString();
    }

    /// <summary>A Markdown table (one row per leaf, then the totals in bold).</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        if (Header != null) sb.AppendLine($"`{Header}`").AppendLine();
        sb.AppendLine("| path | shape | dtype | count |");
        sb.AppendLine("|---|---|---|---:|");
        foreach (var r in Cells(Rows)) sb.AppendLine($"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} |");
        sb.AppendLine($"| **total parameters** | | | **{Count(TotalParameters)}** |");
        if (Rows.Any(r => r.IsState)) sb.AppendLine($"| **total state** | | | **{Count(TotalState)}** |");
        return sb.ToString();
    }
}

/// <summary><c>module.Summary(key, inputSpec)</c>.</summary>
public static class ModuleSummaryExtensions
{
    /// <summary>
    /// The parameter summary of <paramref name="module"/> for inputs of type <paramref name="input"/>
    /// (computed from a staged initialization: no parameters are created).
    /// </summary>
    public static Summary Summary(this Module module, Key key, AbstractValue input) => Nn.Summary.OfModule(module, key, input);

    /// <summary>The parameter summary for inputs shaped like <paramref name="example"/>.</summary>
    public static Summary Summary(this Module module, Key key, Tensor example) => Nn.Summary.OfModule(module, key, example.Aval);
}
