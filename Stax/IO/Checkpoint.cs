namespace Stax.IO;

/// <summary>
/// Checkpoints of parameter, state and optimizer-state trees in one safetensors file. Tensor names
/// come from tree key paths: the tree's name, then each key (list positions, dictionary keys,
/// record fields) joined with '/', e.g. <c>params/0/w</c>. Saving is atomic (the previous file
/// survives a failed save); loading restores into templates of the same structure and checks
/// every name, shape and dtype.
/// </summary>
public static class Checkpoint
{
    /// <summary>The safetensors names of a tree's leaves under <paramref name="prefix"/>.</summary>
    public static Dictionary<string, Tensor> Name(string prefix, object? tree)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, leaf) in Tree.FlattenWithPaths(tree).Leaves)
        {
            var name = NameOf(prefix, path);
            if (!result.TryAdd(name, leaf))
                throw new ArgumentException($"Checkpoint: two leaves map to the name '{name}' (key paths must be unique after joining with '/')");
        }
        return result;
    }

    static string NameOf(string prefix, TreePath path)
    {
        var parts = path.Keys.Select(k => k.Kind == TreeKeyKind.Index ? k.Position.ToString() : k.Name!);
        return string.Join("/", new[] { prefix }.Concat(parts).Where(s => s.Length > 0));
    }

    /// <summary>Saves named trees (e.g. "params", "state", "opt") and string metadata.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, object?> trees, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tree) in trees)
            foreach (var (k, v) in Name(name, tree))
                if (!all.TryAdd(k, v)) throw new ArgumentException($"Checkpoint: the name '{k}' appears in two trees");
        SafeTensors.Save(path, all, metadata);
    }

    /// <summary>
    /// Loads a checkpoint into trees shaped like <paramref name="templates"/> (their tensors give the
    /// expected shapes and dtypes; their values are not used). Missing, extra or mismatched tensors
    /// are errors naming the tensor.
    /// </summary>
    public static (Dictionary<string, object?> Trees, Dictionary<string, string> Metadata) Load(string path, IReadOnlyDictionary<string, object?> templates)
    {
        var (tensors, metadata) = SafeTensors.Load(path, convertTo: null);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (treeName, template) in templates)
        {
            var (leaves, def) = Tree.FlattenWithPaths(template);
            var restored = new Tensor[leaves.Count];
            for (int i = 0; i < leaves.Count; i++)
            {
                var (p, want) = leaves[i];
                var name = NameOf(treeName, p);
                if (!tensors.TryGetValue(name, out var got))
                    throw new InvalidDataException($"Checkpoint '{path}': tensor '{name}' is missing");
                if (got.Shape != want.Shape || got.DType != want.DType)
                    throw new InvalidDataException($"Checkpoint '{path}': tensor '{name}' has {got.DType.Name()} {got.Shape}, the model expects {want.DType.Name()} {want.Shape}");
                restored[i] = got;
                used.Add(name);
            }
            result[treeName] = Tree.Unflatten(def, restored);
        }
        var extra = tensors.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        if (extra.Length > 0)
            throw new InvalidDataException($"Checkpoint '{path}': tensors not in the model: {string.Join(", ", extra.Take(5))}{(extra.Length > 5 ? ", ..." : "")}");
        return (result, metadata);
    }
}
