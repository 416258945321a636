using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Stax;

/// <summary>
/// How one node type is taken apart and rebuilt. Handlers are looked up by the node's exact
/// runtime type (arrays have one shared handler). No reflection is used to rebuild: every
/// handler knows its constructor statically, which keeps the core AOT and trimming safe.
/// </summary>
internal abstract class TreeNodeHandler
{
    /// <summary>Short name used in TreeDef printing ("List", "Dict", ...).</summary>
    public abstract string Display(Type type);

    /// <summary>Appends the node's children and their keys.</summary>
    public abstract void Flatten(object node, List<object?> children, List<TreeKey> keys);

    /// <summary>Rebuilds a node of <paramref name="type"/> from its keys and children.</summary>
    public abstract object Unflatten(Type type, TreeKey[] keys, object?[] children);

    /// <summary>How the node prints: "[", "List[", "{", "(", "Name(".</summary>
    public abstract (string Open, string Close) Brackets(Type type);

    internal static T Cast<T>(object? child, Type nodeType, int i)
    {
        if (child is T t) return t;
        if (child is null && default(T) is null) return default!;
        throw new ArgumentException(
            $"Tree.Unflatten: child {i} of {Tree.TypeName(nodeType)} must be a {Tree.TypeName(typeof(T))}, got {(child is null ? "null" : Tree.TypeName(child.GetType()))}");
    }
}

sealed class ArrayHandler : TreeNodeHandler
{
    public static readonly ArrayHandler Instance = new();
    public override string Display(Type type) => Tree.TypeName(type);
    public override (string, string) Brackets(Type type) => ("[", "]");

    public override void Flatten(object node, List<object?> children, List<TreeKey> keys)
    {
        var a = (Array)node;
        for (int i = 0; i < a.Length; i++) { children.Add(a.GetValue(i)); keys.Add(TreeKey.Index(i)); }
    }

    public override object Unflatten(Type type, TreeKey[] keys, object?[] children)
    {
        var a = Array.CreateInstanceFromArrayType(type, children.Length);
        for (int i = 0; i < children.Length; i++)
        {
            try { a.SetValue(children[i], i); }
            catch (Exception e) when (e is InvalidCastException or ArgumentException or NullReferenceException)
            {
                throw new ArgumentException($"Tree.Unflatten: cannot store {(children[i] is null ? "null" : Tree.TypeName(children[i]!.GetType()))} as element {i} of {Tree.TypeName(type)}");
            }
        }
        return a;
    }
}

sealed class ListHandler<T> : TreeNodeHandler
{
    public override string Display(Type type) => Tree.TypeName(type);
    public override (string, string) Brackets(Type type) => ("List[", "]");

    public override void Flatten(object node, List<object?> children, List<TreeKey> keys)
    {
        var l = (List<T>)node;
        for (int i = 0; i < l.Count; i++) { children.Add(l[i]); keys.Add(TreeKey.Index(i)); }
    }

    public override object Unflatten(Type type, TreeKey[] keys, object?[] children)
    {
        var l = new List<T>(children.Length);
        for (int i = 0; i < children.Length; i++) l.Add(Cast<T>(children[i], type, i));
        return l;
    }
}

sealed class DictionaryHandler<T> : TreeNodeHandler
{
    public override string Display(Type type) => Tree.TypeName(type);
    public override (string, string) Brackets(Type type) => ("{", "}");

    public override void Flatten(object node, List<object?> children, List<TreeKey> keys)
    {
        var d = (Dictionary<string, T>)node;
        var names = d.Keys.ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        foreach (var k in names) { children.Add(d[k]); keys.Add(TreeKey.Key(k)); }
    }

    public override object Unflatten(Type type, TreeKey[] keys, object?[] children)
    {
        var d = new Dictionary<string, T>(children.Length);
        for (int i = 0; i < children.Length; i++) d[keys[i].Name!] = Cast<T>(children[i], type, i);
        return d;
    }
}

sealed class TupleHandler(Func<object?[], Type, object> build) : TreeNodeHandler
{
    public override string Display(Type type) => Tree.TypeName(type);
    public override (string, string) Brackets(Type type) => ("(", ")");

    public override void Flatten(object node, List<object?> children, List<TreeKey> keys)
    {
        var t = (ITuple)node;
        for (int i = 0; i < t.Length; i++) { children.Add(t[i]); keys.Add(TreeKey.Index(i)); }
    }

    public override object Unflatten(Type type, TreeKey[] keys, object?[] children) => build(children, type);
}

sealed class UserHandler<T>(Func<T, (IReadOnlyList<object?> Children, IReadOnlyList<string> Keys)> flatten,
    Func<IReadOnlyList<object?>, T> unflatten) : TreeNodeHandler
{
    public override string Display(Type type) => Tree.TypeName(type);
    public override (string, string) Brackets(Type type) => (Tree.TypeName(type) + "(", ")");

    public override void Flatten(object node, List<object?> children, List<TreeKey> keys)
    {
        var (cs, ks) = flatten((T)node);
        if (cs.Count != ks.Count)
            throw new ArgumentException($"Tree.Flatten: the flatten function registered for {Tree.TypeName(typeof(T))} returned {cs.Count} children but {ks.Count} keys");
        for (int i = 0; i < cs.Count; i++) { children.Add(cs[i]); keys.Add(TreeKey.Field(ks[i])); }
    }

    public override object Unflatten(Type type, TreeKey[] keys, object?[] children)
        => unflatten(children) ?? throw new ArgumentException($"Tree.Unflatten: the unflatten function registered for {Tree.TypeName(typeof(T))} returned null");
}

/// <summary>The node-type registry.</summary>
internal static class TreeRegistry
{
    static readonly ConcurrentDictionary<Type, TreeNodeHandler> Handlers = new();
    static readonly ConcurrentDictionary<Type, bool> Statics = new();

    static TreeRegistry()
    {
        Add(typeof(List<Tensor>), new ListHandler<Tensor>());
        Add(typeof(List<object>), new ListHandler<object>());
        Add(typeof(Dictionary<string, Tensor>), new DictionaryHandler<Tensor>());
        Add(typeof(Dictionary<string, object>), new DictionaryHandler<object>());
        // A Key is a node over its uint32 data, so keys pass through Vmap, Jit and Grad like tensors.
        Add(typeof(Key), new UserHandler<Key>(k => (new object?[] { k.IsNone ? null : k.Data }, new[] { "data" }),
            c => c[0] is Tensor data ? new Key(data) : Key.None));
        Tuple<Tensor, Tensor>();
        Tuple<Tensor, Tensor, Tensor>();
        Tuple<Tensor, Tensor, Tensor, Tensor>();
        Tuple<Tensor, Tensor, Tensor, Tensor, Tensor>();
        Tuple<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>();
        Tuple<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>();
    }

    static void Tuple<T1, T2>() => Tree.RegisterTuple<T1, T2>();
    static void Tuple<T1, T2, T3>() => Tree.RegisterTuple<T1, T2, T3>();
    static void Tuple<T1, T2, T3, T4>() => Tree.RegisterTuple<T1, T2, T3, T4>();
    static void Tuple<T1, T2, T3, T4, T5>() => Tree.RegisterTuple<T1, T2, T3, T4, T5>();
    static void Tuple<T1, T2, T3, T4, T5, T6>() => Tree.RegisterTuple<T1, T2, T3, T4, T5, T6>();
    static void Tuple<T1, T2, T3, T4, T5, T6, T7>() => Tree.RegisterTuple<T1, T2, T3, T4, T5, T6, T7>();

    internal static void Add(Type t, TreeNodeHandler h) => Handlers[t] = h;

    internal static void AddStatic(Type t) => Statics[t] = true;

    internal static TreeNodeHandler? Find(Type t)
    {
        if (Handlers.TryGetValue(t, out var h)) return h;
        if (t.IsSZArray) return ArrayHandler.Instance;
        return null;
    }

    internal static bool IsStatic(Type t)
        => t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(Shape) || t == typeof(IntTuple)
           || t == typeof(AbstractValue) || Statics.ContainsKey(t)
           || (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Static<>));

    /// <summary>Read-only view of a node's children for prefix trees (in_axes): no rebuild needed, so
    /// any list, string-keyed dictionary or tuple is accepted.</summary>
    internal static bool TryReadAny(object node, List<object?> children, List<TreeKey> keys)
    {
        var t = node.GetType();
        if (Find(t) is { } h) { h.Flatten(node, children, keys); return true; }
        switch (node)
        {
            case ITuple tup:
                for (int i = 0; i < tup.Length; i++) { children.Add(tup[i]); keys.Add(TreeKey.Index(i)); }
                return true;
            case IDictionary d:
                var names = new List<string>();
                foreach (var k in d.Keys)
                {
                    if (k is not string s) return false;
                    names.Add(s);
                }
                names.Sort(StringComparer.Ordinal);
                foreach (var k in names) { children.Add(d[k]); keys.Add(TreeKey.Key(k)); }
                return true;
            case IList l:
                for (int i = 0; i < l.Count; i++) { children.Add(l[i]); keys.Add(TreeKey.Index(i)); }
                return true;
        }
        return false;
    }
}
