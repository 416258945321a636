namespace Stax.Backends.Cpu;

/// <summary>A CPU kernel: reads inputs, writes the pre-allocated outputs.</summary>
internal delegate void CpuKernel(Params parameters, CpuBuffer[] inputs, CpuBuffer[] outputs,
    AbstractValue[] inputTypes, AbstractValue[] outputTypes);
