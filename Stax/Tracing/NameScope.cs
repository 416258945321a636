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

    /// <summary>Prefixes <paramref name="message"/> with the current scope, if any.</summary>
    public static string Describe(string message) => Current is { } c ? $"{c}: {message}" : message;

    sealed class Popper(List<string> s) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; s.RemoveAt(s.Count - 1); } }
    }
}
