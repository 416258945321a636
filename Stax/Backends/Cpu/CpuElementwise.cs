namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    // Every elementwise primitive's kernel comes from the registry (Backends/ElementwiseOps.cs):
    // float32 ops share one algorithm across vector widths (Simd/MathF32), float64 uses
    // System.Math or Simd/MathF64, float16/bfloat16 compute with the float32 operator's scalar
    // form and round back.
    static partial void RegisterElementwise()
    {
        foreach (var prim in ElementwiseOps.Primitives)
            Kernels[prim] = ElementwiseKernel(prim);
        Kernels[Prims.Select] = (p, ins, outs, it, ot) => Simd.Drivers.Select(ins[0], ins[1], ins[2], outs[0]);
    }

    static CpuKernel ElementwiseKernel(Primitive prim)
    {
        var ops = ElementwiseOps.Of(prim);
        if (ops.Count == 1)
        {
            var only = ops[0];
            return (p, ins, outs, it, ot) => Operator(only, ins[0].DType).Run(ins, outs[0]);
        }
        return (p, ins, outs, it, ot) =>
        {
            var op = ElementwiseOps.Find(prim, p)
                ?? throw new NotSupportedException($"cpu: {prim.Name} has no operator for parameters {p}");
            Operator(op, ins[0].DType).Run(ins, outs[0]);
        };
    }

    static CpuOperator Operator(ElementwiseOp op, DType dtype)
        => op.Cpu(dtype) ?? throw new NotSupportedException($"cpu: {op.Primitive.Name} has no kernel for dtype {dtype.Name()}");
}
