namespace Stax.Backends.Cpu.Gemm;

/// <summary>
/// Work that a GEMM runs on each block of C as soon as the block is final (after its last K
/// pass, while it is still in cache), instead of a separate pass over the whole of C later. The
/// GEMM calls it for disjoint blocks that together cover C exactly once, possibly from several
/// threads at a time; the work must therefore depend only on the elements of the block.
/// </summary>
internal abstract class GemmEpilogue
{
    /// <summary>Rows [<paramref name="i0"/>, i0 + rows) and columns [<paramref name="j0"/>, j0 + cols) of C are final.</summary>
    public abstract void Run(int i0, int rows, int j0, int cols);
}
