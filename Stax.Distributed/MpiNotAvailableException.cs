namespace Stax.Distributed;

/// <summary>Thrown when no usable MPI library is present: the message reads "MPI not available: reason".</summary>
public sealed class MpiNotAvailableException : Exception
{
    /// <summary>Creates the exception with the reason MPI cannot be used.</summary>
    public MpiNotAvailableException(string reason, Exception? inner = null) : base($"MPI not available: {reason}", inner) => Reason = reason;

    /// <summary>Why MPI cannot be used (without the "MPI not available: " prefix).</summary>
    public string Reason { get; }
}
