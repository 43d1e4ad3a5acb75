using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace CapCluster.Protocol.Internal;

/// <summary>Turns Kestrel's bind failures into <see cref="GrpcBindException"/> with a reason and advice.</summary>
internal static class BindErrors
{
    public static GrpcBindException Create(IReadOnlyList<GrpcEndpoint> endpoints, Exception ex)
    {
        var text = string.Join(" | ", Chain(ex).Select(e => e.Message));
        var endpoint = endpoints.FirstOrDefault(e => text.Contains(new IPEndPoint(e.Address, e.Port).ToString(), StringComparison.Ordinal))
            ?? endpoints[0];
        var option = "--" + endpoint.Name + "-port";
        var chain = Chain(ex).ToList();
        if (chain.Any(e => e is AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }))
        {
            return new GrpcBindException(endpoint, "the port is already in use", $"pick another {option}, or stop what holds it", ex);
        }

        if (chain.Any(e => e is SocketException { SocketErrorCode: SocketError.AddressNotAvailable }))
        {
            return new GrpcBindException(endpoint, "that address does not belong to this machine", "listen on one of this machine's addresses", ex);
        }

        if (chain.Any(e => e is SocketException { SocketErrorCode: SocketError.AccessDenied }))
        {
            return new GrpcBindException(endpoint, "permission denied", $"pick a {option} above 1023", ex);
        }

        return new GrpcBindException(endpoint, chain[^1].Message, "check the address and port", ex);
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
