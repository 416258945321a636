namespace Stax.Optim;

/// <summary>
/// The state of an <see cref="Optimizer"/> (JAX's <c>OptimizerState</c>): for every tensor leaf of
/// the parameter tree, the flat list of that leaf's state tensors (e.g. parameter, first and second
/// moments for Adam), with the parameter tree's structure and each leaf state's structure.
/// <para>It is a tree node itself: <c>Tree.Flatten</c> gives all state tensors and keeps the
/// structures as a static value, so a whole train step over an <see cref="OptState"/> can run
/// under <c>Transforms.Jit</c>. For checkpoints use
/// <see cref="Optimizers.UnpackOptimizerState"/> / <see cref="Optimizers.PackOptimizerState"/>.</para>
/// </summary>
public sealed class OptState
{
    static OptState()
    {
        Tree.RegisterStatic<OptStateStructure>();
        Tree.Register<OptState>(
            s => (new object?[] { s.PackedTensors, new OptStateStructure(s.TreeDef, s.SubtreeDefs) }, new[] { "packed_state", "structure" }),
            c =>
            {
                var st = (OptStateStructure)c[1]!;
                return new OptState((Tensor[][])c[0]!, st.TreeDef, st.SubtreeDefs);
            });
        Tree.RegisterStatic<ContainerHint>();
        Tree.Register<JoinPoint>(
            j => j.Hint is null ? (new[] { j.Subtree }, new[] { "subtree" }) : (new[] { j.Subtree, j.Hint }, new[] { "subtree", "container" }),
            c => new JoinPoint(c[0], c.Count > 1 ? (ContainerHint?)c[1] : null));
    }

    /// <summary>Creates a state from per-leaf flat state tensors and the structures (checked for consistency).</summary>
    public OptState(Tensor[][] packedState, TreeDef treeDef, IReadOnlyList<TreeDef> subtreeDefs)
    {
        ArgumentNullException.ThrowIfNull(packedState);
        ArgumentNullException.ThrowIfNull(treeDef);
        ArgumentNullException.ThrowIfNull(subtreeDefs);
        if (packedState.Length != treeDef.LeafCount || subtreeDefs.Count != treeDef.LeafCount)
            throw new ArgumentException($"OptState: the parameter structure has {treeDef.LeafCount} leaves but {packedState.Length} packed states and {subtreeDefs.Count} subtree structures were given");
        for (int i = 0; i < packedState.Length; i++)
            if (packedState[i] is null || packedState[i].Length != subtreeDefs[i].LeafCount)
                throw new ArgumentException($"OptState: leaf {i} has a state structure of {subtreeDefs[i].LeafCount} tensors but {packedState[i]?.Length ?? 0} were given");
        PackedTensors = packedState;
        TreeDef = treeDef;
        SubtreeDefs = subtreeDefs.ToArray();
    }

    internal readonly Tensor[][] PackedTensors;

    /// <summary>For every parameter leaf (in flattening order), its state tensors (JAX's <c>packed_state</c>).</summary>
    public IReadOnlyList<IReadOnlyList<Tensor>> PackedState => PackedTensors;

    /// <summary>The structure of the parameter tree the optimizer was initialised with.</summary>
    public TreeDef TreeDef { get; }

    /// <summary>The structure of each leaf's state (e.g. <c>[*, *, *]</c> for Adam's parameter, m and v).</summary>
    public IReadOnlyList<TreeDef> SubtreeDefs { get; }

    /// <summary>The per-leaf state trees, rebuilt from <see cref="PackedState"/> and <see cref="SubtreeDefs"/>.</summary>
    internal object?[] LeafStates()
    {
        var r = new object?[PackedTensors.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Tree.Unflatten(SubtreeDefs[i], PackedTensors[i]);
        return r;
    }

    /// <summary>A short description: leaf count and state structures.</summary>
    public override string ToString() => $"OptState({TreeDef}, [{string.Join(", ", SubtreeDefs)}])";

    /// <summary>Makes sure the tree registrations of the optimizer types have run.</summary>
    internal static void EnsureRegistered() { }
}

/// <summary>The static part of an <see cref="OptState"/> (kept in the TreeDef; value equality).</summary>
sealed class OptStateStructure : IEquatable<OptStateStructure>
{
    public OptStateStructure(TreeDef treeDef, IReadOnlyList<TreeDef> subtreeDefs)
    {
        TreeDef = treeDef;
        SubtreeDefs = subtreeDefs.ToArray();
    }

    public TreeDef TreeDef { get; }
    public TreeDef[] SubtreeDefs { get; }

    public bool Equals(OptStateStructure? other) =>
        other is not null && TreeDef.Equals(other.TreeDef) && SubtreeDefs.AsSpan().SequenceEqual(other.SubtreeDefs);

    public override bool Equals(object? obj) => Equals(obj as OptStateStructure);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(TreeDef);
        foreach (var d in SubtreeDefs) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => $"{TreeDef} / [{string.Join(", ", SubtreeDefs.AsEnumerable())}]";
}

/// <summary>
/// Marks, in an unpacked optimizer state (<see cref="Optimizers.UnpackOptimizerState"/>), the place of
/// one parameter leaf: <see cref="Subtree"/> is that leaf's state tree. It is a tree node (key
/// <c>.subtree</c>), so the unpacked state flattens with readable key paths for checkpoints.
/// </summary>
public sealed class JoinPoint
{
    static JoinPoint() => OptState.EnsureRegistered();

    /// <summary>Wraps one leaf's state tree.</summary>
    public JoinPoint(object? subtree) => Subtree = subtree;

    internal JoinPoint(object? subtree, ContainerHint? hint)
    {
        Subtree = subtree;
        Hint = hint;
    }

    /// <summary>The state tree of one parameter leaf.</summary>
    public object? Subtree { get; }

    /// <summary>
    /// The type of the parameter container this leaf sat in when that container cannot hold a
    /// JoinPoint (e.g. <c>Dictionary&lt;string, Tensor&gt;</c>, which the unpacked tree holds as
    /// <c>Dictionary&lt;string, object?&gt;</c>); <see cref="Optimizers.PackOptimizerState"/> uses it to
    /// rebuild the original container type. Null otherwise. Kept in the tree structure as a static value.
    /// </summary>
    public Type? ContainerType => Hint?.Type;

    internal ContainerHint? Hint { get; }

    /// <summary>Describes the join point.</summary>
    public override string ToString() => $"JoinPoint({Subtree})";
}

/// <summary>The original container type of a normalised node of an unpacked optimizer state (static, value equality).</summary>
sealed record ContainerHint(Type Type, string? FieldNames)
{
    /// <summary>Separates the field names (empty for index keys) of a non-dictionary container.</summary>
    public const string Separator = "\u0001";
}
