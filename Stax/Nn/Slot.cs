using Stax.Tracing;

namespace Stax.Nn;

/// <summary>
/// A parameter slot: the <c>p</c> of a module's apply function. While initializing, a slot is the
/// parameter tracer: indexing it, deconstructing it (<c>var (p1, p2) = p;</c>) or naming children
/// (<c>p["enc"]</c>) creates child slots on first access, and a leaf module's parameters are
/// created the first time its slot is used, from the abstract input. While applying, a slot wraps
/// the concrete parameter subtree. Paths like <c>Serial/2/Dense</c> name slots in errors.
/// </summary>
public sealed class Slot
{
    readonly ModuleRun _run;
    readonly Slot? _parent;
    readonly string _segment;
    // Init mode: children by index or name, or the leaf's created parameters.
    readonly SortedDictionary<int, Slot>? _indexed;
    readonly SortedDictionary<string, Slot>? _named;
    LeafRecord? _leaf;
    // Init mode: a raw parameter created by Param on this slot.
    Tensor? _raw;
    // Init mode: the module instance that used this slot in each enclosing module call.
    Dictionary<int, Module>? _users;
    // Apply mode: the concrete subtree (and the state subtree).
    readonly object? _value;
    readonly object? _state;

    internal sealed class LeafRecord(Module module, AbstractValue input, object parameters, object? state)
    {
        public readonly Module Module = module;
        public readonly AbstractValue Input = input;
        public readonly object Parameters = parameters;
        public object? State = state;
    }

    Slot(ModuleRun run, Slot? parent, string segment, object? value, object? state)
    {
        _run = run;
        _parent = parent;
        _segment = segment;
        _value = value;
        _state = state;
        if (run.Initializing)
        {
            _indexed = new SortedDictionary<int, Slot>();
            _named = new SortedDictionary<string, Slot>(StringComparer.Ordinal);
        }
    }

    internal static Slot Root(ModuleRun run, object? value, object? state) => new(run, null, "", value, state);

    /// <summary>The slot's path from the root (e.g. <c>0/1</c> or <c>enc/w</c>); empty for the root.</summary>
    public string Path => _parent == null ? "" : _parent.Path.Length == 0 ? _segment : _parent.Path + "/" + _segment;

    internal ModuleRun Run => _run;

    /// <summary>True when the run is in training mode (the <c>training</c> argument of Apply; false while initializing).</summary>
    public bool Training => _run.Training;

    /// <summary>
    /// A raw parameter named <paramref name="name"/> under this slot (Flax's <c>self.param</c>):
    /// created with <paramref name="init"/> the first time while initializing (its key derives
    /// from the slot path, like a layer's), read from the parameter tree while applying, where its
    /// shape and dtype are checked and a mismatch names the slot path. Asking again for the same
    /// name (in this call, or when the enclosing module is called again) returns the same tensor:
    /// that is sharing, so the shapes must agree. The parameter tree holds it as
    /// <c>{"name": tensor, ...}</c>, beside named child slots (<c>p["dense"]</c>).
    /// <code>var pos = p.Param("pos", new Shape(maxLen, width), Initializers.Normal(0.02));</code>
    /// </summary>
    public Tensor Param(string name, Shape shape, Initializer init, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(init);
        return this[name].RawParameter(shape, init, dtype);
    }

    Tensor RawParameter(Shape shape, Initializer init, DType dtype)
    {
        if (!_run.Initializing)
        {
            if (_value is not Tensor t)
                throw new ArgumentException($"{Where}: expected a parameter tensor {dtype.Name()}{shape}, got {Describe(_value)} (parameters from a different model?)");
            if (t.Shape != shape || t.DType != dtype)
                throw new ArgumentException($"{Where}: the parameter has type {t.DType.Name()}{t.Shape}, not {dtype.Name()}{shape} (parameters from a different model?)");
            return t;
        }
        if (_leaf != null || _indexed!.Count > 0 || _named!.Count > 0)
            throw new InvalidOperationException($"{Where}: is used by {(_leaf != null ? _leaf.Module.Name : "child slots")} and cannot also hold a raw parameter");
        if (_raw is not null)
        {
            if (_raw.Shape != shape || _raw.DType != dtype)
                throw new ArgumentException($"{Where}: the parameter was created as {_raw.DType.Name()}{_raw.Shape} and is now asked for as {dtype.Name()}{shape}; " +
                    "the same name is the same parameter, so give different parameters different names");
            return _raw;
        }
        using (TraceState.SetDynamic(_run.CreationTrace))
        {
            var t = init(_run.KeyFor(this), shape, dtype);
            if (t.Shape != shape || t.DType != dtype)
                throw new ArgumentException($"{Where}: the initializer returned {t.DType.Name()}{t.Shape} for a parameter of {dtype.Name()}{shape}");
            _raw = t;
        }
        return _raw;
    }

    /// <summary>
    /// A new key from the rng stream <paramref name="stream"/> (Flax's <c>self.make_rng</c>): the
    /// stream's key given to Apply (<c>rngs: new() { ["dropout"] = key }</c>), or else one derived
    /// from Apply's <c>rng</c>, folded with this slot's path and a counter, so each slot and each
    /// call draws a different key and one step key serves the whole model. Deterministic: the same
    /// keys and calls give the same keys. Without either key it is an error naming the slot.
    /// </summary>
    public Key MakeRng(string stream) => MakeRng(stream, Where);

    internal Key MakeRng(string stream, string where) => _run.MakeRng(stream, Path, where);

    string Where => Path.Length == 0 ? $"{_run.RootName ?? "root"} (root slot)" : $"{_run.RootName}/{Path}";

    // The scope path of a leaf module on this slot, as in other errors: Serial/0/Dense.
    string LeafWhere(Module module) => Path.Length == 0
        ? (_run.RootName == module.Name ? module.Name : $"{_run.RootName}/{module.Name}")
        : $"{_run.RootName}/{Path}/{module.Name}";

    /// <summary>The child slot at <paramref name="index"/>.</summary>
    public Slot this[int index]
    {
        get
        {
            if (index < 0) throw new ArgumentException($"Slot: index {index} is negative ({Where})");
            if (_run.Initializing)
            {
                RequireNode("an index");
                if (_named!.Count > 0) throw new InvalidOperationException($"{Where}: used both with names ({string.Join(", ", _named.Keys)}) and with index {index}");
                if (!_indexed!.TryGetValue(index, out var s)) _indexed[index] = s = new Slot(_run, this, index.ToString(), null, null);
                return s;
            }
            var children = _value as object?[] ?? throw new ArgumentException(
                $"{Where}: expected a list of parameter subtrees for index {index}, got {Describe(_value)} (parameters from a different model?)");
            if (index >= children.Length)
                throw new ArgumentException($"{Where}: parameter list has {children.Length} entries, index {index} was requested (parameters from a different model?)");
            var states = _state as object?[];
            return new Slot(_run, this, index.ToString(), children[index], states != null && index < states.Length ? states[index] : null);
        }
    }

    /// <summary>The child slot named <paramref name="name"/>.</summary>
    public Slot this[string name]
    {
        get
        {
            if (_run.Initializing)
            {
                RequireNode($"the name '{name}'");
                if (_indexed!.Count > 0) throw new InvalidOperationException($"{Where}: used both with indices and with name '{name}'");
                if (!_named!.TryGetValue(name, out var s)) _named[name] = s = new Slot(_run, this, name, null, null);
                return s;
            }
            if (_value is not Dictionary<string, object?> d)
                throw new ArgumentException($"{Where}: expected named parameter subtrees for '{name}', got {Describe(_value)} (parameters from a different model?)");
            if (!d.TryGetValue(name, out var v))
                throw new ArgumentException($"{Where}: no parameters named '{name}' (have: {string.Join(", ", d.Keys)}; parameters from a different model?)");
            var st = _state as Dictionary<string, object?>;
            return new Slot(_run, this, name, v, st != null && st.TryGetValue(name, out var sv) ? sv : null);
        }
    }

    /// <summary>The first <paramref name="n"/> child slots.</summary>
    public Slot[] Split(int n)
    {
        if (n < 0) throw new ArgumentException($"Slot.Split: n must be non-negative, got {n}");
        if (!_run.Initializing && _value is object?[] arr && arr.Length != n)
            throw new ArgumentException($"{Where}: split into {n} but the parameters have {arr.Length} entries (parameters from a different model?)");
        var r = new Slot[n];
        for (int i = 0; i < n; i++) r[i] = this[i];
        return r;
    }

    /// <summary>Deconstructs into two child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b) { var s = Split(2); (a, b) = (s[0], s[1]); }
    /// <summary>Deconstructs into three child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c) { var s = Split(3); (a, b, c) = (s[0], s[1], s[2]); }
    /// <summary>Deconstructs into four child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c, out Slot d) { var s = Split(4); (a, b, c, d) = (s[0], s[1], s[2], s[3]); }
    /// <summary>Deconstructs into five child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c, out Slot d, out Slot e) { var s = Split(5); (a, b, c, d, e) = (s[0], s[1], s[2], s[3], s[4]); }
    /// <summary>Deconstructs into six child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c, out Slot d, out Slot e, out Slot f) { var s = Split(6); (a, b, c, d, e, f) = (s[0], s[1], s[2], s[3], s[4], s[5]); }
    /// <summary>Deconstructs into seven child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c, out Slot d, out Slot e, out Slot f, out Slot g) { var s = Split(7); (a, b, c, d, e, f, g) = (s[0], s[1], s[2], s[3], s[4], s[5], s[6]); }
    /// <summary>Deconstructs into eight child slots.</summary>
    public void Deconstruct(out Slot a, out Slot b, out Slot c, out Slot d, out Slot e, out Slot f, out Slot g, out Slot h) { var s = Split(8); (a, b, c, d, e, f, g, h) = (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]); }

    void RequireNode(string what)
    {
        if (_raw is not null)
            throw new InvalidOperationException($"{Where}: holds a raw parameter and cannot also be accessed with {what}");
        if (_leaf != null)
            throw new InvalidOperationException($"{Where}: holds the parameters of {_leaf.Module.Name} and cannot also be accessed with {what}");
    }

    /// <summary>
    /// Records that <paramref name="module"/> uses this slot inside the enclosing module call
    /// <paramref name="call"/>. A second, different module instance in the same call would silently
    /// share (or clash over) the parameters, so it is an error; the same instance again is reuse.
    /// </summary>
    internal void Claim(Module module, int call)
    {
        if (!_run.Initializing) return;
        _users ??= new Dictionary<int, Module>();
        if (_users.TryGetValue(call, out var user) && !ReferenceEquals(user, module))
            throw new InvalidOperationException(
                $"{Where}: two different module instances use this slot in one call ({user.Name}, then {module.Name}), so they would share parameters. " +
                "Give each module its own slot (p[0], p[1], p[\"name\"], or var (p1, p2) = p); to share parameters on purpose, call the same module instance again.");
        _users[call] = module;
    }

    static string Describe(object? v) => v switch
    {
        null => "nothing (null)",
        Tensor t => $"a tensor {t.Aval}",
        _ => Tree.TypeName(v.GetType()),
    };

    /// <summary>
    /// The parameters (and state) of the leaf module <paramref name="module"/> at this slot for
    /// input <paramref name="input"/>: created on first use while initializing (checked for
    /// compatibility on reuse), read from the tree while applying.
    /// </summary>
    internal (object Parameters, StateCell State) Leaf(Module module, AbstractValue input)
    {
        if (!_run.Initializing)
        {
            if (_value is null)
                throw new ArgumentException($"{LeafWhere(module)}: no parameters were given for this slot (parameters from a different model?)");
            ParameterCheck.Check(module, input, _value, _state, LeafWhere(module));
            return (_value, _run.StateFor(this, _state));
        }
        if (_indexed!.Count > 0 || _named!.Count > 0)
            throw new InvalidOperationException($"{Where}: was used as a node of child slots and cannot also hold the parameters of {module.Name}");
        if (_raw is not null)
            throw new InvalidOperationException($"{Where}: holds a raw parameter (Param) and cannot also hold the parameters of {module.Name}");
        if (_leaf != null)
        {
            if (!ReferenceEquals(_leaf.Module, module) && _leaf.Module.Name != module.Name)
                throw new InvalidOperationException($"{Where}: holds the parameters of {_leaf.Module.Name} and cannot be reused by {module.Name}");
            // Reuse with another input, or by an instance rebuilt inside a re-called enclosing
            // module, is fine only if the parameters would have the same shapes.
            bool sameUse = ReferenceEquals(_leaf.Module, module) && _leaf.Input.Shape == input.Shape && _leaf.Input.DType == input.DType;
            if (!sameUse && !SameParameterShapes(module, input))
                throw new ArgumentException(
                    $"{LeafWhere(module)}: parameters were created {(ReferenceEquals(_leaf.Module, module) ? "" : $"by another {module.Name} instance ")}" +
                    $"for an input of shape {_leaf.Input.Shape} ({_leaf.Input.DType.Name()}) and this use has shape {input.Shape} ({input.DType.Name()}), which needs different parameter shapes");
            return (_leaf.Parameters, _run.StateFor(this, _leaf.State));
        }
        using (TraceState.SetDynamic(_run.CreationTrace))
        {
            var key = _run.KeyFor(this);
            var (parameters, state) = module.CreateLeaf(input, key);
            _leaf = new LeafRecord(module, input, parameters, state);
            return (parameters, _run.StateFor(this, state));
        }
    }

    // Stages the parameter creation for the new input (no kernels run) and compares types.
    bool SameParameterShapes(Module module, AbstractValue input)
    {
        var (have, haveDef) = Tree.Flatten(_leaf!.Parameters);
        TreeDef? def = null;
        var staged = StagingTrace.Stage(_ =>
        {
            var (leaves, d) = Tree.Flatten(module.CreateLeaf(input, _run.KeyFor(this)).Parameters);
            def = d;
            return leaves;
        }, Array.Empty<AbstractValue>(), "parameter check");
        var want = staged.Jaxpr.OutAvals;
        return haveDef.Equals(def) && have.Length == want.Length
            && have.Zip(want).All(p => p.First.Shape == p.Second.Shape && p.First.DType == p.Second.DType);
    }

    /// <summary>Builds the parameter tree (init mode): lists for indexed slots, dictionaries for named ones.</summary>
    internal object? BuildParameters() => Build(s => s._leaf?.Parameters ?? s._raw);

    /// <summary>Builds the state tree (init mode), mirroring the parameter tree.</summary>
    internal object? BuildState() => Build(s => s._leaf?.State);

    object? Build(Func<Slot, object?> leaf)
    {
        if (_leaf != null || _raw is not null) return leaf(this);
        if (_named!.Count > 0) return _named.ToDictionary(kv => kv.Key, kv => kv.Value.Build(leaf), StringComparer.Ordinal);
        if (_indexed!.Count == 0) return Array.Empty<object?>();
        var arr = new object?[_indexed.Keys.Max() + 1];
        for (int i = 0; i < arr.Length; i++)
            arr[i] = _indexed.TryGetValue(i, out var s) ? s.Build(leaf) : Array.Empty<object?>();
        return arr;
    }
}
