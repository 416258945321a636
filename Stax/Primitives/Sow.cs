namespace Stax.Extend;

/// <summary>Parameters of <c>sow</c>: the tag name.</summary>
public sealed record SowParams(string Name) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"name={Name}";
}

public static partial class Prims
{
    /// <summary>Tags an intermediate value (identity); Harvest.Reap collects it, Harvest.Plant replaces it.</summary>
    public static readonly Primitive Sow = new("sow", PrimitiveFamily.Control, (ins, _) => new[] { ins[0] }, inputs: 1)
    {
        Impl = (args, _) => new[] { args[0] },
    };
}
