namespace CapCluster.Protocol;

/// <summary>
/// A call ended with a status other than <see cref="StatusCode.OK"/>. Thrown on the client
/// when a call fails; thrown by a server handler or <see cref="ICallAuthorizer"/> to end a call
/// with that status.
/// </summary>
public class RpcException : Exception
{
    /// <summary>Creates an exception carrying <paramref name="status"/>.</summary>
    public RpcException(Status status)
        : base(FormatMessage(status))
    {
        Status = status;
    }

    /// <summary>Creates an exception carrying <paramref name="status"/> and the local cause.</summary>
    public RpcException(Status status, Exception? innerException)
        : base(FormatMessage(status), innerException)
    {
        Status = status;
    }

    /// <summary>The status of the call.</summary>
    public Status Status { get; }

    /// <summary>The status code of the call.</summary>
    public StatusCode StatusCode => Status.StatusCode;

    private static string FormatMessage(Status status) =>
        string.IsNullOrEmpty(status.Detail)
            ? $"Status(StatusCode=\"{status.StatusCode}\")"
            : $"Status(StatusCode=\"{status.StatusCode}\", Detail=\"{status.Detail}\")";
}
