namespace Stax.Nn;

/// <summary>
/// The classic stax layers and combinators, written with the apply-only machinery:
/// <c>using static Stax.Nn.Layers;</c> then <c>var (init, apply) = Serial(Dense(512), Relu, Dense(10), LogSoftmax);</c>.
/// </summary>
public static partial class Layers
{
    /// <summary>Applies layers in sequence; slot i holds layer i's parameters, and the rng is split once per layer.</summary>
    public static Module Serial(params Module[] layers) => Module.CreateTree((p, x, rng) =>
    {
        var ps = p.Split(layers.Length);
        var rs = rng.Split(layers.Length);
        for (int i = 0; i < layers.Length; i++) x = layers[i].CallTree(ps[i], x, rs[i]);
        return x;
    }, "Serial");

    /// <summary>Applies layer i to input i (inputs are a list of trees); outputs a list.</summary>
    public static Module Parallel(params Module[] layers) => Module.CreateTree((p, x, rng) =>
    {
        var xs = AsList(x, "Parallel", layers.Length);
        var ps = p.Split(layers.Length);
        var rs = rng.Split(layers.Length);
        var outs = new object?[layers.Length];
        for (int i = 0; i < layers.Length; i++) outs[i] = layers[i].CallTree(ps[i], xs[i]!, rs[i]);
        return outs;
    }, "Parallel");

    /// <summary>Copies the input into a list of <paramref name="count"/> references.</summary>
    public static Module FanOut(int count) => Module.CreateTree((p, x, rng) => Enumerable.Repeat<object?>(x, count).ToArray(), "FanOut");

    /// <summary>Sums a list of tensors.</summary>
    public static readonly Module FanInSum = Module.CreateTree((p, x, rng) =>
    {
        var xs = AsList(x, "FanInSum", -1);
        Tensor acc = AsTensor(xs[0], "FanInSum");
        for (int i = 1; i < xs.Length; i++) acc = acc + AsTensor(xs[i], "FanInSum");
        return acc;
    }, "FanInSum");

    /// <summary>Concatenates a list of tensors along <paramref name="axis"/>.</summary>
    public static Module FanInConcat(int axis = -1) => Module.CreateTree((p, x, rng) =>
        Np.Concatenate(AsList(x, "FanInConcat", -1).Select(t => AsTensor(t, "FanInConcat")).ToArray(), axis), "FanInConcat");

    /// <summary>Returns its input.</summary>
    public static readonly Module Identity = Module.CreateTree((p, x, rng) => x, "Identity");

    /// <summary>A parameter-free elementwise function as a layer (stax's <c>elementwise</c>).</summary>
    public static Module Elementwise(Func<Tensor, Tensor> f, string name = "Elementwise") => Module.Function(name, f);

    /// <summary>A layer built from the input's abstract type at first use (stax's <c>shape_dependent</c>).</summary>
    public static Module ShapeDependent(Func<AbstractValue, Module> makeLayer) => Module.CreateTree((p, x, rng) =>
    {
        var t = AsTensor(x, "ShapeDependent");
        return makeLayer(t.Aval).CallTree(p, t, rng);
    }, "ShapeDependent");

    /// <summary>Flattens all but the leading (batch) dimension.</summary>
    public static readonly Module Flatten = Module.Function("Flatten", x => x.Rank <= 1 ? x : Np.Reshape(x, x.Shape[0], -1));

    /// <summary>
    /// Maps <paramref name="module"/> over axis <paramref name="inAxis"/> of its input; parameters
    /// are shared (not batched), so initialization creates unbatched parameters. With
    /// <paramref name="axisName"/>, layers inside can use collectives over the mapped axis (e.g.
    /// <c>BatchNorm(axisName: ...)</c>); state they update must be the same for every element
    /// (reduced over the axis), and is returned unbatched.
    /// </summary>
    public static Module Vmap(Module module, int inAxis = 0, int outAxis = 0, string? axisName = null) => Module.CreateTree((p, x, rng) =>
    {
        string who = $"Vmap({module.Name})";
        var input = AsTensor(x, who);
        int axis = input.Shape.Axis(inAxis, who);
        int size = input.Shape[axis];
        var cells = p.Run.StateCells;
        var before = cells.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
        using var scope = Tracing.TraceState.Begin(l => new Tracing.BatchTrace(l, size, axisName));
        var trace = scope.Trace;
        var (y, yDim) = trace.Unpack(module.Call(p, trace.New(input, axis), rng));
        // State set inside the map must not depend on the mapped axis (BatchNorm with an axis
        // name reduces over it); it leaves the map unbatched instead of as an escaped tracer.
        foreach (var (path, cell) in cells.ToArray())
        {
            if (before.TryGetValue(path, out var old) && ReferenceEquals(old, cell.Value)) continue;
            var (leaves, def) = Tree.Flatten(cell.Value);
            var unbatched = leaves.Select(l =>
            {
                var (v, d) = trace.Unpack(l);
                if (d is not null)
                    throw new ArgumentException($"{Tracing.NameScope.Describe(who)}: the state of '{path}' differs across the mapped axis; " +
                        "reduce it over the axis (e.g. BatchNorm(axisName: ...) with Layers.Vmap(..., axisName: the same name))");
                return v;
            }).ToArray();
            cell.Value = Tree.Unflatten(def, unbatched);
        }
        int outDim = outAxis < 0 ? outAxis + y.Rank + (yDim is null ? 1 : 0) : outAxis;
        return Tracing.BatchRules.MoveTo(y, yDim, outDim, size);
    }, $"Vmap({module.Name})");

    static object?[] AsList(object x, string who, int expected)
    {
        object?[] xs = x switch
        {
            object?[] a => a,
            System.Collections.IList l => l.Cast<object?>().ToArray(),
            _ => throw new ArgumentException($"{Tracing.NameScope.Describe(who)}: expected a list of inputs, got {x.GetType().Name}"),
        };
        if (expected >= 0 && xs.Length != expected)
            throw new ArgumentException($"{Tracing.NameScope.Describe(who)}: expected {expected} inputs, got {xs.Length}");
        if (xs.Length == 0) throw new ArgumentException($"{Tracing.NameScope.Describe(who)}: needs at least one input");
        return xs;
    }

    static Tensor AsTensor(object? x, string who)
        => x as Tensor ?? throw new ArgumentException($"{Tracing.NameScope.Describe(who)}: expected a tensor, got {x?.GetType().Name ?? "null"}");
}
