using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Stax.Tests.Docs;

/// <summary>Every ```csharp block of README.md compiles and runs, so the README cannot drift.</summary>
public class ReadmeTests
{
    static string ReadmePath()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "README.md");
            if (File.Exists(p) && File.Exists(Path.Combine(d.FullName, "Stax.sln"))) return p;
        }
        throw new FileNotFoundException("README.md next to Stax.sln not found");
    }

    public static IEnumerable<object[]> Blocks()
    {
        var text = File.ReadAllText(ReadmePath());
        var blocks = Regex.Matches(text, "```csharp\\n(.*?)```", RegexOptions.Singleline);
        for (int i = 0; i < blocks.Count; i++) yield return new object[] { i, blocks[i].Groups[1].Value };
    }

    [Fact]
    public void ReadmeHasCodeBlocks() => Assert.NotEmpty(Blocks());

    [Theory]
    [MemberData(nameof(Blocks))]
    public async Task CodeBlockCompilesAndRuns(int index, string code)
    {
        var options = ScriptOptions.Default
            .AddReferences(typeof(Tensor).Assembly)
            .AddImports("System", "System.Linq", "System.Collections.Generic", "Stax");
        var output = new StringWriter();
        var saved = Console.Out;
        try
        {
            Console.SetOut(output);
            await CSharpScript.RunAsync(code, options);
        }
        catch (CompilationErrorException e)
        {
            Assert.Fail($"README block {index} does not compile:\n{string.Join("\n", e.Diagnostics)}\n---\n{code}");
        }
        finally
        {
            Console.SetOut(saved);
        }
    }
}
