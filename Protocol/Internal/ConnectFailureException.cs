namespace CapCluster.Protocol.Internal;

/// <summary>
/// A connection could not be made or was refused, with the status the caller should see. An
/// IOException so SocketsHttpHandler treats it as a network failure and keeps it as inner exception.
/// </summary>
internal sealed class ConnectFailureException(Status status, Exception? innerException = null)
    : IOException(status.Detail, innerException)
{
    public Status Status { get; } = status;
}
