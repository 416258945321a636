namespace Stax.Tracing;

/// <summary>
/// Per-thread interpreter state: the stack of active traces (one per running transformation, each
/// a level higher than the one below) and the dynamic trace that staging (Jit, MakeJaxpr) installs
/// so that operations on constants are staged too.
/// </summary>
public static class TraceState
{
    [ThreadStatic] static List<Trace>? _stack;
    [ThreadStatic] static Trace? _dynamic;

    static List<Trace> Stack => _stack ??= new List<Trace>();

    /// <summary>The level the next trace will take.</summary>
    public static int NextLevel => Stack.Count + 1;

    /// <summary>The dynamic (staging) trace, or null.</summary>
    public static Trace? Dynamic => _dynamic;

    /// <summary>The active traces, innermost last (for error messages).</summary>
    public static IReadOnlyList<Trace> Active => Stack;

    /// <summary>Creates and pushes a trace at the next level; disposing the scope pops it and marks it inactive.</summary>
    public static TraceScope<T> Begin<T>(Func<int, T> create) where T : Trace
    {
        Rules.RuleRegistry.Ensure();
        var t = create(NextLevel);
        if (t.Level != NextLevel) throw new InvalidOperationException("Internal error: a trace must take TraceState.NextLevel");
        Stack.Add(t);
        return new TraceScope<T>(t);
    }

    internal static void End(Trace trace)
    {
        var s = Stack;
        if (s.Count == 0 || s[^1] != trace) throw new InvalidOperationException("Internal error: traces must end in LIFO order");
        s.RemoveAt(s.Count - 1);
        trace.IsActive = false;
    }

    /// <summary>Makes <paramref name="trace"/> the dynamic trace until disposed.</summary>
    public static IDisposable SetDynamic(Trace? trace)
    {
        var old = _dynamic;
        _dynamic = trace;
        return new Restore(() => _dynamic = old);
    }

    /// <summary>Runs with no dynamic trace (eager evaluation of constants inside a staged function).</summary>
    public static IDisposable Eager() => SetDynamic(null);

    sealed class Restore(Action undo) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; undo(); } }
    }

    /// <summary>The trace that must process an operation on <paramref name="args"/>: the highest
    /// level among the operands' traces and the dynamic trace; evaluation when there is none.</summary>
    public static Trace FindTop(ReadOnlySpan<Tensor> args)
    {
        Trace top = EvalTrace.Instance;
        foreach (var a in args)
        {
            var t = a.Tracer?.Trace;
            if (t == null) continue;
            CheckActive(t);
            if (t.Level > top.Level) top = t;
        }
        var dyn = _dynamic;
        if (dyn != null && dyn.Level > top.Level) top = dyn;
        return top;
    }

    /// <summary>Throws the escaped-tracer error when <paramref name="t"/> has finished.</summary>
    public static void CheckActive(Trace t)
    {
        if (!t.IsActive)
            throw new InvalidOperationException(
                $"A tensor traced by {t.TransformName} was used after that transformation finished (an escaped tracer). " +
                "Return it from the transformed function instead of storing it in an outer variable.");
    }
}

/// <summary>Keeps a trace active; disposing it ends the trace.</summary>
public readonly struct TraceScope<T>(T trace) : IDisposable where T : Trace
{
    /// <summary>The trace.</summary>
    public T Trace { get; } = trace;
    /// <summary>Ends the trace.</summary>
    public void Dispose() => TraceState.End(Trace);
}
