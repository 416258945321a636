namespace Stax.Tracing;

/// <summary>Helpers shared by batching rules: moving and materialising the mapped dimension.</summary>
public static class BatchRules
{
    static readonly HashSet<Primitive> AxisPrimitives = new();

    /// <summary>Marks a primitive whose batching rule must run even when no operand is mapped (collectives).</summary>
    public static void RequireAxis(Primitive p) { lock (AxisPrimitives) AxisPrimitives.Add(p); }

    internal static bool NeedsAxis(Primitive p) { lock (AxisPrimitives) return AxisPrimitives.Contains(p); }

    /// <summary>Moves the mapped dimension <paramref name="from"/> (null = not mapped: broadcast it) to <paramref name="to"/>.</summary>
    public static Tensor MoveTo(Tensor x, int? from, int to, int size)
    {
        if (from is not int f)
        {
            var dims = x.Shape.ToArray().ToList();
            if (to < 0 || to > dims.Count) throw new ArgumentException($"Vmap: out_axes {to} is out of range for an output of shape {x.Shape}");
            dims.Insert(to, size);
            var keep = Enumerable.Range(0, x.Rank).Select(i => i < to ? i : i + 1).ToArray();
            return Lax.BroadcastInDim(x, new Shape(dims.ToArray()), keep);
        }
        if (to < 0 || to >= x.Rank) throw new ArgumentException($"Vmap: out_axes {to} is out of range for an output of shape {x.Shape}");
        if (f == to) return x;
        var perm = Enumerable.Range(0, x.Rank).Where(i => i != f).ToList();
        perm.Insert(to, f);
        return Lax.Transpose(x, perm.ToArray());
    }

    /// <summary>Moves the mapped dimension to the front (broadcasting an unmapped value).</summary>
    public static Tensor ToFront(Tensor x, int? dim, int size) => MoveTo(x, dim, 0, size);

    /// <summary>
    /// For elementwise primitives: brings every operand to the same rank with the mapped dimension
    /// at one position, broadcasting unmapped operands, and returns that position.
    /// </summary>
    public static (Tensor[] Args, int Dim) Align(Tensor[] args, int?[] dims, int size)
    {
        int? common = null;
        bool same = true;
        foreach (var d in dims)
            if (d is int v) { if (common is null) common = v; else if (common != v) same = false; }
        int target = same && common is int c ? c : 0;
        var outArgs = new Tensor[args.Length];
        for (int i = 0; i < args.Length; i++)
            outArgs[i] = dims[i] == target ? args[i] : MoveTo(args[i], dims[i], target, size);
        return (outArgs, target);
    }
}
