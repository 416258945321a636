using System.Text;

namespace Stax;

/// <summary>
/// Trees of tensors (JAX's pytrees): nested containers whose leaves are tensors, which the
/// transformations take and return (<c>Grad</c> of a loss over a dictionary of parameters gives a
/// dictionary of gradients).
/// <para>Nodes: <see cref="Tensor"/> is a leaf; <c>null</c> is an empty node; one-dimensional
/// arrays of any element type; <c>List&lt;T&gt;</c>; <c>Dictionary&lt;string, T&gt;</c> (children in
/// sorted ordinal key order); value tuples; and user types registered with
/// <see cref="Register{T}"/>. Built in: <c>List&lt;Tensor&gt;</c>, <c>List&lt;object?&gt;</c>,
/// <c>Dictionary&lt;string, Tensor&gt;</c>, <c>Dictionary&lt;string, object?&gt;</c>, value
/// tuples of 2 to 7 tensors, and <see cref="Key"/> (a node over its uint32 key data, so keys are
/// Vmap and Jit arguments). Other element types need one call to <see cref="RegisterList{T}"/>,
/// <see cref="RegisterDictionary{T}"/> or <c>RegisterTuple</c> (rebuilding a generic container needs
/// its constructor, and the core uses no reflection so that it stays AOT compatible). A node
/// type is matched exactly: a subclass of a registered type is not registered.</para>
/// <para>Static leaves: numbers, bools, strings, enums, <see cref="Shape"/>, <see cref="IntTuple"/>,
/// <see cref="AbstractValue"/>, <see cref="Static{T}"/> and types given to <see cref="RegisterStatic{T}"/> are not tensors;
/// they are kept inside the <see cref="TreeDef"/> (compared with <c>Equals</c>), so they are not
/// differentiated or mapped, and Jit treats them as static arguments (a new value retraces), except
/// that tree Jit traces C# numbers in slots that can hold a tensor (see <see cref="Transforms.Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>).</para>
/// <para>Key paths print in C# accessor syntax, see <see cref="TreePath"/>.</para>
/// </summary>
public static class Tree
{
    // ---------------- flatten / unflatten ----------------

    /// <summary>The tensor leaves of <paramref name="tree"/> in order, and its structure.</summary>
    public static (Tensor[] Leaves, TreeDef Def) Flatten(object? tree)
    {
        var leaves = new List<Tensor>();
        var def = Build(tree, leaves, new List<TreeKey>(), null);
        return (leaves.ToArray(), def);
    }

    /// <summary>Like <see cref="Flatten"/>, with each leaf's key path.</summary>
    public static (IReadOnlyList<(TreePath Path, Tensor Leaf)> Leaves, TreeDef Def) FlattenWithPaths(object? tree)
    {
        var leaves = new List<Tensor>();
        var paths = new List<TreePath>();
        var def = Build(tree, leaves, new List<TreeKey>(), paths);
        return (paths.Zip(leaves, (p, l) => (p, l)).ToArray(), def);
    }

    /// <summary>The tensor leaves of <paramref name="tree"/>, in flattening order.</summary>
    public static Tensor[] Leaves(object? tree) => Flatten(tree).Leaves;

    /// <summary>The key paths of the tensor leaves of <paramref name="tree"/>, in flattening order.</summary>
    public static TreePath[] Paths(object? tree) => FlattenWithPaths(tree).Leaves.Select(l => l.Path).ToArray();

    /// <summary>The structure of <paramref name="tree"/>.</summary>
    public static TreeDef Structure(object? tree) => Flatten(tree).Def;

    static TreeDef Build(object? node, List<Tensor> leaves, List<TreeKey> path, List<TreePath>? paths)
    {
        if (node is null) return TreeDef.None;
        if (node is Tensor t)
        {
            leaves.Add(t);
            paths?.Add(new TreePath(path));
            return TreeDef.Leaf;
        }
        var type = node.GetType();
        if (TreeRegistry.IsStatic(type)) return TreeDef.Static(node);
        var h = TreeRegistry.Find(type) ?? throw new ArgumentException(
            $"Tree.Flatten: {TypeName(type)} {TreePath.Where(path)} is not a tree node type. {HowToRegister(type)}");
        var children = new List<object?>();
        var keys = new List<TreeKey>();
        h.Flatten(node, children, keys);
        var defs = new TreeDef[children.Count];
        for (int i = 0; i < defs.Length; i++)
        {
            path.Add(keys[i]);
            defs[i] = Build(children[i], leaves, path, paths);
            path.RemoveAt(path.Count - 1);
        }
        return TreeDef.Node(type, h, keys.ToArray(), defs);
    }

    static string HowToRegister(Type type)
    {
        if (type.IsGenericType)
        {
            var g = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            var names = string.Join(", ", args.Select(TypeName));
            if (g == typeof(List<>)) return $"Call Tree.RegisterList<{names}>() once before using it.";
            if (g == typeof(Dictionary<,>))
                return args[0] == typeof(string) ? $"Call Tree.RegisterDictionary<{TypeName(args[1])}>() once before using it."
                    : "Only dictionaries with string keys can be tree nodes.";
            if (type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true)
                return args.Length <= 7 ? $"Call Tree.RegisterTuple<{names}>() once before using it." : "Tuples of more than 7 elements are not supported; nest them.";
        }
        if (type.IsArray) return "Only one-dimensional, zero-based arrays are tree nodes.";
        return $"Register it with Tree.Register<{TypeName(type)}>(flatten, unflatten), or with Tree.RegisterStatic<{TypeName(type)}>() if it is a static (non-tensor) value.";
    }

    /// <summary>Rebuilds a tree of structure <paramref name="def"/> from its tensor leaves.</summary>
    public static object? Unflatten(TreeDef def, IReadOnlyList<Tensor> leaves)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (leaves.Count != def.LeafCount)
            throw new ArgumentException($"Tree.Unflatten: the structure {def} has {def.LeafCount} tensor leaves but {leaves.Count} tensors were given");
        int next = 0;
        return Rebuild(def, leaves, ref next);
    }

    /// <summary>Rebuilds a tree of structure <paramref name="def"/> as a <typeparamref name="T"/>.</summary>
    public static T Unflatten<T>(TreeDef def, IReadOnlyList<Tensor> leaves)
    {
        var r = Unflatten(def, leaves);
        if (r is T t) return t;
        if (r is null && default(T) is null) return default!;
        throw new ArgumentException($"Tree.Unflatten: the structure {def} rebuilds a {(r is null ? "null" : TypeName(r.GetType()))}, not a {TypeName(typeof(T))}");
    }

    static object? Rebuild(TreeDef def, IReadOnlyList<Tensor> leaves, ref int next)
    {
        switch (def.Kind)
        {
            case TreeDef.NodeKind.Leaf: return leaves[next++];
            case TreeDef.NodeKind.None: return null;
            case TreeDef.NodeKind.Static: return def.StaticValue;
        }
        var children = new object?[def.ChildDefs.Length];
        for (int i = 0; i < children.Length; i++) children[i] = Rebuild(def.ChildDefs[i], leaves, ref next);
        return def.Handler!.Unflatten(def.NodeType!, def.Keys, children);
    }

    // ---------------- maps ----------------

    /// <summary>Applies <paramref name="f"/> to every tensor leaf, keeping the structure.</summary>
    public static T Map<T>(Func<Tensor, Tensor> f, T tree)
    {
        var (leaves, def) = Flatten(tree);
        return Unflatten<T>(def, leaves.Select(f).ToArray());
    }

    /// <summary>Applies <paramref name="f"/> to every tensor leaf with its key path.</summary>
    public static T MapWithPath<T>(Func<TreePath, Tensor, Tensor> f, T tree)
    {
        var (leaves, def) = FlattenWithPaths(tree);
        return Unflatten<T>(def, leaves.Select(l => f(l.Path, l.Leaf)).ToArray());
    }

    /// <summary>
    /// Applies <paramref name="f"/> to corresponding leaves of two trees of the same structure
    /// (e.g. <c>params - lr * grads</c>). A structure mismatch throws an ArgumentException naming the
    /// key path where the trees first differ.
    /// </summary>
    public static T Map2<T>(Func<Tensor, Tensor, Tensor> f, T a, T b)
    {
        var (la, da) = Flatten(a);
        var (lb, db) = Flatten(b);
        CheckSame(da, db, "Tree.Map2", "the first tree", "the second tree");
        var outs = new Tensor[la.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = f(la[i], lb[i]);
        return Unflatten<T>(da, outs);
    }

    /// <summary>Applies <paramref name="f"/> to corresponding leaves of three trees of the same structure.</summary>
    public static T Map3<T>(Func<Tensor, Tensor, Tensor, Tensor> f, T a, T b, T c)
    {
        var (la, da) = Flatten(a);
        var (lb, db) = Flatten(b);
        var (lc, dc) = Flatten(c);
        CheckSame(da, db, "Tree.Map3", "the first tree", "the second tree");
        CheckSame(da, dc, "Tree.Map3", "the first tree", "the third tree");
        var outs = new Tensor[la.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = f(la[i], lb[i], lc[i]);
        return Unflatten<T>(da, outs);
    }

    /// <summary>Throws an ArgumentException naming the first differing key path unless the structures are equal.</summary>
    public static void CheckSame(TreeDef expected, TreeDef actual, string who, string expectedName = "the expected tree", string actualName = "the tree")
    {
        var d = expected.Difference(actual);
        if (d != null) throw new ArgumentException($"{who}: {actualName} has a different structure from {expectedName} {d}");
    }

    // ---------------- registration ----------------

    /// <summary>Makes <c>List&lt;T&gt;</c> a tree node type (once per element type; idempotent).</summary>
    public static void RegisterList<T>() => TreeRegistry.Add(typeof(List<T>), new ListHandler<T>());

    /// <summary>Makes <c>Dictionary&lt;string, T&gt;</c> a tree node type; children are in sorted ordinal key order.</summary>
    public static void RegisterDictionary<T>() => TreeRegistry.Add(typeof(Dictionary<string, T>), new DictionaryHandler<T>());

    /// <summary>Makes <c>(T1, T2)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2>() => TreeRegistry.Add(typeof((T1, T2)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1))));

    /// <summary>Makes <c>(T1, T2, T3)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2, T3>() => TreeRegistry.Add(typeof((T1, T2, T3)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1), TreeNodeHandler.Cast<T3>(c[2], t, 2))));

    /// <summary>Makes <c>(T1, ..., T4)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2, T3, T4>() => TreeRegistry.Add(typeof((T1, T2, T3, T4)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1), TreeNodeHandler.Cast<T3>(c[2], t, 2),
         TreeNodeHandler.Cast<T4>(c[3], t, 3))));

    /// <summary>Makes <c>(T1, ..., T5)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2, T3, T4, T5>() => TreeRegistry.Add(typeof((T1, T2, T3, T4, T5)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1), TreeNodeHandler.Cast<T3>(c[2], t, 2),
         TreeNodeHandler.Cast<T4>(c[3], t, 3), TreeNodeHandler.Cast<T5>(c[4], t, 4))));

    /// <summary>Makes <c>(T1, ..., T6)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2, T3, T4, T5, T6>() => TreeRegistry.Add(typeof((T1, T2, T3, T4, T5, T6)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1), TreeNodeHandler.Cast<T3>(c[2], t, 2),
         TreeNodeHandler.Cast<T4>(c[3], t, 3), TreeNodeHandler.Cast<T5>(c[4], t, 4), TreeNodeHandler.Cast<T6>(c[5], t, 5))));

    /// <summary>Makes <c>(T1, ..., T7)</c> a tree node type.</summary>
    public static void RegisterTuple<T1, T2, T3, T4, T5, T6, T7>() => TreeRegistry.Add(typeof((T1, T2, T3, T4, T5, T6, T7)), new TupleHandler((c, t) =>
        (TreeNodeHandler.Cast<T1>(c[0], t, 0), TreeNodeHandler.Cast<T2>(c[1], t, 1), TreeNodeHandler.Cast<T3>(c[2], t, 2),
         TreeNodeHandler.Cast<T4>(c[3], t, 3), TreeNodeHandler.Cast<T5>(c[4], t, 4), TreeNodeHandler.Cast<T6>(c[5], t, 5),
         TreeNodeHandler.Cast<T7>(c[6], t, 6))));

    /// <summary>
    /// Makes a user type (record or class) a tree node type. <paramref name="flatten"/> returns the
    /// children (tensors, nested trees, static values) and their field names (the key paths print
    /// them as <c>.name</c>); <paramref name="unflatten"/> builds a new instance from children in the
    /// same order. Example:
    /// <code>Tree.Register&lt;Linear&gt;(l =&gt; (new object?[] { l.W, l.B }, new[] { "w", "b" }), c =&gt; new Linear((Tensor)c[0]!, (Tensor)c[1]!));</code>
    /// </summary>
    public static void Register<T>(Func<T, (IReadOnlyList<object?> Children, IReadOnlyList<string> Keys)> flatten,
        Func<IReadOnlyList<object?>, T> unflatten) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(flatten);
        ArgumentNullException.ThrowIfNull(unflatten);
        if (typeof(T) == typeof(Tensor) || TreeRegistry.IsStatic(typeof(T)))
            throw new ArgumentException($"Tree.Register: {TypeName(typeof(T))} is a leaf type and cannot be registered as a node");
        TreeRegistry.Add(typeof(T), new UserHandler<T>(flatten, unflatten));
    }

    /// <summary>Makes <typeparamref name="T"/> a static leaf: kept in the TreeDef and compared with Equals (give it value equality).</summary>
    public static void RegisterStatic<T>() => TreeRegistry.AddStatic(typeof(T));

    // ---------------- names ----------------

    /// <summary>A C#-style name of a type for messages: <c>List&lt;Tensor&gt;</c>, <c>(Tensor, Tensor)</c>, <c>Tensor[]</c>.</summary>
    internal static string TypeName(Type t)
    {
        if (t == typeof(object)) return "object";
        if (t == typeof(int)) return "int";
        if (t == typeof(string)) return "string";
        if (t == typeof(double)) return "double";
        if (t == typeof(float)) return "float";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(long)) return "long";
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (!t.IsGenericType) return t.Name;
        var args = t.GetGenericArguments().Select(TypeName).ToArray();
        if (t.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true && args.Length <= 7)
            return "(" + string.Join(", ", args) + ")";
        if (t.GetGenericTypeDefinition() == typeof(Nullable<>)) return args[0] + "?";
        var name = t.Name;
        int tick = name.IndexOf('`');
        return (tick >= 0 ? name[..tick] : name) + "<" + string.Join(", ", args) + ">";
    }
}
