using System.Runtime.CompilerServices;

namespace Stax.Backends.Cpu.Conv;

/// <summary>
/// Runs independent work items 0..n-1 on <see cref="Config.NumThreads"/> threads that each take the
/// next item as they finish one, so a thread slowed down by another process on its core does not
/// hold up the rest (a fixed split would wait for it). The items must not depend on which thread
/// runs them; the Winograd kernels' blocks and chunks do not, so their bits stay the same.
/// </summary>
internal static unsafe class DynamicBlocks
{
    // The calling thread's counter (pinned, read through a pointer by the workers while it waits).
    [ThreadStatic] static long[]? _next;

    readonly struct Work<TState>(TState state, long n, long* next, Action<TState, long> body)
    {
        public readonly TState State = state;
        public readonly long N = n;
        public readonly long* Next = next;
        public readonly Action<TState, long> Body = body;
    }

    /// <summary>Calls <paramref name="body"/>(state, i) once for every i in [0, n).</summary>
    public static void Run<TState>(long n, TState state, Action<TState, long> body)
    {
        long threads = Math.Min(Config.NumThreads, n);
        if (threads <= 1)
        {
            for (long i = 0; i < n; i++) body(state, i);
            return;
        }
        var next = _next ??= GC.AllocateArray<long>(8, pinned: true);
        long* counter = (long*)Unsafe.AsPointer(ref next[0]);
        *counter = 0;
        CpuParallel.For(threads, 1, new Work<TState>(state, n, counter, body), static (w, c0, c1) =>
        {
            for (long i; (i = Interlocked.Increment(ref *w.Next) - 1) < w.N;) w.Body(w.State, i);
        }, align: 1);
    }
}
