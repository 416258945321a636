using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

/// <summary>
/// An elementwise operator for one dtype as the elementwise registry
/// (<see cref="ElementwiseOps"/>) names it: a handle on an operator struct that runs it over whole
/// buffers. The generic subclasses below tie the struct to its driver loop.
/// </summary>
internal abstract class CpuOperator
{
    /// <summary>output = op(inputs) elementwise; shapes and dtypes were checked by the type rule.</summary>
    public abstract void Run(CpuBuffer[] inputs, CpuBuffer output);
}

/// <summary>
/// A float32 operator: it also runs float16/bfloat16 buffers (widened to float32 and rounded
/// back), and gives the instruction a fused float32 chain applies to tiles.
/// </summary>
internal abstract class CpuFloat32Operator : CpuOperator
{
    /// <summary>The same operator over tiles of a fused chain.</summary>
    public abstract FusedInstr Fused { get; }
}

internal sealed class UnaryOperator<TOp, T> : CpuOperator where TOp : IUnaryOp<T> where T : unmanaged
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output) => Drivers.Unary<TOp, T>(inputs[0], output);
}

internal sealed class UnaryF32Operator<TOp> : CpuFloat32Operator where TOp : IUnaryOp<float>
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output)
    {
        if (inputs[0].DType == DType.Float32) Drivers.Unary<TOp, float>(inputs[0], output);
        else Drivers.UnaryViaFloat<TOp>(inputs[0], output);
    }
    public override FusedInstr Fused { get; } = new FusedUnary<TOp>();
}

internal sealed class BinaryOperator<TOp, T> : CpuOperator where TOp : IBinaryOp<T> where T : unmanaged
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output) => Drivers.Binary<TOp, T>(inputs[0], inputs[1], output);
}

internal sealed class BinaryF32Operator<TOp> : CpuFloat32Operator where TOp : IBinaryOp<float>
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output)
    {
        if (inputs[0].DType == DType.Float32) Drivers.Binary<TOp, float>(inputs[0], inputs[1], output);
        else Drivers.BinaryViaFloat<TOp>(inputs[0], inputs[1], output);
    }
    public override FusedInstr Fused { get; } = new FusedBinary<TOp>();
}

internal sealed class ComparisonOperator<TOp, T> : CpuOperator where TOp : IComparison<T> where T : unmanaged
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output) => Drivers.Compare<TOp, T>(inputs[0], inputs[1], output);
}

internal sealed class ComparisonF32Operator<TOp> : CpuFloat32Operator where TOp : IComparison<float>
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output)
    {
        if (inputs[0].DType == DType.Float32) Drivers.Compare<TOp, float>(inputs[0], inputs[1], output);
        else Drivers.CompareViaFloat<TOp>(inputs[0], inputs[1], output);
    }
    public override FusedInstr Fused { get; } = new FusedBinary<MaskOf<TOp>>();
}

internal sealed class PredicateOperator<TOp, T> : CpuOperator where TOp : IUnaryPredicate<T> where T : unmanaged
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output) => Drivers.Predicate<TOp, T>(inputs[0], output);
}

internal sealed class PredicateF32Operator<TOp> : CpuFloat32Operator where TOp : IUnaryPredicate<float>
{
    public override void Run(CpuBuffer[] inputs, CpuBuffer output)
    {
        if (inputs[0].DType == DType.Float32) Drivers.Predicate<TOp, float>(inputs[0], output);
        else Drivers.PredicateViaFloat<TOp>(inputs[0], output);
    }
    public override FusedInstr Fused { get; } = new FusedUnary<MaskOfPredicate<TOp>>();
}
