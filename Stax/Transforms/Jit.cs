using System.Collections.Concurrent;
using Stax.Tracing;

namespace Stax;

/// <summary>
/// A function compiled with <see cref="Transforms.Jit(Func{Tensor[], Tensor[]}, string?, int[])"/>:
/// traced once per (input shapes, dtypes, weak types, static argument) and then run from its
/// cache. Tensors the function captures become program constants; reassigning a captured variable
/// needs a new Jit (the cache keeps the values seen at trace time).
/// </summary>
public sealed class JitFunction
{
    readonly Func<Tensor[], object?, Tensor[]> _f;
    readonly int[] _donate;
    readonly ConcurrentDictionary<CacheKey, Entry> _cache = new();
    readonly ConcurrentQueue<CacheKey> _insertionOrder = new();
    readonly ConcurrentDictionary<string, int> _tracesPerTypes = new();
    int _traces, _maxCacheSize = 64, _warnedRetrace, _warnedEviction;

    /// <summary>Traces for one set of argument types (static argument changing) before a warning.</summary>
    public const int RetraceWarningThreshold = 10;

    /// <summary>
    /// Raised once per function when it retraces <see cref="RetraceWarningThreshold"/> times for the
    /// same argument types (a static value that changes on every call), and once when its cache is
    /// full and starts evicting. Without a handler the message goes to standard error.
    /// </summary>
    public static event Action<JitFunction, string>? Warning;

    sealed record Entry(JitParams Params, Tensor[] Consts)
    {
        /// <summary>No constant is a tracer of an outer transformation (which would make the call staged).</summary>
        public bool ConstantsConcrete { get; } = Consts.All(c => c.IsConcrete);

        JitParams? _donating;

        /// <summary>The parameters with <paramref name="mask"/> as their donation flags: the last
        /// copy is reused while the mask stays the same (a training loop donates alike every step).</summary>
        public JitParams Donating(bool[] mask)
        {
            var d = _donating;
            if (d?.Donated is { } m && m.AsSpan().SequenceEqual(mask)) return d;
            return _donating = Params with { Donated = (bool[])mask.Clone() };
        }
    }

    readonly record struct CacheKey(string Types, object? Static);

    internal JitFunction(Func<Tensor[], object?, Tensor[]> f, string name, int[] donateArgnums)
    {
        _f = f;
        Name = name;
        _donate = donateArgnums;
    }

    /// <summary>The name shown in printed programs.</summary>
    public string Name { get; }

    /// <summary>How many times the function has been traced (a cache hit does not trace).</summary>
    public int TraceCount => _traces;

    /// <summary>Number of cached programs.</summary>
    public int CacheSize => _cache.Count;

    /// <summary>Called with the argument types and static argument of each evicted program (tree Jit
    /// drops the output structure it remembered for it).</summary>
    internal Action<string, object?>? Evicted { get; set; }

    /// <summary>The most programs kept (default 64); beyond it the oldest is evicted, so a function
    /// retraced for ever-new static values does not hold every program it ever compiled.</summary>
    public int MaxCacheSize
    {
        get => _maxCacheSize;
        set => _maxCacheSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"Jit ({Name}): MaxCacheSize must be positive, got {value}");
    }

    /// <summary>The staged program for arguments like <paramref name="args"/> (traces on a miss).</summary>
    public ClosedJaxpr Lower(Tensor[] args, object? staticArg = null)
    {
        var e = GetEntry(args, staticArg, out _);
        return new ClosedJaxpr(e.Params.Jaxpr, Array.Empty<Tensor>());
    }

    /// <summary>Runs the function: from the cache when these argument types were seen before.</summary>
    public Tensor[] Call(Tensor[] args, object? staticArg = null) => Call(args, staticArg, DonationMask(args.Length));

    /// <summary>Runs the function donating the arguments flagged in <paramref name="donate"/> (tree Jit: whole argument trees).</summary>
    internal Tensor[] Call(Tensor[] args, object? staticArg, bool[]? donate)
    {
        var entry = GetEntry(args, staticArg, out _);
        // Eager calls (the common case) reuse one argument array and donation mask: evaluation
        // only reads them during the call. Under a transformation a trace may keep the array.
        bool eager = entry.ConstantsConcrete && TraceState.FindTop(args) is EvalTrace;
        var frame = Frame(entry, args, donate, eager);
        Tensor[] outs;
        try
        {
            // Donated buffers may be reused by the backend for this call's outputs and temporaries.
            // Only an eager call donates: a staged jit equation must not carry this call's flags.
            outs = Prims.Jit.Bind(donate is not null && eager ? entry.Donating(frame.Mask) : entry.Params, frame.All);
        }
        finally
        {
            if (eager) Release(frame);
        }
        if (donate is not null)
            for (int i = 0; i < args.Length && i < donate.Length; i++)
                if (donate[i] && args[i].IsConcrete) args[i].MarkDonated(Name);
        return outs;
    }

    // The program's inputs (constants, then the arguments) and, per input, whether this call
    // donates it; eager calls take the spare frame, which Release gives back.
    CallFrame Frame(Entry entry, Tensor[] args, bool[]? donate, bool eager)
    {
        int nc = entry.Consts.Length;
        var frame = eager ? Interlocked.Exchange(ref _spareCall, null) : null;
        if (frame is null || frame.All.Length != nc + args.Length) frame = new CallFrame(nc + args.Length);
        entry.Consts.CopyTo(frame.All, 0);
        args.CopyTo(frame.All, nc);
        Array.Clear(frame.Mask);
        if (donate is not null)
            for (int i = 0; i < args.Length && i < donate.Length; i++)
                if (donate[i] && args[i].IsConcrete) frame.Mask[nc + i] = true;
        return frame;
    }

    void Release(CallFrame frame)
    {
        Array.Clear(frame.All); // hold no tensors between calls
        _spareCall = frame;
    }

    /// <summary>
    /// A loop over this function that feeds result j back as argument <paramref name="carry"/>[j]
    /// (-1 or past the end: not fed back) and reuses the results' objects, so that a jitted,
    /// donating step allocates nothing per call (see <see cref="JitLoop"/>). Each fed-back argument
    /// must be donated (in donate_argnums). <paramref name="args"/> are the first call's arguments;
    /// the fed-back ones among them are donated by that call, as <see cref="Call(Tensor[], object?)"/> does.
    /// </summary>
    public JitLoop Loop(Tensor[] args, params int[] carry) => new(this, args, carry);

    /// <summary>The donated argument positions (donate_argnums).</summary>
    internal ReadOnlySpan<int> DonatedArguments => _donate;

    /// <summary>
    /// An eager, donating call for <see cref="JitLoop"/>: results go into <paramref name="results"/>
    /// (resized to the program's result count), reusing <paramref name="spare"/>[j] (a dead Tensor
    /// object nothing else reaches) for result j where the backend can; <paramref name="owned"/>[j]
    /// says whether results[j] is a new tensor of this call alone (not an argument, bound value or
    /// another result). Donated arguments are marked donated unless they became results.
    /// </summary>
    internal void CallInto(Tensor[] args, object? staticArg, ref Tensor[] results, ref Tensor?[] spare, ref bool[] owned)
    {
        var mask = DonationMask(args.Length);
        var entry = GetEntry(args, staticArg, out _);
        if (!entry.ConstantsConcrete || TraceState.FindTop(args) is not EvalTrace)
            throw new InvalidOperationException(
                $"JitLoop ({Name}): a loop runs on concrete values only, not under a transformation");
        int nOut = entry.Params.Jaxpr.OutVars.Length;
        if (results.Length != nOut)
        {
            Array.Resize(ref results, nOut);
            Array.Resize(ref spare, nOut);
            Array.Resize(ref owned, nOut);
        }
        var frame = Frame(entry, args, mask, eager: true);
        try
        {
            var jp = entry.Donating(frame.Mask);
            EvalTrace.NotifyEvaluated(Prims.Jit);
            var exe = Prims.JitExecutable(jp, frame.All);
            if (exe is Backends.Cpu.CpuExecutable cpu) cpu.RunInto(frame.All, jp.Donated, results, spare, owned);
            else
            {
                // Other backends return new tensors: correct, without the reuse.
                exe.Run(frame.All, jp.Donated).CopyTo(results, 0);
                Array.Clear(owned);
            }
        }
        finally
        {
            Release(frame);
        }
        if (mask is null) return;
        for (int i = 0; i < args.Length; i++)
        {
            if (!mask[i] || !args[i].IsConcrete) continue;
            // A spare the call reused now holds a result: alive again.
            bool reused = false;
            foreach (var r in results) reused |= ReferenceEquals(r, args[i]);
            if (!reused) args[i].MarkDonated(Name);
        }
    }

    // Per argument, whether it is donated (null: none); depends only on the argument count, and is
    // read, never written, by a call.
    bool[]? DonationMask(int count)
    {
        foreach (var i in _donate)
            if (i < 0 || i >= count)
                throw new ArgumentException($"Jit ({Name}): donate_argnums {i} is out of range for {count} arguments");
        if (_donate.Length == 0) return null;
        var mask = _donateMask;
        if (mask is null || mask.Length != count)
        {
            mask = new bool[count];
            foreach (var i in _donate) mask[i] = true;
            _donateMask = mask;
        }
        return mask;
    }

    bool[]? _donateMask;
    CallFrame? _spareCall;
    LastHit? _lastHit;

    /// <summary>A call's program inputs (constants, then arguments) and their donation flags.</summary>
    sealed class CallFrame(int n)
    {
        public readonly Tensor[] All = new Tensor[n];
        public readonly bool[] Mask = new bool[n];
    }

    /// <summary>The argument types and static value of the latest cache hit, compared without building the key string.</summary>
    sealed class LastHit(AbstractValue[] types, object? staticArg, Entry entry)
    {
        public readonly AbstractValue[] Types = types;
        public readonly object? Static = staticArg;
        public readonly Entry Entry = entry;

        public bool Matches(Tensor[] args, object? staticArg)
        {
            if (args.Length != Types.Length || !Equals(staticArg, Static)) return false;
            for (int i = 0; i < args.Length; i++)
                if (!Types[i].Equals(args[i].Aval)) return false;
            return true;
        }
    }

    Entry GetEntry(Tensor[] args, object? staticArg, out bool hit)
    {
        // A loop calls with the same types every time: match the last hit before building the key.
        if (_lastHit is { } last && last.Matches(args, staticArg)) { hit = true; return last.Entry; }
        var key = new CacheKey(string.Join(";", args.Select(a => a.Aval.ToString())), staticArg);
        if (_cache.TryGetValue(key, out var cached))
        {
            // Only programs whose constants are all concrete are cached, so the entry is reusable.
            _lastHit = new LastHit(args.Select(a => a.Aval).ToArray(), staticArg, cached);
            hit = true;
            return cached;
        }
        hit = false;
        return Trace(args, staticArg, key);
    }

    // A method of its own: the staged function's lambda captures staticArg, whose closure would
    // otherwise be allocated on entry to GetEntry, on every call, cache hits included.
    Entry Trace(Tensor[] args, object? staticArg, CacheKey key)
    {
        Interlocked.Increment(ref _traces);
        var closed = StagingTrace.Stage(xs => _f(xs, staticArg), args.Select(a => a.Aval).ToArray(), $"Jit({Name})");
        // Closure conversion: constants become leading inputs of a program without constants.
        var (converted, consts) = closed.ConstantsAsInputs();
        var entry = new Entry(new JitParams(Name, converted), consts);
        // Constants that are tracers of an outer transformation are only valid for this call.
        if (closed.Consts.All(c => c.IsConcrete) && _cache.TryAdd(key, entry))
        {
            _insertionOrder.Enqueue(key);
            while (_cache.Count > _maxCacheSize && _insertionOrder.TryDequeue(out var oldest))
            {
                _cache.TryRemove(oldest, out _);
                _lastHit = null;
                Evicted?.Invoke(oldest.Types, oldest.Static);
                WarnOnce(ref _warnedEviction, $"Jit ({Name}): the cache holds {_maxCacheSize} programs and now evicts the oldest; " +
                    "arguments with ever-new shapes or static values compile a program each (see JitFunction.MaxCacheSize)");
            }
        }
        if (_tracesPerTypes.AddOrUpdate(key.Types, 1, (_, n) => n + 1) == RetraceWarningThreshold)
            WarnOnce(ref _warnedRetrace, $"Jit ({Name}): traced {RetraceWarningThreshold} times for arguments of the same types because the static " +
                $"argument changed (now {staticArg}). A value that changes on every call should be traced: pass it as a Tensor " +
                "(tree Jit traces C# numbers in object slots; a typed int parameter stays static), and keep static only what decides the program's shape");
        return entry;
    }

    void WarnOnce(ref int flag, string message)
    {
        if (Interlocked.Exchange(ref flag, 1) != 0) return;
        if (Warning is { } handlers) handlers(this, message);
        else Console.Error.WriteLine("warning: " + message);
    }
}

public static partial class Transforms
{
    /// <summary>Compiles <paramref name="f"/>: staged once per input types, cached by the returned object.</summary>
    public static JitFunction Jit(Func<Tensor[], Tensor[]> f, string? name = null, params int[] donateArgnums)
        => new((xs, _) => f(xs), name ?? "f", donateArgnums);

    /// <summary>Compiles <paramref name="f"/> with a static argument (any equatable value, part of the cache key).</summary>
    public static JitFunction Jit(Func<Tensor[], object?, Tensor[]> f, string? name = null, params int[] donateArgnums)
        => new(f, name ?? "f", donateArgnums);

    /// <summary>Compiles a one-argument function.</summary>
    public static Func<Tensor, Tensor> Jit(Func<Tensor, Tensor> f)
    {
        var j = Jit(xs => new[] { f(xs[0]) });
        return x => j.Call(new[] { x })[0];
    }

    /// <summary>Compiles a two-argument function.</summary>
    public static Func<Tensor, Tensor, Tensor> Jit(Func<Tensor, Tensor, Tensor> f)
    {
        var j = Jit(xs => new[] { f(xs[0], xs[1]) });
        return (x, y) => j.Call(new[] { x, y })[0];
    }
}
