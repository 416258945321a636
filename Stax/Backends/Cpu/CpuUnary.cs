using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    // float32 ops share one algorithm across widths (Simd/MathF32); float64 uses System.Math or
    // Simd/MathF64; float16/bfloat16 compute with the float32 scalar form and round back.
    static partial void RegisterUnary()
    {
        Kernels[Prims.Exp] = Float<VecUnary<ExpAlgo>, ExpD>();
        Kernels[Prims.Log] = Float<VecUnary<LogAlgo>, LogD>();
        Kernels[Prims.Log1p] = Float<VecUnary<Log1pAlgo>, Log1pD>();
        Kernels[Prims.Expm1] = Float<VecUnary<Expm1Algo>, Expm1D>();
        Kernels[Prims.Tanh] = Float<VecUnary<TanhAlgo>, TanhD>();
        Kernels[Prims.Logistic] = Float<VecUnary<LogisticAlgo>, LogisticD>();
        Kernels[Prims.Sqrt] = Float<VecUnary<SqrtAlgo>, SqrtD>();
        Kernels[Prims.Rsqrt] = Float<VecUnary<RsqrtAlgo>, RsqrtD>();
        Kernels[Prims.Sin] = Float<VecUnary<SinAlgo>, SinD>();
        Kernels[Prims.Cos] = Float<VecUnary<CosAlgo>, CosD>();
        Kernels[Prims.Erf] = Float<VecUnary<ErfAlgo>, ErfD>();
        Kernels[Prims.ErfInv] = Float<VecUnary<ErfInvAlgo>, ErfInvD>();
        Kernels[Prims.Floor] = Float<VecUnary<FloorAlgo>, FloorD>();
        Kernels[Prims.Ceil] = Float<VecUnary<CeilAlgo>, CeilD>();
        var roundAway = Float<VecUnary<RoundAwayAlgo>, RoundAwayD>();
        var roundEven = Float<VecUnary<RoundEvenAlgo>, RoundEvenD>();
        Kernels[Prims.Round] = (p, ins, outs, it, ot) =>
            (((RoundParams)p).Method == RoundingMethod.AwayFromZero ? roundAway : roundEven)(p, ins, outs, it, ot);

        var negF = Float<VecUnary<NegAlgo>, NegD>();
        Kernels[Prims.Neg] = (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Int32: Drivers.Unary<NegInt<int>, int>(ins[0], outs[0]); break;
                case DType.UInt32: Drivers.Unary<NegInt<uint>, uint>(ins[0], outs[0]); break;
                case DType.UInt8: Drivers.Unary<NegInt<byte>, byte>(ins[0], outs[0]); break;
                default: negF(p, ins, outs, it, ot); break;
            }
        };
        var absF = Float<VecUnary<AbsAlgo>, AbsD>();
        Kernels[Prims.Abs] = (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Int32: Drivers.Unary<AbsInt, int>(ins[0], outs[0]); break;
                case DType.UInt32 or DType.UInt8: ins[0].Data.AsSpan().CopyTo(outs[0].Data); break;
                default: absF(p, ins, outs, it, ot); break;
            }
        };
        var signF = Float<VecUnary<SignAlgo>, SignD>();
        Kernels[Prims.Sign] = (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Int32: Drivers.Unary<SignInt<int>, int>(ins[0], outs[0]); break;
                case DType.UInt32: Drivers.Unary<SignInt<uint>, uint>(ins[0], outs[0]); break;
                case DType.UInt8: Drivers.Unary<SignInt<byte>, byte>(ins[0], outs[0]); break;
                default: signF(p, ins, outs, it, ot); break;
            }
        };
        Kernels[Prims.Not] = (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Int32 or DType.UInt32: Drivers.Unary<NotOp<uint>, uint>(ins[0], outs[0]); break;
                case DType.UInt8: Drivers.Unary<NotOp<byte>, byte>(ins[0], outs[0]); break;
                default: Drivers.Unary<NotBoolOp, byte>(ins[0], outs[0]); break;
            }
        };
        Kernels[Prims.IsFinite] = (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Float32: Drivers.Predicate<IsFiniteOp<float>, float>(ins[0], outs[0]); break;
                case DType.Float64: Drivers.Predicate<IsFiniteOp<double>, double>(ins[0], outs[0]); break;
                default: Drivers.PredicateViaFloat<IsFiniteOp<float>>(ins[0], outs[0]); break;
            }
        };
    }

    /// <summary>A kernel for a floating-point-only unary primitive.</summary>
    static CpuKernel Float<TF, TD>() where TF : IUnaryOp<float> where TD : IUnaryOp<double>
        => (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Float32: Drivers.Unary<TF, float>(ins[0], outs[0]); break;
                case DType.Float64: Drivers.Unary<TD, double>(ins[0], outs[0]); break;
                case DType.Float16 or DType.BFloat16: Drivers.UnaryViaFloat<TF>(ins[0], outs[0]); break;
                default: throw new NotSupportedException($"cpu: no unary kernel for {ins[0].DType.Name()}");
            }
        };
}
