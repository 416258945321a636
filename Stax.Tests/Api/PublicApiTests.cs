using System.Reflection;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Api;

/// <summary>
/// The public API of each shipped assembly is checked in (<c>Stax.Tests/Api/*.api.txt</c>). A
/// change to the surface fails here until the listing is updated on purpose:
/// <c>STAX_UPDATE_API=1 dotnet test Stax.Tests -c Release --filter PublicApi</c> rewrites the
/// listings in the source tree, and the diff goes into the commit for review.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies => new() { "Stax", "Stax.Vulkan" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void PublicApiMatchesTheCheckedInListing(string name)
    {
        var assembly = Assembly.Load(name);
        var actual = PublicApi.Describe(assembly);
        var file = name + ".api.txt";
        if (Environment.GetEnvironmentVariable("STAX_UPDATE_API") == "1")
        {
            var root = SourceTree.Root ?? throw new InvalidOperationException("STAX_UPDATE_API=1 needs the source tree (set STAX_SOURCE_ROOT)");
            File.WriteAllText(Path.Combine(root, "Stax.Tests", "Api", file), actual);
            return;
        }
        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Api", file)).Replace("\r\n", "\n");
        if (expected == actual) return;
        var want = expected.Split('\n');
        var got = actual.Split('\n');
        var removed = want.Except(got).Take(20).Select(l => "- " + l);
        var added = got.Except(want).Take(20).Select(l => "+ " + l);
        Assert.Fail($"The public API of {name} differs from Stax.Tests/Api/{file} (first differences below). If the change is " +
            "intended, run STAX_UPDATE_API=1 dotnet test Stax.Tests -c Release --filter PublicApi and commit the listing.\n" +
            string.Join("\n", removed.Concat(added)));
    }

    [Fact]
    public void TestHooksAreNotPublic()
    {
        // Observers and per-thread counters exist for tests; users should not see them.
        var evalTrace = typeof(Stax.Tracing.EvalTrace);
        Assert.Null(evalTrace.GetMethod("Observe", BindingFlags.Public | BindingFlags.Static));
        Assert.Null(evalTrace.GetProperty("ThreadEvaluations", BindingFlags.Public | BindingFlags.Static));
    }

    [Fact]
    public void RuleSlotsAreSetOnce()
    {
        var p = new Primitive("test_set_once", PrimitiveFamily.Unary, (ins, _) => new[] { ins[0] }, inputs: 1);
        p.Jvp = (xs, ts, _) => (xs, ts);
        var e = Assert.Throws<InvalidOperationException>(() => p.Jvp = (xs, ts, _) => (xs, ts));
        Assert.Contains("test_set_once", e.Message);
        Assert.Contains("JVP", e.Message);
        Stax.Rules.RuleRegistry.Ensure();
        Assert.Throws<InvalidOperationException>(() => Prims.Add.Jvp = (xs, ts, _) => (xs, ts));
    }
}
