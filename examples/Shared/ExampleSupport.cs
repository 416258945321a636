using Stax.Backends;

namespace Stax.Examples;

/// <summary>What both examples need besides their model: the backend flag and the shipped data.</summary>
public static class ExampleSupport
{
    /// <summary>Makes <paramref name="name"/> (<c>cpu</c> or <c>vulkan</c>) the default backend and returns it.</summary>
    public static IBackend UseBackend(string name)
    {
        if (name == "vulkan")
        {
            Vulkan.VulkanBackend.Register();
            BackendRegistry.Default = BackendRegistry.Get("vulkan");
        }
        return BackendRegistry.Default;
    }

    /// <summary>
    /// The path of <paramref name="relative"/> (under <c>data/</c>) found above the program (dotnet
    /// run) or above the working directory (a published executable).
    /// </summary>
    public static string FindData(string relative)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "data", relative);
                if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            }
        throw new FileNotFoundException($"data/{relative} not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }
}
