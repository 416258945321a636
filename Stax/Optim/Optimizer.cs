namespace Stax.Optim;

/// <summary>Initial state of one parameter leaf (a tree: tensors, nested arrays, static values).</summary>
public delegate object? LeafInit(Tensor x0);

/// <summary>One leaf's update: new leaf state from the step, the leaf's gradient and its old state.</summary>
public delegate object? LeafUpdate(Tensor step, Tensor grad, object? state);

/// <summary>The parameter held in one leaf's state.</summary>
public delegate Tensor LeafGetParams(object? state);

/// <summary>
/// An optimizer with jax.example_libraries.optimizers semantics: the triple
/// <c>init(params) → state</c>, <c>update(step, grads, state) → state</c>,
/// <c>get_params(state) → params</c> over parameter trees. Per-leaf rules (<see cref="LeafInit"/>,
/// <see cref="LeafUpdate"/>, <see cref="LeafGetParams"/>) are lifted to trees as JAX's
/// <c>@optimizer</c> decorator does. Deconstructs like the Python triple:
/// <code>var (optInit, optUpdate, getParams) = Optimizers.Adam(1e-3);
/// var state = optInit(parameters);
/// state = optUpdate(i, grads, state);
/// var p = getParams(state);</code>
/// The step may be an <c>int</c> or a (traced) scalar tensor, so a whole train step can be jitted.
/// </summary>
public sealed class Optimizer
{
    readonly LeafInit _init;
    readonly LeafUpdate _update;
    readonly LeafGetParams _getParams;

    /// <summary>Lifts per-leaf rules to an optimizer over trees (JAX's <c>@optimizer</c>).</summary>
    public Optimizer(LeafInit init, LeafUpdate update, LeafGetParams getParams, string name = "optimizer")
    {
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(getParams);
        _init = init;
        _update = update;
        _getParams = getParams;
        Name = name;
        OptState.EnsureRegistered();
    }

    /// <summary>The optimizer's name (used in error messages).</summary>
    public string Name { get; }

    /// <summary>The initial state for the parameter tree <paramref name="parameters"/>.</summary>
    public OptState Init(object? parameters)
    {
        var (leaves, def) = Tree.Flatten(parameters);
        var packed = new Tensor[leaves.Length][];
        var subs = new TreeDef[leaves.Length];
        for (int i = 0; i < leaves.Length; i++)
            (packed[i], subs[i]) = Tree.Flatten(_init(leaves[i]));
        return new OptState(packed, def, subs);
    }

    /// <summary>
    /// One update at iteration <paramref name="step"/> (0 for the first update) with the gradient tree
    /// <paramref name="grads"/>, which must have the structure of the parameters.
    /// </summary>
    public OptState Update(Tensor step, object? grads, OptState state)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(state);
        if (step.Rank != 0)
            throw new ArgumentException($"{Name} update: the step must be a scalar (shape ()), got shape {step.Shape}");
        var (gleaves, gdef) = Tree.Flatten(grads);
        if (!gdef.Equals(state.TreeDef))
            throw new ArgumentException($"{Name} update: the gradient tree does not match the parameter tree structure the optimizer was initialised with: parameter tree {state.TreeDef} and gradient tree {gdef} {state.TreeDef.Difference(gdef)}");
        var packed = new Tensor[gleaves.Length][];
        for (int i = 0; i < gleaves.Length; i++)
        {
            var old = Tree.Unflatten(state.SubtreeDefs[i], state.PackedTensors[i]);
            var x = _getParams(old);
            if (gleaves[i].Shape != x.Shape)
                throw new ArgumentException($"{Name} update: gradient leaf {state.TreeDef.LeafPaths[i]} has shape {gleaves[i].Shape} but the parameter has shape {x.Shape}");
            var (flat, sub) = Tree.Flatten(_update(step, gleaves[i], old));
            if (!sub.Equals(state.SubtreeDefs[i]))
                throw new ArgumentException($"{Name} update: the update produced a state structure {sub} different from its input structure {state.SubtreeDefs[i]}");
            packed[i] = flat;
        }
        return new OptState(packed, state.TreeDef, state.SubtreeDefs);
    }

    /// <summary>One update at an integer iteration (see <see cref="Update(Tensor, object?, OptState)"/>).</summary>
    public OptState Update(int step, object? grads, OptState state) => Update(Tensor.Scalar(step, DType.Int32), grads, state);

    /// <summary>The parameter tree held in <paramref name="state"/>.</summary>
    public object? GetParams(OptState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var leaves = state.LeafStates().Select(s => _getParams(s)).ToArray();
        return Tree.Unflatten(state.TreeDef, leaves);
    }

    /// <summary>The parameter tree held in <paramref name="state"/>, as a <typeparamref name="T"/>.</summary>
    public T GetParams<T>(OptState state) => (T)GetParams(state)!;

    /// <summary>The JAX-style triple: <c>var (optInit, optUpdate, getParams) = Optimizers.Sgd(0.1);</c>.</summary>
    public void Deconstruct(out Func<object?, OptState> init, out Func<Tensor, object?, OptState, OptState> update, out Func<OptState, object?> getParams)
    {
        init = Init;
        update = Update;
        getParams = GetParams;
    }
}
