namespace Stax.Optim;

/// <summary>
/// The optimizers of jax.example_libraries.optimizers, with the same update equations, defaults and
/// state layouts: <see cref="Sgd(double)"/>, <see cref="Momentum(double, double)"/>,
/// <see cref="Nesterov(double, double)"/>, <see cref="Adagrad(double, double)"/>,
/// <see cref="Rmsprop(double, double, double)"/>, <see cref="RmspropMomentum(double, double, double, double)"/>,
/// <see cref="Adam(double, double, double, double)"/>, <see cref="Adamax(double, double, double, double)"/>
/// and <see cref="Sm3(double, double)"/>; each takes a fixed step size or a <see cref="Schedule"/> of the
/// step. Also <see cref="L2Norm"/>, <see cref="ClipGrads"/> and the checkpoint helpers
/// <see cref="UnpackOptimizerState"/> / <see cref="PackOptimizerState"/>.
/// <para>All arithmetic is tensor operations, so <c>update</c> can be traced under <c>Jit</c> with a
/// traced step. The step size is cast to each parameter's dtype.</para>
/// </summary>
public static class Optimizers
{
    static Tensor Lr(Schedule s, Tensor step, Tensor like) => Lax.ConvertElementType(s(step), like.DType);

    static Tensor Scalar(double v, Tensor like) => Tensor.Scalar(v, like.DType);

    /// <summary>
    /// <c>1 - b^(step + 1)</c> (Adam's bias correction), computed in float32 (float64 for float64
    /// parameters) and then cast to the parameter dtype, as optax does: in bfloat16, 0.999 rounds to 1
    /// and a correction computed there would be 0.
    /// </summary>
    internal static Tensor OneMinusPow(double b, Tensor step, Tensor like)
    {
        var dt = like.DType == DType.Float64 ? DType.Float64 : DType.Float32;
        var e = Lax.ConvertElementType(step, dt) + 1;
        return Lax.ConvertElementType(1 - Np.Power(Tensor.Scalar(b, dt), e), like.DType);
    }

    static object?[] S(params object?[] xs) => xs;

    static Tensor T(object? s, int i) => (Tensor)((object?[])s!)[i]!;

    // ---------------------------------------------------------------- sgd

    /// <summary>Stochastic gradient descent: <c>x ← x - step_size(i) * g</c>. The state is the parameter itself.</summary>
    public static Optimizer Sgd(Schedule stepSize)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => x0, (i, g, x) => (Tensor)x! - Lr(stepSize, i, g) * g, s => (Tensor)s!, "sgd");
    }

    /// <summary><inheritdoc cref="Sgd(Schedule)"/></summary>
    public static Optimizer Sgd(double stepSize) => Sgd(Schedules.Constant(stepSize));

    // ---------------------------------------------------------------- momentum, nesterov

    /// <summary>SGD with momentum: <c>v ← mass * v + g; x ← x - step_size(i) * v</c>. State <c>[x, v]</c>.</summary>
    public static Optimizer Momentum(Schedule stepSize, double mass)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, v) = (T(s, 0), T(s, 1));
            v = mass * v + g;
            x = x - Lr(stepSize, i, x) * v;
            return S(x, v);
        }, s => T(s, 0), "momentum");
    }

    /// <summary><inheritdoc cref="Momentum(Schedule, double)"/></summary>
    public static Optimizer Momentum(double stepSize, double mass) => Momentum(Schedules.Constant(stepSize), mass);

    /// <summary>SGD with Nesterov momentum: <c>v ← mass * v + g; x ← x - step_size(i) * (mass * v + g)</c>. State <c>[x, v]</c>.</summary>
    public static Optimizer Nesterov(Schedule stepSize, double mass)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, v) = (T(s, 0), T(s, 1));
            v = mass * v + g;
            x = x - Lr(stepSize, i, x) * (mass * v + g);
            return S(x, v);
        }, s => T(s, 0), "nesterov");
    }

    /// <summary><inheritdoc cref="Nesterov(Schedule, double)"/></summary>
    public static Optimizer Nesterov(double stepSize, double mass) => Nesterov(Schedules.Constant(stepSize), mass);

    // ---------------------------------------------------------------- adagrad

    /// <summary>
    /// Adagrad (with momentum, as JAX's): <c>G ← G + g²; m ← (1 - momentum) * g / sqrt(G) + momentum * m</c>
    /// (where G = 0 the scaled gradient is 0); <c>x ← x - step_size(i) * m</c>. State <c>[x, G, m]</c>.
    /// </summary>
    public static Optimizer Adagrad(Schedule stepSize, double momentum = 0.9)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0), Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, gsq, m) = (T(s, 0), T(s, 1), T(s, 2));
            gsq = gsq + g * g;
            var inv = Np.Where(gsq > 0, 1 / Np.Sqrt(gsq), 0.0);
            m = (1 - momentum) * (g * inv) + momentum * m;
            x = x - Lr(stepSize, i, x) * m;
            return S(x, gsq, m);
        }, s => T(s, 0), "adagrad");
    }

    /// <summary><inheritdoc cref="Adagrad(Schedule, double)"/></summary>
    public static Optimizer Adagrad(double stepSize, double momentum = 0.9) => Adagrad(Schedules.Constant(stepSize), momentum);

    // ---------------------------------------------------------------- rmsprop

    /// <summary>RMSProp: <c>a ← gamma * a + (1 - gamma) * g²; x ← x - step_size(i) * g / sqrt(a + eps)</c>. State <c>[x, a]</c>.</summary>
    public static Optimizer Rmsprop(Schedule stepSize, double gamma = 0.9, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, a) = (T(s, 0), T(s, 1));
            a = a * gamma + g * g * (1 - gamma);
            x = x - Lr(stepSize, i, x) * g / Np.Sqrt(a + eps);
            return S(x, a);
        }, s => T(s, 0), "rmsprop");
    }

    /// <summary><inheritdoc cref="Rmsprop(Schedule, double, double)"/></summary>
    public static Optimizer Rmsprop(double stepSize, double gamma = 0.9, double eps = 1e-8) => Rmsprop(Schedules.Constant(stepSize), gamma, eps);

    /// <summary>
    /// RMSProp with momentum: <c>a ← gamma * a + (1 - gamma) * g²; mom ← momentum * mom + step_size(i) * g / sqrt(a + eps);
    /// x ← x - mom</c>. State <c>[x, a, mom]</c>.
    /// </summary>
    public static Optimizer RmspropMomentum(Schedule stepSize, double gamma = 0.9, double eps = 1e-8, double momentum = 0.9)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0), Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, a, mom) = (T(s, 0), T(s, 1), T(s, 2));
            a = a * gamma + g * g * (1 - gamma);
            mom = momentum * mom + Lr(stepSize, i, x) * g / Np.Sqrt(a + eps);
            x = x - mom;
            return S(x, a, mom);
        }, s => T(s, 0), "rmsprop_momentum");
    }

    /// <summary><inheritdoc cref="RmspropMomentum(Schedule, double, double, double)"/></summary>
    public static Optimizer RmspropMomentum(double stepSize, double gamma = 0.9, double eps = 1e-8, double momentum = 0.9)
        => RmspropMomentum(Schedules.Constant(stepSize), gamma, eps, momentum);

    // ---------------------------------------------------------------- adam, adamax

    /// <summary>
    /// Adam: <c>m ← (1 - b1) * g + b1 * m; v ← (1 - b2) * g² + b2 * v; m̂ = m / (1 - b1^(i+1)); v̂ = v / (1 - b2^(i+1));
    /// x ← x - step_size(i) * m̂ / (sqrt(v̂) + eps)</c>. State <c>[x, m, v]</c>.
    /// </summary>
    public static Optimizer Adam(Schedule stepSize, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0), Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, m, v) = (T(s, 0), T(s, 1), T(s, 2));
            m = (1 - b1) * g + b1 * m;
            v = (1 - b2) * (g * g) + b2 * v;
            var mhat = m / OneMinusPow(b1, i, m);
            var vhat = v / OneMinusPow(b2, i, m);
            x = x - Lr(stepSize, i, x) * mhat / (Np.Sqrt(vhat) + eps);
            return S(x, m, v);
        }, s => T(s, 0), "adam");
    }

    /// <summary><inheritdoc cref="Adam(Schedule, double, double, double)"/></summary>
    public static Optimizer Adam(double stepSize, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8) => Adam(Schedules.Constant(stepSize), b1, b2, eps);

    /// <summary>
    /// AdaMax (Adam with the infinity norm): <c>m ← (1 - b1) * g + b1 * m; u ← max(b2 * u, |g|);
    /// x ← x - (step_size(i) / (1 - b1^(i+1))) * m / (u + eps)</c>. State <c>[x, m, u]</c>.
    /// </summary>
    public static Optimizer Adamax(Schedule stepSize, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 => S(x0, Np.ZerosLike(x0), Np.ZerosLike(x0)), (i, g, s) =>
        {
            var (x, m, u) = (T(s, 0), T(s, 1), T(s, 2));
            m = (1 - b1) * g + b1 * m;
            u = Np.Maximum(b2 * u, Np.Abs(g));
            x = x - (Lr(stepSize, i, x) / OneMinusPow(b1, i, m)) * m / (u + eps);
            return S(x, m, u);
        }, s => T(s, 0), "adamax");
    }

    /// <summary><inheritdoc cref="Adamax(Schedule, double, double, double)"/></summary>
    public static Optimizer Adamax(double stepSize, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8) => Adamax(Schedules.Constant(stepSize), b1, b2, eps);

    // ---------------------------------------------------------------- sm3

    /// <summary>
    /// SM3 (memory-efficient adaptive optimization), as JAX's: the parameter is kept at least 1-D and
    /// one accumulator vector per axis. Each update: <c>accum = min over axes of the broadcast
    /// accumulators + g²</c>; <c>m ← (1 - momentum) * g / sqrt(accum) + momentum * m</c> (0 where
    /// accum = 0); <c>x ← x - step_size(i) * m</c>; each axis accumulator becomes the maximum of
    /// <c>accum</c> over the other axes. State <c>[x, m, [v_0, …], original shape]</c>.
    /// </summary>
    public static Optimizer Sm3(Schedule stepSize, double momentum = 0.9)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        return new Optimizer(x0 =>
        {
            var shape = x0.Shape;
            var x = x0.Rank == 0 ? Np.Reshape(x0, 1) : x0;
            var vs = Enumerable.Range(0, x.Rank).Select(a => Tensor.Zeros(new Shape(x.Shape[a]), x.DType)).ToArray();
            return S(x, Np.ZerosLike(x), vs, shape);
        }, (i, g, s) =>
        {
            var st = (object?[])s!;
            var (x, m, vs, shape) = ((Tensor)st[0]!, (Tensor)st[1]!, (Tensor[])st[2]!, (Shape)st[3]!);
            g = Np.Reshape(g, x.Shape.ToArray());
            int nd = x.Rank;
            Tensor? min = null;
            for (int a = 0; a < nd; a++)
            {
                var b = Lax.BroadcastInDim(vs[a], x.Shape, new[] { a });
                min = min is null ? b : Np.Minimum(min, b);
            }
            var accum = min! + g * g;
            var inv = Np.Where(accum > 0, 1 / Np.Sqrt(accum), 0.0);
            m = (1 - momentum) * (g * inv) + momentum * m;
            x = x - Lr(stepSize, i, x) * m;
            var nvs = new Tensor[nd];
            for (int a = 0; a < nd; a++)
                nvs[a] = Np.Max(accum, Enumerable.Range(0, nd).Where(k => k != a).ToArray());
            return S(x, m, nvs, shape);
        }, s =>
        {
            var st = (object?[])s!;
            return Np.Reshape((Tensor)st[0]!, ((Shape)st[3]!).ToArray());
        }, "sm3");
    }

    /// <summary><inheritdoc cref="Sm3(Schedule, double)"/></summary>
    public static Optimizer Sm3(double stepSize, double momentum = 0.9) => Sm3(Schedules.Constant(stepSize), momentum);

    // ---------------------------------------------------------------- utilities

    /// <summary><c>l2_norm</c>: the l2 norm of all leaves of a tree together, <c>sqrt(Σ vdot(x, x))</c> (0 for an empty tree).</summary>
    public static Tensor L2Norm(object? tree)
    {
        var leaves = Tree.Leaves(tree);
        Tensor? sum = null;
        foreach (var x in leaves)
        {
            var sq = Np.Vdot(x, x);
            sum = sum is null ? sq : sum + sq;
        }
        return Np.Sqrt(sum ?? Tensor.Scalar(0));
    }

    /// <summary>
    /// <c>clip_grads</c>: scales the whole tree by <c>maxNorm / norm</c> when its <see cref="L2Norm"/> is
    /// at least <paramref name="maxNorm"/> (unchanged when the norm is below it).
    /// </summary>
    public static T ClipGrads<T>(T gradTree, double maxNorm)
    {
        var norm = L2Norm(gradTree);
        var clip = norm < maxNorm;
        return Tree.Map(g => Np.Where(clip, g, g * (maxNorm / norm)), gradTree);
    }

    // ---------------------------------------------------------------- serialization

    /// <summary>
    /// <c>unpack_optimizer_state</c>: the state as a plain tree shaped like the parameters, where each
    /// parameter leaf is replaced by a <see cref="JoinPoint"/> holding that leaf's state tree (for Adam,
    /// <c>["dense"]["w"].subtree[1]</c> is the first moment of <c>dense.w</c>). Flatten it with paths to
    /// write a checkpoint; rebuild with <see cref="PackOptimizerState"/>.
    /// <para>Containers that cannot hold a JoinPoint are replaced by their untyped forms:
    /// <c>Dictionary&lt;string, T&gt;</c> by <c>Dictionary&lt;string, object?&gt;</c>; lists, arrays, tuples and
    /// registered user types by <c>object?[]</c>. Their JoinPoints remember the original type
    /// (<see cref="JoinPoint.ContainerType"/>), so packing restores it. (A typed container whose
    /// children are all containers has no JoinPoint to remember it: give the parameter structure
    /// to <see cref="PackOptimizerState"/> for such trees.)</para>
    /// </summary>
    public static object? UnpackOptimizerState(OptState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        OptState.EnsureRegistered();
        int next = 0;
        var def = Unpacked(state.TreeDef, state.SubtreeDefs, null, ref next);
        return Tree.Unflatten(def, state.PackedTensors.SelectMany(t => t).ToArray());
    }

    static readonly TreeDef ObjectArrayDef = Tree.Structure(new object?[] { null });
    static readonly TreeDef ObjectDictDef = Tree.Structure(new Dictionary<string, object?> { ["k"] = null });

    static TreeDef JoinDef(TreeDef sub, ContainerHint? hint)
    {
        var d = Tree.Structure(new JoinPoint(null, hint));
        var kids = d.ChildDefs.ToArray();
        kids[0] = sub;
        return TreeDef.Node(d.NodeType!, d.Handler!, d.Keys, kids);
    }

    /// <summary>Whether a node of this type can hold arbitrary children (JoinPoints, untyped containers).</summary>
    static bool HoldsObjects(Type t)
    {
        if (t == typeof(object?[]) || t == typeof(List<object?>) || t == typeof(Dictionary<string, object?>)) return true;
        return t == typeof(JoinPoint);
    }

    static TreeDef Unpacked(TreeDef def, IReadOnlyList<TreeDef> subs, ContainerHint? hint, ref int next)
    {
        if (def.Kind == TreeDef.NodeKind.Leaf) return JoinDef(subs[next++], hint);
        if (def.Kind != TreeDef.NodeKind.Node) return def;
        var type = def.NodeType!;
        bool keep = HoldsObjects(type);
        // Dictionaries keep their (sorted) string keys; other nodes (lists, arrays, tuples, registered
        // types, whose field order need not be sorted) become object?[] and remember their keys.
        bool dict = def.Keys.Length > 0 && def.Keys.All(k => k.Kind == TreeKeyKind.Key);
        var childHint = keep ? null : new ContainerHint(type, dict ? null : string.Join(ContainerHint.Separator, def.Keys.Select(k => k.Kind == TreeKeyKind.Field ? k.Name : null)));
        var kids = new TreeDef[def.ChildDefs.Length];
        for (int i = 0; i < kids.Length; i++) kids[i] = Unpacked(def.ChildDefs[i], subs, childHint, ref next);
        if (keep) return TreeDef.Node(type, def.Handler!, def.Keys, kids);
        if (dict) return TreeDef.Node(ObjectDictDef.NodeType!, ObjectDictDef.Handler!, def.Keys, kids);
        return TreeDef.Node(ObjectArrayDef.NodeType!, ObjectArrayDef.Handler!, Enumerable.Range(0, kids.Length).Select(TreeKey.Index).ToArray(), kids);
    }

    /// <summary>
    /// <c>pack_optimizer_state</c>: the inverse of <see cref="UnpackOptimizerState"/>. Every tensor of
    /// <paramref name="markedTree"/> must lie inside a <see cref="JoinPoint"/>; the tree above the join
    /// points becomes the parameter structure (containers restored to the types recorded in the join
    /// points), and each join point's subtree one leaf's state. <paramref name="parameterStructure"/>,
    /// when given (e.g. <c>Tree.Structure(params)</c>), is used as the parameter structure instead; it
    /// must have one leaf per join point.
    /// </summary>
    public static OptState PackOptimizerState(object? markedTree, TreeDef? parameterStructure = null)
    {
        OptState.EnsureRegistered();
        var (leaves, def) = Tree.Flatten(markedTree);
        var packed = new List<Tensor[]>();
        var subs = new List<TreeDef>();
        int next = 0;
        var outer = Outer(def, leaves, packed, subs, ref next, new List<TreeKey>());
        if (parameterStructure is not null)
        {
            if (parameterStructure.LeafCount != packed.Count)
                throw new ArgumentException($"PackOptimizerState: the parameter structure has {parameterStructure.LeafCount} leaves but the marked tree has {packed.Count} join points");
            outer = parameterStructure;
        }
        return new OptState(packed.ToArray(), outer, subs);
    }

    static TreeDef Outer(TreeDef def, Tensor[] leaves, List<Tensor[]> packed, List<TreeDef> subs, ref int next, List<TreeKey> path)
    {
        switch (def.Kind)
        {
            case TreeDef.NodeKind.Leaf:
                throw new ArgumentException($"PackOptimizerState: the tensor at {(path.Count == 0 ? "the root" : new TreePath(path).ToString())} is not inside a JoinPoint; every parameter leaf's state must be wrapped in a JoinPoint (as UnpackOptimizerState makes them)");
            case TreeDef.NodeKind.None:
            case TreeDef.NodeKind.Static:
                return def;
        }
        if (def.NodeType == typeof(JoinPoint))
        {
            var sub = def.ChildDefs[0];
            packed.Add(leaves.Skip(next).Take(sub.LeafCount).ToArray());
            next += sub.LeafCount;
            subs.Add(sub);
            return TreeDef.Leaf;
        }
        var kids = new TreeDef[def.ChildDefs.Length];
        ContainerHint? hint = null;
        for (int i = 0; i < kids.Length; i++)
        {
            var c = def.ChildDefs[i];
            if (c.Kind == TreeDef.NodeKind.Node && c.NodeType == typeof(JoinPoint) && c.ChildDefs.Length > 1)
                hint ??= c.ChildDefs[1].StaticValue as ContainerHint;
            path.Add(def.Keys[i]);
            kids[i] = Outer(c, leaves, packed, subs, ref next, path);
            path.RemoveAt(path.Count - 1);
        }
        if (hint is not null && TreeRegistry.Find(hint.Type) is { } handler)
        {
            var keys = def.Keys;
            if (hint.FieldNames is { } names)
            {
                var parts = names.Split(ContainerHint.Separator);
                if (parts.Length == keys.Length)
                    keys = parts.Select((n, i) => n.Length > 0 ? TreeKey.Field(n) : TreeKey.Index(i)).ToArray();
            }
            return TreeDef.Node(hint.Type, handler, keys, kids);
        }
        return TreeDef.Node(def.NodeType!, def.Handler!, def.Keys, kids);
    }
}
