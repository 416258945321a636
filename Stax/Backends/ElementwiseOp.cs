using Stax.Backends.Cpu;

namespace Stax.Backends;

/// <summary>How an elementwise operator maps operands to its result.</summary>
internal enum ElementwiseArity
{
    /// <summary>y = f(x), same dtype.</summary>
    Unary,
    /// <summary>z = f(x, y), same dtype.</summary>
    Binary,
    /// <summary>bool = f(x, y).</summary>
    Comparison,
    /// <summary>bool = f(x).</summary>
    Predicate,
}

/// <summary>
/// One entry of the elementwise registry: a primitive (or one parameter variant of it, such as
/// round's tie rule), its CPU operator per dtype, and its op code in the Vulkan elementwise shader.
/// A dtype the primitive does not support has no operator (null), never a placeholder.
/// </summary>
/// <param name="Primitive">The primitive.</param>
/// <param name="Arity">Operand and result shape of the operator.</param>
/// <param name="VulkanOp">The OP specialization constant of shaders/elementwise.comp.</param>
/// <param name="Float32">float32 operator (float16 and bfloat16 compute through it); fusible.</param>
/// <param name="Float64">float64 operator.</param>
/// <param name="Int32">int32 operator.</param>
/// <param name="UInt32">uint32 operator.</param>
/// <param name="UInt8">uint8 operator.</param>
/// <param name="Bool">bool operator (bytes 0/1).</param>
/// <param name="Applies">For a primitive with several entries: whether this one serves the given parameters.</param>
internal sealed record ElementwiseOp(
    Primitive Primitive,
    ElementwiseArity Arity,
    int VulkanOp,
    CpuFloat32Operator? Float32 = null,
    CpuOperator? Float64 = null,
    CpuOperator? Int32 = null,
    CpuOperator? UInt32 = null,
    CpuOperator? UInt8 = null,
    CpuOperator? Bool = null,
    Func<Params, bool>? Applies = null)
{
    /// <summary>The CPU operator for <paramref name="dtype"/>, or null when the primitive does not support it.</summary>
    public CpuOperator? Cpu(DType dtype) => dtype switch
    {
        DType.Float32 or DType.Float16 or DType.BFloat16 => Float32,
        DType.Float64 => Float64,
        DType.Int32 => Int32,
        DType.UInt32 => UInt32,
        DType.UInt8 => UInt8,
        DType.Bool => Bool,
        _ => null,
    };

    /// <summary>True when the operator can run inside a fused float32 chain (every float32 operator can).</summary>
    public bool Fusible => Float32 is not null;

    /// <inheritdoc/>
    public override string ToString() => $"{Primitive.Name} ({Arity}, vulkan op {VulkanOp})";
}
