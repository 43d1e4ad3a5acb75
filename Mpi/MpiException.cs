namespace CapCluster.Mpi;

/// <summary>
/// An MPI call failed, or the binding refused a call before making it. The message names the MPI function
/// and carries the library's own error text (from <c>MPI_Error_string</c>).
/// </summary>
public class MpiException : CapClusterException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="function">The MPI function that failed, or <c>null</c> (the default) when no call was made.</param>
    /// <param name="errorCode">The MPI return code, or 0 (the default) when no call was made.</param>
    /// <param name="inner">The underlying cause, or <c>null</c> (the default).</param>
    public MpiException(string message, string? function = null, int errorCode = 0, Exception? inner = null)
        : base(message, inner)
    {
        Function = function;
        ErrorCode = errorCode;
    }

    /// <summary>The MPI function that failed (for example <c>MPI_Send</c>), or <c>null</c>.</summary>
    public string? Function { get; }

    /// <summary>The error code the MPI library returned, or 0 when the binding refused the call itself.</summary>
    public int ErrorCode { get; }
}
