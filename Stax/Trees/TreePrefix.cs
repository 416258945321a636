namespace Stax;

/// <summary>
/// Tree prefixes (JAX's in_axes/out_axes): a value that is either one entry for a whole subtree
/// (an int or null) or a container matching the tree's structure down to some depth. Any list,
/// array, string-keyed dictionary or value tuple may be used as a prefix container (they are only
/// read), so <c>new object?[] { 0, null }</c> or <c>(0, (int?)null)</c> both work for a pair.
/// </summary>
internal static class TreePrefix
{
    /// <summary>One axis (null = not mapped) per tensor leaf of <paramref name="def"/>.</summary>
    public static int?[] AxesPerLeaf(object? prefix, TreeDef def, string who)
    {
        var res = new List<int?>(def.LeafCount);
        Walk(prefix, def, res, new List<TreeKey>(), who);
        return res.ToArray();
    }

    static void Walk(object? prefix, TreeDef def, List<int?> res, List<TreeKey> path, string who)
    {
        if (prefix is null || prefix is int)
        {
            int? ax = prefix is int i ? i : null;
            for (int k = 0; k < def.LeafCount; k++) res.Add(ax);
            return;
        }
        if (prefix is Tensor)
            throw new ArgumentException($"{who} {TreePath.Where(path)}: expected an int or null (or a container of them), got a Tensor");
        if (TreeRegistry.IsStatic(prefix.GetType()))
            throw new ArgumentException($"{who} {TreePath.Where(path)}: expected an int or null, got {Tree.TypeName(prefix.GetType())} {prefix}");
        var children = new List<object?>();
        var keys = new List<TreeKey>();
        if (!TreeRegistry.TryReadAny(prefix, children, keys))
            throw new ArgumentException($"{who} {TreePath.Where(path)}: {Tree.TypeName(prefix.GetType())} is not a container of axes");
        if (def.Kind != TreeDef.NodeKind.Node)
            throw new ArgumentException($"{who} {TreePath.Where(path)}: the prefix has a container with {children.Count} entries where the tree has {def.Describe()}");
        bool sameKeys = keys.Count == def.Keys.Length;
        for (int i = 0; sameKeys && i < keys.Count; i++)
            sameKeys = KeyMatches(keys[i], def.Keys[i]);
        if (!sameKeys)
            throw new ArgumentException($"{who} {TreePath.Where(path)}: the prefix has entries [{string.Join(", ", keys)}] but the tree has [{string.Join(", ", def.Keys)}]");
        for (int i = 0; i < children.Count; i++)
        {
            path.Add(def.Keys[i]);
            Walk(children[i], def.ChildDefs[i], res, path, who);
            path.RemoveAt(path.Count - 1);
        }
    }

    // A prefix for a registered record may be written as a dictionary of its field names.
    static bool KeyMatches(TreeKey prefix, TreeKey tree)
        => prefix == tree || (prefix.Kind != TreeKeyKind.Index && tree.Kind != TreeKeyKind.Index && prefix.Name == tree.Name);
}
