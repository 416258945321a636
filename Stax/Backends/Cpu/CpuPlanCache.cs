namespace Stax.Backends.Cpu;

/// <summary>
/// Kernel plans (index tables, strides) keyed by an equation's parameters and operand shapes, by
/// value: a compiled program passes the same parameters on every call, and eager calls that build
/// equal parameters afresh each time find the plan too (a table keyed by the parameter object's
/// identity would gain a weak entry per eager call instead), so later calls allocate nothing for
/// it. Bounded: when full it starts over.
/// </summary>
internal static class CpuPlanCache<TParams, TPlan> where TParams : class where TPlan : class
{
    static readonly Dictionary<(TParams P, Shape A, Shape B), TPlan> Cache = new();
    const int MaxEntries = 256;

    /// <summary>The plan for <paramref name="p"/> and <paramref name="key"/>, made by <paramref name="make"/>
    /// on a miss.</summary>
    public static TPlan Get(TParams p, Shape key, Func<TParams, Shape, TPlan> make)
        => Get(p, key, default, make, static (m, p, a, _) => m(p, a));

    /// <summary>The plan for <paramref name="p"/> and two operand shapes, made by <paramref name="make"/> on a miss.</summary>
    public static TPlan Get<TState>(TParams p, Shape a, Shape b, TState state, Func<TState, TParams, Shape, Shape, TPlan> make)
    {
        lock (Cache)
            if (Cache.TryGetValue((p, a, b), out var plan)) return plan;
        var made = make(state, p, a, b);
        lock (Cache)
        {
            if (Cache.Count >= MaxEntries) Cache.Clear();
            Cache[(p, a, b)] = made;
        }
        return made;
    }
}
