using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterBinary()
    {
        Kernels[Prims.Add] = Arith<AddOp<float>, AddOp<double>, AddOp<int>, AddOp<uint>, AddOp<byte>>();
        Kernels[Prims.Sub] = Arith<SubOp<float>, SubOp<double>, SubOp<int>, SubOp<uint>, SubOp<byte>>();
        Kernels[Prims.Mul] = Arith<MulOp<float>, MulOp<double>, MulOp<int>, MulOp<uint>, MulOp<byte>>();
        Kernels[Prims.Div] = Arith<DivF<float>, DivF<double>, DivI32, DivU32, DivU8>();
        Kernels[Prims.Rem] = Arith<RemF, RemD, RemI32, RemU32, RemU8>();
        Kernels[Prims.Max] = Arith<MaxOp<float>, MaxOp<double>, MaxOp<int>, MaxOp<uint>, MaxOp<byte>>();
        Kernels[Prims.Min] = Arith<MinOp<float>, MinOp<double>, MinOp<int>, MinOp<uint>, MinOp<byte>>();
        Kernels[Prims.Pow] = Arith<PowF, PowD, AddOp<int>, AddOp<uint>, AddOp<byte>>();      // float-only (type rule)
        Kernels[Prims.Atan2] = Arith<VecBinary<Atan2Algo>, Atan2D, AddOp<int>, AddOp<uint>, AddOp<byte>>();
        // Bitwise ops act on bit patterns: int32 and uint32 share a kernel, bool is uint8 0/1.
        Kernels[Prims.And] = Arith<AddOp<float>, AddOp<double>, AndOp<int>, AndOp<uint>, AndOp<byte>>();
        Kernels[Prims.Or] = Arith<AddOp<float>, AddOp<double>, OrOp<int>, OrOp<uint>, OrOp<byte>>();
        Kernels[Prims.Xor] = Arith<AddOp<float>, AddOp<double>, XorOp<int>, XorOp<uint>, XorOp<byte>>();
        Kernels[Prims.ShiftLeft] = Shift<ShlI32, ShlU8>();
        Kernels[Prims.ShiftRightLogical] = Shift<ShrLI32, ShrLU8>();
        Kernels[Prims.ShiftRightArithmetic] = Shift<ShrAI32, ShrAU8>();

        Kernels[Prims.Eq] = Compare<EqOp<float>, EqOp<double>, EqOp<int>, EqOp<uint>, EqOp<byte>>();
        Kernels[Prims.Ne] = Compare<NeOp<float>, NeOp<double>, NeOp<int>, NeOp<uint>, NeOp<byte>>();
        Kernels[Prims.Lt] = Compare<LtOp<float>, LtOp<double>, LtOp<int>, LtOp<uint>, LtOp<byte>>();
        Kernels[Prims.Le] = Compare<LeOp<float>, LeOp<double>, LeOp<int>, LeOp<uint>, LeOp<byte>>();
        Kernels[Prims.Gt] = Compare<GtOp<float>, GtOp<double>, GtOp<int>, GtOp<uint>, GtOp<byte>>();
        Kernels[Prims.Ge] = Compare<GeOp<float>, GeOp<double>, GeOp<int>, GeOp<uint>, GeOp<byte>>();

        Kernels[Prims.Select] = (p, ins, outs, it, ot) => Drivers.Select(ins[0], ins[1], ins[2], outs[0]);
    }

    // The type rules have already rejected dtypes an op does not accept, so the unused slots of
    // the generic helpers below are never reached.
    static CpuKernel Arith<TF, TD, TI, TU, TB>()
        where TF : IBinaryOp<float> where TD : IBinaryOp<double> where TI : IBinaryOp<int>
        where TU : IBinaryOp<uint> where TB : IBinaryOp<byte>
        => (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Float32: Drivers.Binary<TF, float>(ins[0], ins[1], outs[0]); break;
                case DType.Float64: Drivers.Binary<TD, double>(ins[0], ins[1], outs[0]); break;
                case DType.Float16 or DType.BFloat16: Drivers.BinaryViaFloat<TF>(ins[0], ins[1], outs[0]); break;
                case DType.Int32: Drivers.Binary<TI, int>(ins[0], ins[1], outs[0]); break;
                case DType.UInt32: Drivers.Binary<TU, uint>(ins[0], ins[1], outs[0]); break;
                default: Drivers.Binary<TB, byte>(ins[0], ins[1], outs[0]); break; // uint8, bool
            }
        };

    static CpuKernel Shift<TI, TB>() where TI : IBinaryOp<int> where TB : IBinaryOp<byte>
        => (p, ins, outs, it, ot) =>
        {
            if (ins[0].DType == DType.UInt8) Drivers.Binary<TB, byte>(ins[0], ins[1], outs[0]);
            else Drivers.Binary<TI, int>(ins[0], ins[1], outs[0]);
        };

    static CpuKernel Compare<TF, TD, TI, TU, TB>()
        where TF : IComparison<float> where TD : IComparison<double> where TI : IComparison<int>
        where TU : IComparison<uint> where TB : IComparison<byte>
        => (p, ins, outs, it, ot) =>
        {
            switch (ins[0].DType)
            {
                case DType.Float32: Drivers.Compare<TF, float>(ins[0], ins[1], outs[0]); break;
                case DType.Float64: Drivers.Compare<TD, double>(ins[0], ins[1], outs[0]); break;
                case DType.Float16 or DType.BFloat16: Drivers.CompareViaFloat<TF>(ins[0], ins[1], outs[0]); break;
                case DType.Int32: Drivers.Compare<TI, int>(ins[0], ins[1], outs[0]); break;
                case DType.UInt32: Drivers.Compare<TU, uint>(ins[0], ins[1], outs[0]); break;
                default: Drivers.Compare<TB, byte>(ins[0], ins[1], outs[0]); break;
            }
        };
}
