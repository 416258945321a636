using System.Text;

namespace Stax;

/// <summary>What kind of step a <see cref="TreeKey"/> is.</summary>
public enum TreeKeyKind
{
    /// <summary>A position in an array, list or tuple: printed <c>[2]</c>.</summary>
    Index,
    /// <summary>A dictionary key: printed <c>["enc"]</c>.</summary>
    Key,
    /// <summary>A named field of a registered type (record/class): printed <c>.w</c> (no dot at the start of a path).</summary>
    Field,
}

/// <summary>
/// One step of a <see cref="TreePath"/> from a tree node to one of its children
/// (JAX's <c>SequenceKey</c>, <c>DictKey</c>, <c>GetAttrKey</c>).
/// </summary>
public readonly record struct TreeKey
{
    TreeKey(TreeKeyKind kind, int index, string? name) { Kind = kind; Position = index; Name = name; }

    /// <summary>The kind of step.</summary>
    public TreeKeyKind Kind { get; }
    /// <summary>The position for <see cref="TreeKeyKind.Index"/> keys (else -1).</summary>
    public int Position { get; }
    /// <summary>The dictionary key or field name (null for index keys).</summary>
    public string? Name { get; }

    /// <summary>A sequence position <c>[i]</c>.</summary>
    public static TreeKey Index(int i) => new(TreeKeyKind.Index, i, null);
    /// <summary>A dictionary key <c>["name"]</c>.</summary>
    public static TreeKey Key(string name) => new(TreeKeyKind.Key, -1, name ?? throw new ArgumentNullException(nameof(name)));
    /// <summary>A field <c>.name</c>.</summary>
    public static TreeKey Field(string name) => new(TreeKeyKind.Field, -1, name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>The key as it appears inside a path (<c>[2]</c>, <c>["enc"]</c>, <c>.w</c>).</summary>
    public override string ToString() => Kind switch
    {
        TreeKeyKind.Index => $"[{Position}]",
        TreeKeyKind.Key => $"[{Quote(Name!)}]",
        _ => "." + Name,
    };

    internal static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", '\r' => "\\r", _ => c.ToString() });
        return sb.Append('"').ToString();
    }
}

/// <summary>
/// The location of a node in a tree: the keys from the root. Printed in C# accessor syntax:
/// list/array/tuple positions as <c>[2]</c>, dictionary keys as <c>["enc"]</c>, record fields as
/// <c>.w</c> except that a leading field has no dot: <c>layers[2].w</c>, <c>["enc"][0]</c>,
/// <c>[1].b</c>. The root is the empty path, printed as the empty string.
/// Paths have value equality.
/// </summary>
public sealed class TreePath : IEquatable<TreePath>
{
    readonly TreeKey[] _keys;

    /// <summary>A path made of the given keys.</summary>
    public TreePath(IEnumerable<TreeKey> keys) { _keys = keys.ToArray(); }

    /// <summary>The root (empty) path.</summary>
    public static TreePath Root { get; } = new(Array.Empty<TreeKey>());

    /// <summary>The keys from the root.</summary>
    public IReadOnlyList<TreeKey> Keys => _keys;

    /// <summary>This path followed by <paramref name="key"/>.</summary>
    public TreePath Append(TreeKey key) => new(_keys.Append(key));

    /// <inheritdoc/>
    public override string ToString() => Format(_keys);

    internal static string Format(IReadOnlyList<TreeKey> keys)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < keys.Count; i++)
            sb.Append(i == 0 && keys[i].Kind == TreeKeyKind.Field ? keys[i].Name : keys[i].ToString());
        return sb.ToString();
    }

    /// <summary>For error messages: "at layers[2].w", or "at the root".</summary>
    internal static string Where(IReadOnlyList<TreeKey> keys) => keys.Count == 0 ? "at the root" : "at " + Format(keys);

    /// <inheritdoc/>
    public bool Equals(TreePath? other) => other is not null && _keys.AsSpan().SequenceEqual(other._keys);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TreePath);
    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var k in _keys) h.Add(k);
        return h.ToHashCode();
    }
}
