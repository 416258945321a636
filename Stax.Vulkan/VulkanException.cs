using Silk.NET.Vulkan;

namespace Stax.Vulkan;

/// <summary>A Vulkan call returned an error <c>VkResult</c>; the message names the result and the call.</summary>
public sealed class VulkanException : Exception
{
    /// <summary>Creates the exception for <paramref name="result"/> returned by <paramref name="call"/>.</summary>
    public VulkanException(Result result, string call)
        : base($"vulkan: {call} failed with {Name(result)} ({(int)result})")
    {
        Result = result;
        Call = call;
    }

    /// <summary>The result code.</summary>
    public Result Result { get; }

    /// <summary>The Vulkan function that failed.</summary>
    public string Call { get; }

    /// <summary>The Vulkan spelling of a result (e.g. <c>VK_ERROR_OUT_OF_DEVICE_MEMORY</c>).</summary>
    public static string Name(Result r)
    {
        var s = r.ToString();
        if (int.TryParse(s, out _)) return $"VK_RESULT_{(int)r}";
        var sb = new System.Text.StringBuilder("VK_");
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (i > 0 && char.IsUpper(c) && (char.IsLower(s[i - 1]) || char.IsDigit(s[i - 1]))) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>Throws unless <paramref name="r"/> is <see cref="Result.Success"/> (or another non-error code).</summary>
    public static void Check(Result r, string call)
    {
        if ((int)r < 0) throw new VulkanException(r, call);
    }
}

/// <summary>Vulkan cannot be used on this machine (no loader, no driver, no compute queue).</summary>
public sealed class VulkanNotAvailableException : Exception
{
    /// <summary>Creates the exception; the message is <c>Vulkan not available: reason</c>.</summary>
    public VulkanNotAvailableException(string reason, Exception? inner = null)
        : base($"Vulkan not available: {reason}", inner)
    {
        Reason = reason;
    }

    /// <summary>Why Vulkan is not available.</summary>
    public string Reason { get; }
}
