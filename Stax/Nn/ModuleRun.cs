using System.Text;

namespace Stax.Nn;

/// <summary>The context of one initialization or application of a module tree.</summary>
internal sealed class ModuleRun
{
    public ModuleRun(bool initializing, Key? initKey, bool training, Key? rng = null, IReadOnlyDictionary<string, Key>? rngs = null)
    {
        Initializing = initializing;
        InitKey = initKey;
        Training = training;
        CreationTrace = Tracing.TraceState.Dynamic;
        _rootRng = rng ?? Key.None;
        _rngs = rngs;
    }

    readonly Key _rootRng;
    readonly IReadOnlyDictionary<string, Key>? _rngs;
    readonly Dictionary<(string Path, string Stream), uint> _rngCounters = new();

    /// <summary>
    /// A key from the rng stream <paramref name="stream"/> for the slot at <paramref name="slotPath"/>
    /// (Flax's <c>make_rng</c>): the stream's key (from <c>rngs</c>, else derived from the apply-time
    /// <c>rng</c> by folding in the stream name), folded with the slot path and a per-slot counter,
    /// so every slot and every call gets its own key and one step key serves the whole model.
    /// </summary>
    public Key MakeRng(string stream, string slotPath, string where)
        => TryMakeRng(stream, slotPath) ?? throw new ArgumentException($"{where}: needs a key from the rng stream '{stream}'; pass one to Apply " +
            $"(rngs: new() {{ [\"{stream}\"] = key }}, or rng: key, from which every stream derives)");

    /// <summary>Like <see cref="MakeRng"/>, or null when the run has no key for the stream.</summary>
    public Key? TryMakeRng(string stream, string slotPath)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Key key;
        if (_rngs != null && _rngs.TryGetValue(stream, out var given) && given is { IsNone: false }) key = given;
        else if (!_rootRng.IsNone) key = Rng.FoldIn(_rootRng, Tensor.Scalar(StableHash("rng stream " + stream), DType.UInt32));
        else return null;
        key = FoldPath(key, slotPath);
        var counterKey = (slotPath, stream);
        _rngCounters.TryGetValue(counterKey, out var n);
        _rngCounters[counterKey] = n + 1;
        return Rng.FoldIn(key, Tensor.Scalar(n, DType.UInt32));
    }

    /// <summary>
    /// The dynamic trace when the run started: parameters are created there, outside the abstract
    /// evaluation of apply (eagerly at top level; staged when Initialize itself is being staged).
    /// </summary>
    public Tracing.Trace? CreationTrace { get; }

    /// <summary>True while the parameter tracer creates parameters.</summary>
    public bool Initializing { get; }
    /// <summary>The key given to Initialize (parameter-creation keys derive from it).</summary>
    public Key? InitKey { get; }
    /// <summary>The name of the module the run started from (the first segment of scope paths).</summary>
    public string? RootName { get; set; }

    /// <summary>The scope path of <paramref name="module"/> called on <paramref name="slot"/>, e.g. <c>Serial/2/Dense</c>.</summary>
    public string ScopeFor(Slot slot, string module)
    {
        if (RootName == null) { RootName = module; return module; }
        return slot.Path.Length == 0 ? $"{RootName}/{module}" : $"{RootName}/{slot.Path}/{module}";
    }

    /// <summary>Training mode (Dropout active, BatchNorm uses batch statistics and updates its averages).</summary>
    public bool Training { get; }

    int _lastCall;

    /// <summary>
    /// The module call in progress (0 outside any): each <see cref="Module.CallTree"/> is a new
    /// call, so a slot can tell two modules used in one call (a conflict) from one module whose
    /// enclosing module is called again (sharing, as in Flax and Haiku).
    /// </summary>
    public int CurrentCall { get; private set; }

    /// <summary>Starts a module call; returns the enclosing call, to give back to <see cref="EndCall"/>.</summary>
    public int BeginCall()
    {
        int outer = CurrentCall;
        CurrentCall = ++_lastCall;
        return outer;
    }

    /// <summary>Ends the current module call.</summary>
    public void EndCall(int outer) => CurrentCall = outer;

    readonly Dictionary<string, StateCell> _state = new(StringComparer.Ordinal);

    /// <summary>A slot's mutable state cell for this run (one per slot path, so reuse shares it).</summary>
    public StateCell StateFor(Slot slot, object? state)
    {
        if (!_state.TryGetValue(slot.Path, out var cell)) _state[slot.Path] = cell = new StateCell(state);
        return cell;
    }

    /// <summary>The state cells touched in this run, by slot path.</summary>
    public IReadOnlyDictionary<string, StateCell> StateCells => _state;

    /// <summary>
    /// The parameter-creation key of a slot: the Initialize key folded with each path segment
    /// (indices as themselves, names by a stable hash), so a slot's path, not call order, decides it.
    /// </summary>
    public Key KeyFor(Slot slot)
    {
        var key = InitKey ?? throw new InvalidOperationException("Internal error: no initialization key");
        return FoldPath(key, slot.Path);
    }

    static Key FoldPath(Key key, string path)
    {
        if (path.Length == 0) return key;
        foreach (var seg in path.Split('/'))
            key = Rng.FoldIn(key, Tensor.Scalar(int.TryParse(seg, out var i) && i >= 0 ? (uint)i : StableHash(seg), DType.UInt32));
        return key;
    }

    // FNV-1a over UTF-8: stable across processes (string.GetHashCode is randomised).
    static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 16777619; }
        return h | 0x80000000u; // keep names apart from small indices
    }
}

/// <summary>A leaf module's state for one run; layers read <see cref="Value"/> and may replace it.</summary>
public sealed class StateCell
{
    internal StateCell(object? value) { Value = value; }
    /// <summary>The current state.</summary>
    public object? Value { get; set; }
}
