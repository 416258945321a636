using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Stax.Tracing;

/// <summary>
/// Programs derived from a staged program (its JVP, batched, partially evaluated, transposed or
/// rewritten forms), cached per owner (a program or a parameter record) and variant key, so a
/// function differentiated or vmapped many times is staged once per variant. Entries live as long
/// as their owner.
/// </summary>
internal static class DerivedPrograms
{
    static readonly ConditionalWeakTable<object, ConcurrentDictionary<string, object>> Cache = new();

    /// <summary>The derived value of <paramref name="owner"/> for <paramref name="variant"/>, made once.</summary>
    public static T Get<T>(object owner, string variant, Func<T> make)
        => (T)Cache.GetOrCreateValue(owner).GetOrAdd(variant, _ => make()!);
}
