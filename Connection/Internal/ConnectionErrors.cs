using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Connection.Internal;

/// <summary>Every message a connection shows a user about reaching the controller, built in one place.</summary>
internal static class ConnectionErrors
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
            return CapabilityRefusedException.From($"the controller refused {capabilityPath}: {refusal.Reason}", refusal, e);
        }

        return e.StatusCode switch
        {
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new CapabilityRefusedException(
                $"the controller refused {capabilityPath}: {detail}", e.StatusCode, detail, e),
            StatusCode.Unavailable when ChannelFailures.LostDuringCall(e) => new ControllerUnreachableException(
                $"lost the connection to the controller at {Locations(capability)} named in {capabilityPath}: {detail}. " +
                "The controller stopped, or closed the connection: it does so at once when a capability is revoked or expires, " +
                "and the next call says which. If it stopped, `capcluster status` says what still runs; a controller that died " +
                "starts again on its ports, where its engines and clients find it, with `capcontroller --reuse`.", e)
            {
                Controller = Locations(capability),
                CapabilityPath = capabilityPath,
                ConnectionLost = true,
            },
            StatusCode.Unavailable => new ControllerUnreachableException(
                $"cannot reach the controller at {Locations(capability)} named in {capabilityPath}: {detail}. " +
                "Is it running? `capcluster status` says; a controller that died starts again on its ports with " +
                "`capcontroller --reuse`, and none is started with `capcluster start`. Or check that this host can reach that address.", e)
            {
                Controller = Locations(capability),
                CapabilityPath = capabilityPath,
            },
            StatusCode.FailedPrecondition => new ControllerCallException(
                $"the controller at {Locations(capability)} is running but cannot serve this call until something on its host is mended: {detail}", e.StatusCode, e),
            _ => new ControllerCallException($"the controller answered {e.StatusCode}: {detail}", e.StatusCode, e),
        };
    }

    /// <summary>A long-lived stream to the controller broke with a transport error rather than a gRPC status.</summary>
    public static ControllerUnreachableException StreamLost(Exception failure, CapabilityFile capability, string capabilityPath) =>
        new($"lost the connection to the controller at {Locations(capability)} named in {capabilityPath}: " +
            $"{failure.Message}. The next call reconnects when the controller is back.", failure)
        {
            Controller = Locations(capability),
            CapabilityPath = capabilityPath,
            ConnectionLost = true,
        };

    /// <summary>The controller stayed out of reach for the whole reconnection timeout.</summary>
    public static ControllerUnreachableException GaveUp(Exception last, TimeSpan waited, CapabilityFile capability, string capabilityPath) =>
        new($"the controller at {Locations(capability)} named in {capabilityPath} has been out of reach for " +
            $"{waited.TotalSeconds:0.#} s (ReconnectOptions.Timeout); last error: {last.Message}", last)
        {
            Controller = Locations(capability),
            CapabilityPath = capabilityPath,
        };

    /// <summary>The controller's addresses as the capability names them, as messages show them: <c>host:port, host:port</c>.</summary>
    public static string Locations(CapabilityFile capability) => string.Join(", ", capability.Url.Locations);
}
