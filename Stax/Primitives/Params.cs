namespace Stax.Extend;

/// <summary>
/// Parameters of one primitive application (axes, shapes, dimension numbers). Records compare by
/// value, which the jit cache relies on; use <see cref="Shape"/> and <see cref="IntTuple"/>, not arrays.
/// </summary>
public abstract record Params
{
    /// <summary>The empty parameter set.</summary>
    public static readonly Params None = new NoParams();
}

/// <summary>Parameters of primitives that take none.</summary>
public sealed record NoParams : Params
{
    /// <inheritdoc/>
    public override string ToString() => "";
}
