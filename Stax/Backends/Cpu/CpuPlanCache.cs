using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu;

/// <summary>
/// Per-equation kernel plans (index tables, strides) keyed by the equation's parameter object and
/// an input shape: a compiled program passes the same parameter object on every call, so a kernel
/// computes its plan once and later calls allocate nothing for it (see <see cref="CpuDotPlan"/>).
/// </summary>
internal static class CpuPlanCache<TParams, TPlan> where TParams : class where TPlan : class
{
    static readonly ConditionalWeakTable<TParams, List<(Shape A, Shape B, TPlan Plan)>> Cache = new();
    const int MaxPlansPerParams = 8;

    /// <summary>The plan for <paramref name="p"/> and <paramref name="key"/>, made by <paramref name="make"/> on a miss.</summary>
    public static TPlan Get(TParams p, Shape key, Func<TParams, Shape, TPlan> make)
        => Get(p, key, default, make, static (m, p, a, _) => m(p, a));

    /// <summary>The plan for <paramref name="p"/> and two operand shapes, made by <paramref name="make"/> on a miss.</summary>
    public static TPlan Get<TState>(TParams p, Shape a, Shape b, TState state, Func<TState, TParams, Shape, Shape, TPlan> make)
    {
        var plans = Cache.GetValue(p, static _ => new());
        lock (plans)
        {
            foreach (var (ka, kb, plan) in plans)
                if (ka == a && kb == b) return plan;
        }
        var made = make(state, p, a, b);
        lock (plans)
        {
            if (plans.Count >= MaxPlansPerParams) plans.RemoveAt(0);
            plans.Add((a, b, made));
        }
        return made;
    }
}
