using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

public class SummaryTests
{
    static Module Cnn() => Serial(Conv(8, new[] { 3, 3 }), BatchNorm(), Relu, MaxPool(new[] { 2, 2 }, new[] { 2, 2 }), Flatten, Dense(10), LogSoftmax);

    [Fact]
    public void SummaryOfAModuleListsPathsShapesDtypesCountsAndTotals()
    {
        var spec = new AbstractValue(new Shape(2, 8, 8, 1), DType.Float32);
        var summary = Cnn().Summary(Rng.Key(0), spec);
        // Conv: 3*3*1*8 + 8 = 80; BatchNorm: 8 + 8 (+ 16 state); Dense: (3*3*8) * 10 + 10 = 730.
        Assert.Equal(80 + 16 + 730, summary.TotalParameters);
        Assert.Equal(16, summary.TotalState);
        var rows = summary.Rows.ToDictionary(r => (r.Path, r.IsState));
        Assert.Equal(new Shape(3, 3, 1, 8), rows[("[0][\"w\"]", false)].Shape);
        Assert.Equal(new Shape(1, 1, 1, 8), rows[("[0][\"b\"]", false)].Shape);
        Assert.Equal(new Shape(8), rows[("[1][\"gamma\"]", false)].Shape);
        Assert.Equal(new Shape(8), rows[("[1][\"mean\"]", true)].Shape);
        Assert.Equal(730 - 10, rows[("[5][\"w\"]", false)].Count);
        Assert.All(summary.Rows, r => Assert.Equal(DType.Float32, r.DType));
        Assert.Equal(8, summary.Rows.Count);                 // 6 parameters + 2 state entries
        var text = summary.ToString();
        Assert.Contains("Serial: f32[2,8,8,1] -> f32[2,10]", text);
        Assert.Contains("[0][\"w\"]", text);
        Assert.Contains("(3, 3, 1, 8)", text);
        Assert.Contains("float32", text);
        Assert.Contains("[1][\"var\"] (state)", text);
        Assert.Matches(@"total parameters\s+826", text);
        Assert.Matches(@"total state\s+16", text);
        // Columns are aligned: every table line has the count right-aligned to the same width.
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Single(lines.Where(l => !l.StartsWith("-")).Select(l => l.Length).Distinct());
        var md = summary.ToMarkdown();
        Assert.Contains("| path | shape | dtype | count |", md);
        Assert.Contains("| `[5][\"w\"]` | (72, 10) | float32 | 720 |", md);
        Assert.Contains("**826**", md);
    }

    [Fact]
    public void SummaryMatchesTheInitializedParametersAndRunsNothing()
    {
        var spec = new AbstractValue(new Shape(2, 8, 8, 1), DType.Float32);
        var ran = new List<string>();
        using (Tracing.EvalTrace.Observe(p => ran.Add(p.Name)))
            Cnn().Summary(Rng.Key(0), spec);
        Assert.Empty(ran);                                    // staged: not even the random numbers run
        var (_, p, s) = Cnn().InitializeWithState(Rng.Key(0), spec);
        var of = Stax.Nn.Summary.Of(p, s);
        var fromModule = Cnn().Summary(Rng.Key(0), spec);
        Assert.Equal(fromModule.Rows, of.Rows);
        Assert.Null(of.Header);
        Assert.DoesNotContain("total state", Stax.Nn.Summary.Of(p).ToString());
        var big = Serial(Dense(1000, bInit: Initializers.Zeros())).Summary(Rng.Key(0), new AbstractValue(new Shape(1, 999), DType.Float32));
        Assert.Equal(1_000_000, big.TotalParameters);
        Assert.Contains("1,000,000", big.ToString());
    }

    [Fact]
    public void SummaryOfAnEmptyTree()
    {
        var s = Relu.Summary(Rng.Key(0), new AbstractValue(new Shape(3), DType.Float32));
        Assert.Empty(s.Rows);
        Assert.Equal(0, s.TotalParameters);
        Assert.Contains("total parameters", s.ToString());
    }
}
