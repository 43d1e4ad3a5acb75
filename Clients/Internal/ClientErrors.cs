using CapCluster.Protocol;
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
        return e.StatusCode switch
        {
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new CapabilityRefusedException(
                $"the controller refused {capabilityPath}: {Reason(detail)}", e.StatusCode, Reason(detail), e),
            StatusCode.Unavailable when LostDuringCall(e) => new ControllerUnreachableException(
                $"lost the connection to the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath}: {detail}. " +
                "The controller stopped, or closed the connection: it does so at once when a capability is revoked or expires, " +
                "and the next call says which. If it stopped, start it again (`capcluster start`).", e),
            StatusCode.Unavailable => new ControllerUnreachableException(
                $"cannot reach the controller at {string.Join(", ", capability.Url.Locations)} named in {capabilityPath}: {detail}. " +
                "Is it running? Start it with `capcluster start`, or check that this host can reach that address.", e),
            _ => new ControllerCallException($"the controller answered {e.StatusCode}: {detail}", e.StatusCode, e),
        };
    }

    /// <summary>True when the call had a connection and lost it (a transport error that is not a failure to connect).</summary>
    private static bool LostDuringCall(RpcException e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is Protocol.Internal.ConnectFailureException)
            {
                return false;
            }
        }

        return e.InnerException is not null;
    }

    private static string Reason(string detail)
    {
        const string prefix = "refused by the controller: ";
        return detail.StartsWith(prefix, StringComparison.Ordinal) ? detail[prefix.Length..] : detail;
    }
}
