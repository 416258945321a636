using System.Text;

namespace Stax;

/// <summary>
/// The structure of a tree without its tensors (JAX's <c>PyTreeDef</c>): node types, their keys,
/// static (non-tensor) leaves, and where the tensor leaves go. Immutable with value equality, so it
/// can be part of cache keys (Jit keys on it). Prints like <c>{"b": *, "w": [*, *]}</c>:
/// <c>*</c> is a tensor leaf, <c>null</c> an empty node, arrays print as <c>[...]</c>, lists as
/// <c>List[...]</c>, dictionaries as <c>{...}</c>, tuples as <c>(...)</c>, registered types as
/// <c>Name(field=..., ...)</c> and static leaves as their value. Element types are not printed but
/// are compared: a <c>Tensor[]</c> and an <c>object[]</c> are different structures.
/// </summary>
public sealed class TreeDef : IEquatable<TreeDef>
{
    internal enum NodeKind { Leaf, None, Static, Node }

    internal readonly NodeKind Kind;
    internal readonly Type? NodeType;
    internal readonly TreeNodeHandler? Handler;
    internal readonly TreeKey[] Keys;
    internal readonly TreeDef[] ChildDefs;
    internal readonly object? StaticValue;
    readonly int _hash;

    TreeDef(NodeKind kind, Type? type, TreeNodeHandler? handler, TreeKey[] keys, TreeDef[] children, object? value)
    {
        Kind = kind; NodeType = type; Handler = handler; Keys = keys; ChildDefs = children; StaticValue = value;
        LeafCount = kind == NodeKind.Leaf ? 1 : children.Sum(c => c.LeafCount);
        var h = new HashCode();
        h.Add(kind); h.Add(type);
        foreach (var k in keys) h.Add(k);
        foreach (var c in children) h.Add(c._hash);
        h.Add(value);
        _hash = h.ToHashCode();
    }

    /// <summary>The structure of a single tensor.</summary>
    public static TreeDef Leaf { get; } = new(NodeKind.Leaf, null, null, Array.Empty<TreeKey>(), Array.Empty<TreeDef>(), null);

    /// <summary>The structure of <c>null</c> (a node without children).</summary>
    public static TreeDef None { get; } = new(NodeKind.None, null, null, Array.Empty<TreeKey>(), Array.Empty<TreeDef>(), null);

    internal static TreeDef Static(object value) => new(NodeKind.Static, value.GetType(), null, Array.Empty<TreeKey>(), Array.Empty<TreeDef>(), value);

    internal static TreeDef Node(Type type, TreeNodeHandler handler, TreeKey[] keys, TreeDef[] children)
        => new(NodeKind.Node, type, handler, keys, children, null);

    /// <summary>Number of tensor leaves.</summary>
    public int LeafCount { get; }

    /// <summary>True for the structure of a single tensor.</summary>
    public bool IsLeaf => Kind == NodeKind.Leaf;

    /// <summary>True for a static (non-tensor) leaf such as an int or a string.</summary>
    public bool IsStatic => Kind == NodeKind.Static;

    /// <summary>The node's runtime type (null for tensor leaves and <c>null</c>).</summary>
    public Type? Type => NodeType;

    /// <summary>The structures of the node's children.</summary>
    public IReadOnlyList<TreeDef> Children => ChildDefs;

    /// <summary>The keys of the node's children (same order as <see cref="Children"/>).</summary>
    public IReadOnlyList<TreeKey> ChildKeys => Keys;

    /// <summary>The paths of the tensor leaves, in flattening order.</summary>
    public IReadOnlyList<TreePath> LeafPaths
    {
        get
        {
            var res = new List<TreePath>(LeafCount);
            var stack = new List<TreeKey>();
            void Walk(TreeDef d)
            {
                if (d.Kind == NodeKind.Leaf) { res.Add(new TreePath(stack)); return; }
                for (int i = 0; i < d.ChildDefs.Length; i++)
                {
                    stack.Add(d.Keys[i]);
                    Walk(d.ChildDefs[i]);
                    stack.RemoveAt(stack.Count - 1);
                }
            }
            Walk(this);
            return res;
        }
    }

    /// <inheritdoc/>
    public bool Equals(TreeDef? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other.Kind != Kind || other.NodeType != NodeType) return false;
        if (!Keys.AsSpan().SequenceEqual(other.Keys) || ChildDefs.Length != other.ChildDefs.Length) return false;
        if (!Equals(StaticValue, other.StaticValue)) return false;
        for (int i = 0; i < ChildDefs.Length; i++)
            if (!ChildDefs[i].Equals(other.ChildDefs[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TreeDef);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Value equality.</summary>
    public static bool operator ==(TreeDef? a, TreeDef? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(TreeDef? a, TreeDef? b) => !(a == b);

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        int i = 0;
        Format(sb, _ => "*", ref i);
        return sb.ToString();
    }

    /// <summary>Prints the structure with each tensor leaf rendered by <paramref name="leaf"/> (given its leaf index).</summary>
    internal void Format(StringBuilder sb, Func<int, string> leaf, ref int next)
    {
        switch (Kind)
        {
            case NodeKind.Leaf: sb.Append(leaf(next++)); return;
            case NodeKind.None: sb.Append("null"); return;
            case NodeKind.Static:
                sb.Append(StaticValue switch
                {
                    string s => TreeKey.Quote(s),
                    bool b => b ? "true" : "false",
                    _ => Convert.ToString(StaticValue, System.Globalization.CultureInfo.InvariantCulture),
                });
                return;
        }
        var (open, close) = Handler!.Brackets(NodeType!);
        sb.Append(open);
        for (int i = 0; i < ChildDefs.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            if (Keys[i].Kind == TreeKeyKind.Key) sb.Append(TreeKey.Quote(Keys[i].Name!)).Append(": ");
            else if (Keys[i].Kind == TreeKeyKind.Field) sb.Append(Keys[i].Name).Append('=');
            ChildDefs[i].Format(sb, leaf, ref next);
        }
        sb.Append(close);
    }

    /// <summary>A one-line description of this node only (for mismatch errors).</summary>
    internal string Describe() => Kind switch
    {
        NodeKind.Leaf => "a tensor",
        NodeKind.None => "null",
        NodeKind.Static => $"the static value {ToString()} ({Tree.TypeName(NodeType!)})",
        _ => $"{Tree.TypeName(NodeType!)} with {ChildDefs.Length} children ({ToString()})",
    };

    /// <summary>
    /// Null when the structures are equal; otherwise where and how they first differ, e.g.
    /// <c>at layers[2].w: expected a tensor, got null</c>.
    /// </summary>
    public string? Difference(TreeDef other)
    {
        var path = new List<TreeKey>();
        return Diff(this, other, path);
    }

    static string? Diff(TreeDef a, TreeDef b, List<TreeKey> path)
    {
        if (a._hash == b._hash && a.Equals(b)) return null;
        string where = TreePath.Where(path);
        if (a.Kind != b.Kind || a.NodeType != b.NodeType)
            return $"{where}: expected {a.Describe()}, got {b.Describe()}";
        if (a.Kind == NodeKind.Static)
            return $"{where}: expected the static value {a}, got {b}";
        if (!a.Keys.AsSpan().SequenceEqual(b.Keys))
            return $"{where}: expected children [{string.Join(", ", a.Keys)}], got [{string.Join(", ", b.Keys)}]";
        for (int i = 0; i < a.ChildDefs.Length; i++)
        {
            path.Add(a.Keys[i]);
            var d = Diff(a.ChildDefs[i], b.ChildDefs[i], path);
            path.RemoveAt(path.Count - 1);
            if (d != null) return d;
        }
        return $"{where}: the structures differ";
    }
}
