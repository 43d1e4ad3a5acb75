using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Internal;

/// <summary>Every log message of the server and channel around grpc-dotnet, with stable event ids.</summary>
internal static partial class GrpcLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening for gRPC on {Endpoint} for the {Name} port")]
    public static partial void Listening(ILogger logger, string name, string endpoint);

    [LoggerMessage(2, LogLevel.Debug, "Refused a {HttpMethod} request for {Path}: {Reason}")]
    public static partial void RefusedRequest(ILogger logger, string httpMethod, string path, string reason);

    [LoggerMessage(3, LogLevel.Debug, "Call {Method} from {Peer} was refused by the authorizer: {StatusCode}")]
    public static partial void AuthorizerRefused(ILogger logger, string method, string peer, StatusCode statusCode);

    [LoggerMessage(5, LogLevel.Error, "Call {Method} from {Peer} failed with an unexpected exception; the caller sees UNKNOWN")]
    public static partial void HandlerFailed(ILogger logger, string method, string peer, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Call {Method} from {Peer} was cancelled by the client")]
    public static partial void CallCancelled(ILogger logger, string method, string peer);

    [LoggerMessage(9, LogLevel.Information, "Aborting connection {ConnectionId} from {Peer} at the server's request")]
    public static partial void AbortingConnection(ILogger logger, string connectionId, string peer);

    [LoggerMessage(10, LogLevel.Debug, "Could not connect to {Endpoint}: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(11, LogLevel.Debug, "Connected to {Endpoint} ({Protocol})")]
    public static partial void Connected(ILogger logger, string endpoint, string protocol);

    [LoggerMessage(13, LogLevel.Information, "Stopping the gRPC server")]
    public static partial void Stopping(ILogger logger);
}
