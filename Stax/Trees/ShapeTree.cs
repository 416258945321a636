using System.Text;

namespace Stax;

/// <summary>
/// A tree whose leaves are abstract values (shape, dtype) instead of tensors: what
/// <see cref="Transforms.EvalShape{TIn, TOut}(Func{TIn, TOut}, TIn)"/> returns (JAX's tree of
/// <c>ShapeDtypeStruct</c>). Prints like <c>{"b": f32[3], "w": f32[2,3]}</c>.
/// </summary>
public sealed class ShapeTree
{
    /// <summary>A shape tree of structure <paramref name="def"/> with one abstract value per tensor leaf.</summary>
    public ShapeTree(TreeDef def, IReadOnlyList<AbstractValue> leaves)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (leaves.Count != def.LeafCount)
            throw new ArgumentException($"ShapeTree: the structure {def} has {def.LeafCount} tensor leaves but {leaves.Count} abstract values were given");
        Def = def;
        Leaves = leaves.ToArray();
    }

    /// <summary>The shape tree of an existing tree of tensors (no computation).</summary>
    public static ShapeTree Of(object? tree)
    {
        var (leaves, def) = Tree.Flatten(tree);
        return new ShapeTree(def, leaves.Select(l => l.Aval).ToArray());
    }

    /// <summary>The structure.</summary>
    public TreeDef Def { get; }

    /// <summary>The abstract values of the tensor leaves, in flattening order.</summary>
    public IReadOnlyList<AbstractValue> Leaves { get; }

    /// <summary>The leaves with their key paths.</summary>
    public IReadOnlyList<(TreePath Path, AbstractValue Leaf)> LeavesWithPaths => Def.LeafPaths.Zip(Leaves, (p, l) => (p, l)).ToArray();

    /// <summary>The abstract value at a key path printed as by <see cref="TreePath"/> (e.g. <c>["w"]</c>).</summary>
    public AbstractValue this[string path]
    {
        get
        {
            var paths = Def.LeafPaths;
            for (int i = 0; i < paths.Count; i++)
                if (paths[i].ToString() == path) return Leaves[i];
            throw new ArgumentException($"ShapeTree: no tensor leaf at path {path}; the leaves are at {string.Join(", ", paths)}");
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        int i = 0;
        Def.Format(sb, k => Leaves[k].ToString(), ref i);
        return sb.ToString();
    }
}
