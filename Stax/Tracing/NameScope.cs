namespace Stax.Tracing;

/// <summary>
/// A per-thread stack of names (e.g. module slot paths such as <c>Serial/2/Dense</c>) that errors
/// and printed programs show. The Nn layer pushes module paths; users may push their own.
/// </summary>
public static class NameScope
{
    [ThreadStatic] static List<string>? _stack;

    /// <summary>The current scope path joined with '/', or null at top level.</summary>
    public static string? Current => _stack is { Count: > 0 } s ? s[^1] : null;

    /// <summary>Enters a scope named <paramref name="name"/> below the current one (or replacing it).</summary>
    public static IDisposable Push(string name, bool replace = false)
    {
        var s = _stack ??= new List<string>();
        s.Add(replace || s.Count == 0 ? name : s[^1] + "/" + name);
        return new Popper(s);
    }

    /// <summary>
    /// Prefixes <paramref name="message"/> with the current scope, if any. A message that is just
    /// the scope's own last name (a module naming itself, <c>Describe("Dense")</c> inside
    /// <c>Serial/0/Dense</c>) gives the scope alone, so errors do not read "Dense: Dense: ...".
    /// </summary>
    public static string Describe(string message)
    {
        if (Current is not { } c) return message;
        return c == message || c.EndsWith("/" + message, StringComparison.Ordinal) ? c : $"{c}: {message}";
    }

    sealed class Popper(List<string> s) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; s.RemoveAt(s.Count - 1); } }
    }
}
