namespace Stax.Distributed;

/// <summary>The combining operation of <see cref="Distributed.AllReduce{T}"/>.</summary>
public enum ReduceOp
{
    /// <summary>Elementwise sum.</summary>
    Sum,
    /// <summary>Elementwise maximum.</summary>
    Max,
    /// <summary>Elementwise minimum.</summary>
    Min,
}
