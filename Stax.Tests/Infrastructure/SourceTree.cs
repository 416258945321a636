using System.Reflection;

namespace Stax.Tests.Infrastructure;

/// <summary>
/// The repository's source tree, for tests that read sources (the GLSL shaders): found above the
/// test binaries, else at <c>STAX_SOURCE_ROOT</c>, else where the tests were built from; null when
/// none of these holds the sources (test binaries copied to another machine).
/// </summary>
public static class SourceTree
{
    static readonly Lazy<string?> RootValue = new(Find);

    /// <summary>The repository root (the folder holding Stax.sln and shaders/), or null.</summary>
    public static string? Root => RootValue.Value;

    static bool IsRoot(string? dir) => dir != null && File.Exists(Path.Combine(dir, "Stax.sln")) && Directory.Exists(Path.Combine(dir, "shaders"));

    static string? Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (IsRoot(d.FullName)) return d.FullName;
        var env = Environment.GetEnvironmentVariable("STAX_SOURCE_ROOT");
        if (IsRoot(env)) return Path.GetFullPath(env!);
        var built = typeof(SourceTree).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "StaxSourceRoot")?.Value;
        return IsRoot(built) ? built : null;
    }
}
