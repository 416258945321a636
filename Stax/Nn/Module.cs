using Stax.Tracing;

namespace Stax.Nn;

/// <summary>Creates a leaf module's parameters (and optional state) from the abstract input and a key.</summary>
public delegate (object Parameters, object? State) LeafModuleInit(AbstractValue input, Key key);

/// <summary>Applies a leaf module to concrete parameters.</summary>
public delegate object LeafApply(object parameters, object input, Key rng, LeafContext context);

/// <summary>What a leaf module's apply may know about the run: training flag, its state, its path, its rng streams.</summary>
public sealed class LeafContext
{
    readonly Slot _slot;

    internal LeafContext(bool training, StateCell state, string path, Slot slot)
    {
        Training = training;
        State = state;
        Path = path;
        _slot = slot;
    }

    /// <summary>True in training mode.</summary>
    public bool Training { get; }
    /// <summary>The module's state for this run; assign <see cref="StateCell.Value"/> to update it.</summary>
    public StateCell State { get; }
    /// <summary>The slot path (for error messages).</summary>
    public string Path { get; }

    /// <summary>
    /// A new key from the named rng stream (Flax's <c>make_rng</c>), distinct for this slot and for
    /// every call; see <see cref="Slot.MakeRng(string)"/>.
    /// </summary>
    public Key MakeRng(string stream) => _slot.MakeRng(stream, Path);

    internal Key? TryMakeRng(string stream) => _slot.Run.TryMakeRng(stream, _slot.Path);
}

/// <summary>
/// A module: an apply function <c>(p, x, rng) =&gt; y</c> written once. Its initialization is derived
/// by running apply under the parameter tracer (<see cref="Slot"/>) with abstract inputs: output
/// shapes come from abstract evaluation and the only work done is creating parameters. Leaf modules
/// (Dense, Conv, ...) also carry a parameter-creation function. A module deconstructs into the
/// classic stax pair: <c>var (init, apply) = Serial(...)</c>.
/// </summary>
public class Module
{
    readonly Func<Slot, object, Key, object>? _apply;
    readonly LeafModuleInit? _init;
    readonly LeafApply? _leafApply;

    // Layers with extra methods (Embedding's Attend, attention's Call with a mask) derive from
    // Module inside the library; users build modules with the factories, never by subclassing.
    private protected Module(string name, Func<Slot, object, Key, object>? apply, LeafModuleInit? init, LeafApply? leafApply)
    {
        Name = name;
        _apply = apply;
        _init = init;
        _leafApply = leafApply;
    }

    /// <summary>The module's name (used in slot paths of errors and summaries).</summary>
    public string Name { get; }

    /// <summary>True for modules that own parameters directly (created by their init function).</summary>
    public bool IsLeaf => _init != null;

    /// <summary>A module from its apply function alone; its initialization is derived.</summary>
    public static Module Create(Func<Slot, Tensor, Key, Tensor> apply, string name = "Module")
        => new(name, (p, x, k) => apply(p, AsTensor(x, name), k), null, null);

    /// <summary>A module that needs no rng.</summary>
    public static Module Create(Func<Slot, Tensor, Tensor> apply, string name = "Module")
        => new(name, (p, x, k) => apply(p, AsTensor(x, name)), null, null);

    /// <summary>A module whose inputs and outputs are trees of tensors (Parallel, FanOut, FanInSum).</summary>
    public static Module CreateTree(Func<Slot, object, Key, object> apply, string name = "Module")
        => new(name, apply, null, null);

    /// <summary>A leaf module: parameters from <paramref name="init"/>, computation in <paramref name="apply"/>.</summary>
    public static Module Leaf(string name, LeafModuleInit init, LeafApply apply) => new(name, null, init, apply);

    /// <summary>A parameter-free function of one tensor as a module (stax's <c>elementwise</c>).</summary>
    public static Module Function(string name, Func<Tensor, Tensor> f) => new(name, (p, x, k) => f(AsTensor(x, name)), null, null);

    private protected static Tensor AsTensor(object x, string name)
        => x as Tensor ?? throw new ArgumentException($"{NameScope.Describe(name)}: expected a tensor input, got {x?.GetType().Name ?? "null"} (use Module.CreateTree for tree inputs)");

    internal (object Parameters, object? State) CreateLeaf(AbstractValue input, Key key) => _init!(input, key);

    // ---------------- calling inside another module ----------------

    /// <summary>Calls this module from inside another module's apply, with its parameter slot.</summary>
    public Tensor Call(Slot p, Tensor x, Key? rng = null) => AsTensor(CallTree(p, x, rng), Name);

    /// <summary>Calls this module on a tree input (see <see cref="Call"/>).</summary>
    public object CallTree(Slot p, object x, Key? rng = null) => CallCore(p, x, rng, null);

    /// <summary>
    /// Calls another method of a leaf module (Embedding's Attend) on the same parameters: its slot,
    /// checks and sharing are those of an ordinary call of this instance.
    /// </summary>
    private protected Tensor CallLeafMethod(Slot p, Tensor x, LeafApply method, Key? rng = null)
        => AsTensor(CallCore(p, x, rng, method), Name);

    object CallCore(Slot p, object x, Key? rng, LeafApply? method)
    {
        var key = rng ?? Key.None;
        var run = p.Run;
        var path = run.ScopeFor(p, Name);
        using var scope = NameScope.Push(path, replace: true);
        p.Claim(this, run.CurrentCall);
        int outer = run.BeginCall();
        try
        {
            if (_apply != null) return _apply(p, x, key);
            var t = AsTensor(x, Name);
            var (parameters, state) = p.Leaf(this, t.Aval);
            return (method ?? _leafApply!)(parameters, t, key, new LeafContext(run.Training, state, path, p));
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(run.RootName ?? path, StringComparison.Ordinal))
        {
            // Errors from inside a module (a primitive, an Np function) name the slot path.
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
        finally
        {
            run.EndCall(outer);
        }
    }

    // ---------------- initialization ----------------

    /// <summary>
    /// Initializes for an input of type <paramref name="input"/>: runs apply abstractly under the
    /// parameter tracer and returns the output type and the parameter tree. No arithmetic runs
    /// except parameter creation. Parameter keys derive from <paramref name="key"/> along slot paths.
    /// </summary>
    public (AbstractValue OutSpec, object Parameters) Initialize(Key key, AbstractValue input)
    {
        var (o, p, _) = InitializeWithState(key, input);
        return (o, p);
    }

    /// <summary>Initializes for inputs shaped like <paramref name="example"/> (its values are not read).</summary>
    public (AbstractValue OutSpec, object Parameters) Initialize(Key key, Tensor example) => Initialize(key, example.Aval);

    /// <summary>Initializes and also returns the initial state tree (BatchNorm running averages).</summary>
    public (AbstractValue OutSpec, object Parameters, object? State) InitializeWithState(Key key, AbstractValue input)
    {
        var (o, p, s) = InitializeTree(key, new ShapeTree(Tree.Structure(Tensor.Zeros(Shape.Scalar)), new[] { input }));
        return (o.Leaves.Count == 1 && o.Def.Equals(Tree.Structure(Tensor.Zeros(Shape.Scalar))) ? o.Leaves[0]
            : throw new InvalidOperationException($"{Name}: the module returns a tree ({o}); use InitializeTree"), p, s);
    }

    /// <summary>Initializes a module whose input is a tree (a <see cref="ShapeTree"/> of abstract values).</summary>
    public (ShapeTree OutSpec, object Parameters, object? State) InitializeTree(Key key, ShapeTree inputs)
    {
        var applyKey = Rng.FoldIn(key, Tensor.Scalar(0x5EED, DType.UInt32));
        var run = new ModuleRun(initializing: true, key, training: false, rng: applyKey);
        var root = Slot.Root(run, null, null);
        TreeDef? outDef = null;
        var staged = StagingTrace.Stage(xs =>
        {
            var x = Tree.Unflatten(inputs.Def, xs)!;
            var (leaves, def) = Tree.Flatten(CallTree(root, x, applyKey));
            outDef = def;
            return leaves;
        }, inputs.Leaves.ToArray(), $"{Name}.Initialize");
        var parameters = root.BuildParameters() ?? Array.Empty<object?>();
        return (new ShapeTree(outDef!, staged.Jaxpr.OutAvals), parameters, root.BuildState());
    }

    // ---------------- application ----------------

    // Every apply path takes `training` explicitly (no default): Dropout drops and BatchNorm uses
    // batch statistics only in training, and a default would silently pick one for the caller.

    /// <summary>
    /// Applies the module with concrete parameters. <paramref name="training"/> selects the mode:
    /// true: Dropout drops (needs a key: <paramref name="rng"/> or <paramref name="rngs"/>) and
    /// BatchNorm normalises with batch statistics (its state update is discarded here; use
    /// <see cref="ApplyWithState"/> to keep it); false: Dropout is the identity and BatchNorm needs
    /// running averages, so models with state use <see cref="ApplyWithState"/>.
    /// <para>Keys: <paramref name="rng"/> is split by combinators (stax's way: <c>var (r1, r2) = rng;</c>)
    /// and is also the root of every named rng stream; <paramref name="rngs"/> gives streams their own
    /// keys (Flax's <c>rngs={"dropout": key}</c>). Layers that take no explicit key draw from a
    /// stream with <see cref="Slot.MakeRng(string)"/> (Dropout and attention from <c>"dropout"</c>).</para>
    /// </summary>
    public Tensor Apply(object parameters, Tensor x, bool training, Key? rng = null, Dictionary<string, Key>? rngs = null)
        => AsTensor(ApplyTree(parameters, x, training, rng, rngs), Name);

    /// <summary>Applies the module to a tree input (see <see cref="Apply"/>).</summary>
    public object ApplyTree(object parameters, object x, bool training, Key? rng = null, Dictionary<string, Key>? rngs = null)
        => ApplyWithState(parameters, null, x, training, rng, rngs).Output;

    /// <summary>
    /// Applies with a state tree (from <see cref="InitializeWithState"/>) in training or inference
    /// mode (see <see cref="Apply"/>); returns the output and the new state tree. In training,
    /// BatchNorm's running averages are updated; state entries that the run did not change are
    /// returned as they were.
    /// </summary>
    public (object Output, object? NewState) ApplyWithState(object parameters, object? state, object x, bool training, Key? rng = null,
        Dictionary<string, Key>? rngs = null)
    {
        var run = new ModuleRun(initializing: false, null, training, rng, rngs);
        var root = Slot.Root(run, parameters, state);
        var y = CallTree(root, x, rng);
        return (y, ReplaceState(state, run.StateCells, ""));
    }

    static object? ReplaceState(object? state, IReadOnlyDictionary<string, StateCell> cells, string path)
    {
        if (cells.TryGetValue(path, out var cell)) return cell.Value;
        string Child(string seg) => path.Length == 0 ? seg : path + "/" + seg;
        return state switch
        {
            object?[] arr => arr.Select((s, i) => ReplaceState(s, cells, Child(i.ToString()))).ToArray(),
            Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => ReplaceState(kv.Value, cells, Child(kv.Key)), StringComparer.Ordinal),
            _ => state,
        };
    }

    // ---------------- classic stax ----------------

    /// <summary>stax's <c>init_fun(rng, input_shape) -&gt; (output_shape, params)</c>; -1 marks the batch dimension.</summary>
    public delegate (int[] OutputShape, object Parameters) InitFunction(Key rng, int[] inputShape);

    /// <summary>
    /// stax's <c>apply_fun(params, inputs, rng=None)</c>, with the mode explicit:
    /// <c>apply(params, x, training: true, rng: key)</c> (see <see cref="Apply"/>).
    /// </summary>
    public delegate Tensor ApplyFunction(object parameters, Tensor inputs, bool training, Key? rng = null);

    /// <summary>The classic pair: <c>var (init, apply) = Serial(Dense(512), Relu, ...);</c>.</summary>
    public void Deconstruct(out InitFunction init, out ApplyFunction apply)
    {
        init = StaxInit;
        apply = (p, x, training, rng) => Apply(p, x, training, rng);
    }

    // A -1 (batch) dimension is replaced by a placeholder during abstract evaluation; a second,
    // different placeholder proves parameter shapes do not depend on it.
    const int Placeholder1 = 7, Placeholder2 = 11;

    (int[] OutputShape, object Parameters) StaxInit(Key rng, int[] inputShape)
    {
        int unknown = Array.IndexOf(inputShape, -1);
        if (inputShape.Count(d => d == -1) > 1 || inputShape.Any(d => d < -1))
            throw new ArgumentException($"{Name}.init: input shape {Shape.Format(inputShape)} may contain at most one -1 (the batch dimension) and no other negative sizes");
        int[] With(int v) => inputShape.Select(d => d == -1 ? v : d).ToArray();
        var (o, p) = Initialize(rng, new AbstractValue(new Shape(With(Placeholder1)), DType.Float32));
        if (unknown < 0) return (o.Shape.ToArray(), p);
        var (o2, _) = InitializeShapesOnly(rng, new AbstractValue(new Shape(With(Placeholder2)), DType.Float32), p);
        var outDims = o.Shape.ToArray();
        for (int i = 0; i < outDims.Length; i++)
            if (outDims[i] != o2.Shape[i]) outDims[i] = -1;
        return (outDims, p);
    }

    // Initializes abstractly (parameters staged, not created) and checks parameter shapes match.
    (AbstractValue OutSpec, object? Unused) InitializeShapesOnly(Key rng, AbstractValue input, object parameters)
    {
        AbstractValue? outSpec = null;
        var staged = StagingTrace.Stage(_ =>
        {
            var (o, p, _) = InitializeTree(rng, new ShapeTree(Tree.Structure(Tensor.Zeros(Shape.Scalar)), new[] { input }));
            outSpec = o.Leaves[0];
            return Tree.Flatten(p).Leaves;
        }, Array.Empty<AbstractValue>(), $"{Name}.init");
        var want = Tree.Flatten(parameters).Leaves;
        var got = staged.Jaxpr.OutAvals;
        for (int i = 0; i < want.Length; i++)
            if (want[i].Shape != got[i].Shape)
            {
                var path = Tree.FlattenWithPaths(parameters).Leaves[i].Path;
                throw new ArgumentException($"{Name}.init: the shape of parameter {path} depends on the batch dimension given as -1 " +
                    $"({want[i].Shape} vs {got[i].Shape}); give a concrete size for that dimension");
            }
        return (outSpec!, null);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Module({Name})";
}
