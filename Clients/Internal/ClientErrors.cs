using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client.Internal;

/// <summary>Every message a client shows a user about its connection, built in one place.</summary>
internal static class ClientErrors
{
    public static CapabilityNotFoundException NoCapabilityFile(string iface, IReadOnlyList<string> searched) =>
        new($"no {iface}.cap file found (looked in: {string.Join(", ", searched)}). " +
            $"Start a controller with `capcluster start`, or pass the path of a copied {iface}.cap file.",
            searched);

    public static CapClusterException FromRpc(RpcException e, CapabilityFile capability, string capabilityPath)
    {
        var detail = e.Status.Detail;
        if (Refusals.Read(e) is { } refusal)
        {
            return Refused($"the controller refused {capabilityPath}: {refusal.Reason}", refusal, e);
        }

        return e.StatusCode switch
        {
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new CapabilityRefusedException(
                $"the controller refused {capabilityPath}: {detail}", e.StatusCode, detail, e),
            StatusCode.Unavailable when ChannelFailures.LostDuringCall(e) => new ControllerUnreachableException(
                $"lost the connection to the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath}: {detail}. " +
                "The controller stopped, or closed the connection: it does so at once when a capability is revoked or expires, " +
                "and the next call says which. If it stopped, start it again (`capcluster start`).", e),
            StatusCode.Unavailable => new ControllerUnreachableException(
                $"cannot reach the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath}: {detail}. " +
                "Is it running? Start it with `capcluster start`, or check that this host can reach that address.", e),
            _ => new ControllerCallException($"the controller answered {e.StatusCode}: {detail}", e.StatusCode, e),
        };
    }

    /// <summary>What the controller refused, as it said it (a call's trailer, or a session call's result).</summary>
    public static CapabilityRefusedException Refused(string message, Refusal refusal, Exception? inner = null) =>
        new(message, refusal.Kind switch
        {
            RefusalKind.Certificate or RefusalKind.Capability => StatusCode.Unauthenticated,
            RefusalKind.Budget => StatusCode.ResourceExhausted,
            _ => StatusCode.PermissionDenied,
        }, refusal.Reason, inner, refusal.Kind);

    /// <summary>A long-lived stream to the controller broke with a transport error rather than a gRPC status.</summary>
    public static ControllerUnreachableException SessionLost(Exception failure, CapabilityFile capability, string capabilityPath) =>
        new($"lost the connection to the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath}: " +
            $"{failure.Message}. The next call reconnects when the controller is back.", failure);

    /// <summary>
    /// A call made on, or still waiting on, a client that was disposed. The engines go on with a call already sent: leaving
    /// never waits for their work.
    /// </summary>
    public static ObjectDisposedException Disposed(string client, IReadOnlyList<int>? engines) =>
        new(client, $"the {client} was disposed: no answer from {Engines(engines)} will come to it. " +
            "A call already sent goes on there; another client's GetResultAsync (or %result in a new console) shows its output.");

    /// <summary>A task the controller no longer knows after a reconnection.</summary>
    public static TaskLostException TaskLost(long taskId, ControllerCallException answer, CapabilityFile capability) =>
        new(taskId,
            $"task {taskId} was lost with the controller: after the connection to {string.Join(", ", capability.Url.Locations)} was lost, " +
            $"the controller no longer knows it ({answer.Message}). It was cleared or evicted, or the controller was restarted without its task journal (--no-journal, or another --journal-folder); submit it again.",
            answer);

    /// <summary>A submission written to a stream that broke before the controller acknowledged it.</summary>
    public static TaskLostException Unacknowledged(Exception error) =>
        new(0, $"the task was sent but not acknowledged before the connection to the controller was lost; it may not have been queued " +
            $"and is not sent again (that could run it twice): {error.Message}", error);

    /// <summary>The controller stayed out of reach for the whole reconnection timeout.</summary>
    public static ControllerUnreachableException GaveUp(Exception last, TimeSpan waited, CapabilityFile capability, string capabilityPath) =>
        new($"the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath} has been out of reach for " +
            $"{waited.TotalSeconds:0.#} s (ReconnectOptions.Timeout); last error: {last.Message}", last);

    private static string Engines(IReadOnlyList<int>? engines) =>
        engines is null ? "the engines" : $"engine(s) {string.Join(", ", engines)}";
}
