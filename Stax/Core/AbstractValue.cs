namespace Stax;

/// <summary>
/// What is known about a tensor without its data: shape, dtype and whether it is weakly typed
/// (a C# scalar that takes the other operand's type). Abstract evaluation, tracing and the jit
/// cache key work on these.
/// </summary>
public sealed record AbstractValue(Shape Shape, DType DType, bool Weak = false)
{
    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;
    /// <summary>Number of elements.</summary>
    public long Size => Shape.Size;
    /// <summary>Formats as <c>f32[2,3]</c> (a trailing <c>~</c> marks weak types), as programs print.</summary>
    public override string ToString()
        => $"{DType.ShortName()}[{string.Join(",", Shape.ToArray())}]{(Weak ? "~" : "")}";
}
