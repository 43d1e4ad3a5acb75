using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol;

/// <summary>What a failed <see cref="GrpcChannel"/> call says about the connection under it, for callers deciding whether to try again.</summary>
public static class ChannelFailures
{
    /// <summary>
    /// True when <paramref name="e"/> is a failure to open a connection at all (refused, or no answer): nothing reached
    /// the server, so the call can be tried again. A refused certificate or a server that is not the one expected is
    /// not such a failure: trying again cannot help.
    /// </summary>
    public static bool NeverReached(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        ConnectFailureException? innermost = null;
        foreach (var inner in Causes(e))
        {
            if (inner is ConnectFailureException connect)
            {
                innermost = connect;
            }
        }

        return innermost?.InnerException is System.Net.Sockets.SocketException or OperationCanceledException;
    }

    /// <summary>True when the call had a connection and lost it: a failure on this side that is not a failure to connect.</summary>
    public static bool LostDuringCall(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Status.DebugException is not null && !Causes(e).Any(inner => inner is ConnectFailureException);
    }

    /// <summary>
    /// True when <paramref name="e"/> failed a stream's write because the other end had closed the connection before it:
    /// the message was not sent, and the other end never saw it, so it may be sent again on another stream. (A write
    /// that left before the connection broke is not such a failure: it may or may not have been read.)
    /// </summary>
    public static bool NotSent(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Causes(e).Any(inner => inner is MessageNotSentException);
    }

    /// <summary>
    /// <paramref name="e"/> and its causes, innermost last: inner exceptions, and the client-side failure a gRPC
    /// status carries as its debug exception (the server's statuses carry none).
    /// </summary>
    private static IEnumerable<Exception> Causes(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner is RpcException rpc ? rpc.Status.DebugException ?? rpc.InnerException : inner.InnerException)
        {
            yield return inner;
        }
    }
}
