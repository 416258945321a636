namespace Stax.Backends.Cpu;

/// <summary>
/// Persistent worker threads for <see cref="CpuParallel"/>: a parallel region hands chunk indices
/// to parked threads through preallocated job objects, so a region allocates nothing (the
/// runtime's <c>Parallel.For</c> allocates its task replicas, options and closures each time). The
/// caller runs chunk 0 itself. Workers run under the caller's execution context, so scoped
/// settings (<see cref="Config.UseIsa"/>) reach them. One region at a time: a region started while
/// another runs (another thread, or a kernel nested inside a chunk) returns false and the caller
/// uses <c>Parallel.For</c>.
/// </summary>
internal static class CpuWorkers
{
    /// <summary>Most helper threads kept (regions with more chunks use <c>Parallel.For</c>).</summary>
    const int MaxHelpers = 63;

    static readonly object Gate = new();
    static readonly List<Worker> Helpers = new();
    static int _busy;

    /// <summary>A region's work: runs one chunk.</summary>
    internal abstract class Job
    {
        public abstract void RunChunk(int chunk);
    }

    /// <summary>A job over a state and a static body, one instance per state type, reused.</summary>
    internal sealed class Job<TState> : Job
    {
        [ThreadStatic] static Job<TState>? _cached;
        public TState State = default!;
        public Action<TState, long, long> Body = null!;
        public long N, Per;

        public static Job<TState> Rent()
        {
            var j = _cached ?? new Job<TState>();
            _cached = null; // a region nested in a chunk on this thread takes a job of its own
            return j;
        }
        public void Return() { State = default!; Body = null!; _cached = this; }

        public override void RunChunk(int chunk)
        {
            long s = chunk * Per, e = Math.Min(N, s + Per);
            if (s < e) Body(State, s, e);
        }
    }

    /// <summary>Runs chunks 0..chunks-1 of <paramref name="job"/>, chunk 0 on the calling thread; false when the workers are busy.</summary>
    public static bool TryRun(Job job, int chunks)
    {
        if (chunks - 1 > MaxHelpers || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            lock (Gate)
                while (Helpers.Count < chunks - 1) Helpers.Add(new Worker());
            var context = ExecutionContext.Capture();
            var done = Done.Value!;
            done.Reset(chunks - 1);
            for (int c = 1; c < chunks; c++) Helpers[c - 1].Start(job, c, context, done);
            Exception? first = null;
            try { job.RunChunk(0); }
            catch (Exception e) { first = e; }
            done.Wait();
            first ??= done.Error;
            if (first != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            return true;
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    static readonly ThreadLocal<Countdown> Done = new(() => new Countdown());

    /// <summary>Counts finished chunks and keeps the first exception (one per calling thread, reused).</summary>
    internal sealed class Countdown
    {
        readonly CountdownEvent _event = new(1);
        public Exception? Error;
        public void Reset(int count) { Error = null; _event.Reset(count); }
        public void Signal(Exception? e)
        {
            if (e != null) Interlocked.CompareExchange(ref Error, e, null);
            _event.Signal();
        }
        public void Wait() => _event.Wait();
    }

    sealed class Worker
    {
        readonly SemaphoreSlim _go = new(0);
        Job? _job;
        int _chunk;
        ExecutionContext? _context;
        Countdown? _done;

        public Worker()
        {
            var t = new Thread(Loop) { IsBackground = true, Name = "stax-cpu-worker" };
            t.Start();
        }

        public void Start(Job job, int chunk, ExecutionContext? context, Countdown done)
        {
            _job = job; _chunk = chunk; _context = context; _done = done;
            _go.Release();
        }

        void Loop()
        {
            while (true)
            {
                _go.Wait();
                Exception? error = null;
                try
                {
                    if (_context != null) ExecutionContext.Run(_context, static w => ((Worker)w!).RunJob(), this);
                    else RunJob();
                }
                catch (Exception e) { error = e; }
                var done = _done!;
                _job = null; _context = null; _done = null;
                done.Signal(error);
            }
        }

        void RunJob() => _job!.RunChunk(_chunk);
    }
}
