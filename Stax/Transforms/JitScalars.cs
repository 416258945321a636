namespace Stax;

/// <summary>
/// C# numbers in a tree Jit argument become weakly typed scalar tensors, as Python scalars are
/// traced values in JAX: a step counter passed as an <c>int</c> then reuses one program instead
/// of tracing (and caching) a new one per value. Only slots whose declared type can hold a
/// <see cref="Tensor"/> (<c>object</c>, an <c>object?[]</c> element, a <c>Dictionary&lt;string, object&gt;</c>
/// value, ...) are lifted; an <c>int</c>-typed slot (a tuple element, a typed Jit parameter) keeps
/// the C# value and stays static, as do bools, strings, enums and <see cref="Static{T}"/>.
/// </summary>
internal static class JitScalars
{
    /// <summary>The tree with liftable numbers replaced by weak scalars (unchanged subtrees are reused).</summary>
    public static object? Lift(object? node, Type declared)
    {
        if (node is null or Tensor) return node;
        var type = node.GetType();
        if (TreeRegistry.IsStatic(type))
        {
            if (!declared.IsAssignableFrom(typeof(Tensor))) return node;
            return node switch
            {
                int i => Tensor.WeakScalar(i),
                long l when l is >= int.MinValue and <= int.MaxValue => Tensor.WeakScalar((int)l),
                double d => Tensor.WeakScalar(d),
                float f => Tensor.WeakScalar(f),
                _ => node,
            };
        }
        var handler = TreeRegistry.Find(type);
        if (handler is null) return node;              // Tree.Flatten reports it
        var children = new List<object?>();
        var keys = new List<TreeKey>();
        handler.Flatten(node, children, keys);
        object?[]? lifted = null;
        for (int i = 0; i < children.Count; i++)
        {
            var c = Lift(children[i], ChildType(type, i));
            if (ReferenceEquals(c, children[i])) continue;
            lifted ??= children.ToArray();
            lifted[i] = c;
        }
        return lifted is null ? node : handler.Unflatten(type, keys.ToArray(), lifted);
    }

    // The declared type of child i: what a rebuilt node can store there. Registered user types
    // rebuild through their own code, so their direct children are never lifted.
    static Type ChildType(Type node, int i)
    {
        if (node.IsArray) return node.GetElementType()!;
        if (!node.IsGenericType) return typeof(void);
        var g = node.GetGenericTypeDefinition();
        var args = node.GetGenericArguments();
        if (g == typeof(List<>)) return args[0];
        if (g == typeof(Dictionary<,>)) return args[1];
        if (node.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true && i < args.Length && args.Length <= 7) return args[i];
        return typeof(void);
    }
}
