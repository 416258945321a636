namespace Stax.Tracing;

/// <summary>Per-thread interpreter state: the stack of active traces.</summary>
public static class TraceState
{
    [ThreadStatic] static List<Trace>? _stack;

    static List<Trace> Stack => _stack ??= new List<Trace>();

    /// <summary>The innermost ambient trace (jit staging makes itself ambient), or null.</summary>
    public static Trace? Ambient { get { var s = Stack; return s.Count == 0 ? null : s[^1]; } }

    /// <summary>Level a new trace should take.</summary>
    public static int NextLevel => Stack.Count + 1;

    /// <summary>Pushes a trace; dispose the result to pop it and mark it inactive.</summary>
    public static IDisposable Push(Trace trace)
    {
        Stack.Add(trace);
        return new Popper(trace);
    }

    sealed class Popper(Trace trace) : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            var s = Stack;
            if (s.Count == 0 || s[^1] != trace) throw new InvalidOperationException("Trace stack corrupted: traces must be popped in LIFO order");
            s.RemoveAt(s.Count - 1);
            trace.IsActive = false;
        }
    }

    /// <summary>The trace that must process an operation on <paramref name="args"/>.</summary>
    public static Trace FindTop(ReadOnlySpan<Tensor> args)
    {
        Trace top = EvalTrace.Instance;
        foreach (var a in args)
        {
            var t = a.Tracer?.Trace;
            if (t == null) continue;
            if (!t.IsActive)
                throw new InvalidOperationException(
                    $"A tensor traced by {t.TransformName} was used after that transformation finished (an escaped tracer). " +
                    "Return it from the transformed function instead of storing it in an outer variable.");
            if (t.Level > top.Level) top = t;
        }
        var ambient = Ambient;
        if (ambient != null && ambient.Level > top.Level) top = ambient;
        return top;
    }
}
