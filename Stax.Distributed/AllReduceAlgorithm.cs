namespace Stax.Distributed;

/// <summary>How sums, maxima and minima across processes are computed.</summary>
public enum AllReduceAlgorithm
{
    /// <summary>
    /// One <c>MPI_Iallreduce</c>. With two processes the result is one IEEE addition, which is
    /// commutative, so both get the same bits; with more, Open MPI's algorithms (ring, recursive
    /// doubling, Rabenseifner) give every rank the same bits in practice, but the MPI standard does
    /// not promise it.
    /// </summary>
    MpiAllreduce,

    /// <summary>
    /// <c>MPI_Ireduce</c> to rank 0, then <c>MPI_Ibcast</c> of rank 0's result: identical bits on every
    /// rank by construction, at roughly twice the traffic of an allreduce for large buffers.
    /// </summary>
    ReduceBroadcast,
}
