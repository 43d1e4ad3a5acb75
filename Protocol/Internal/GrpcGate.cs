using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The middleware in front of every gRPC endpoint, known method or not: it makes the call's
/// <see cref="CallContext"/> and runs the <see cref="ICallAuthorizer"/>. A refusal is written here as a
/// Trailers-Only response, so no gRPC handler (nor grpc-dotnet's UNIMPLEMENTED answer) runs for it.
/// </summary>
internal sealed class GrpcGate(ServerRuntime runtime)
{
    public static readonly object CallKey = new();

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        if (!HttpMethods.IsPost(http.Request.Method) || !GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            GrpcLog.RefusedRequest(runtime.Logger, http.Request.Method, path, "not a gRPC request (POST with content-type application/grpc)");
            http.Response.StatusCode = HttpMethods.IsPost(http.Request.Method) ? StatusCodes.Status415UnsupportedMediaType : StatusCodes.Status405MethodNotAllowed;
            return;
        }

        var call = new CallContext(http, runtime, path);
        try
        {
            if (runtime.Authorizer is { } authorizer)
            {
                try
                {
                    await authorizer.AuthorizeAsync(call).ConfigureAwait(false);
                }
                catch (RpcException ex)
                {
                    Refuse(http, call, ex.Status, ex.Trailers);
                    return;
                }
            }

            http.Items[CallKey] = call;
            try
            {
                await next(http).ConfigureAwait(false);
                if (runtime.Authorizer is { } told && EndStatus(http) is { StatusCode: StatusCode.InvalidArgument or StatusCode.Unknown or StatusCode.Internal } failed)
                {
                    told.CallFailed(call, failed);
                }
            }
            finally
            {
                runtime.Authorizer?.CallEnded(call);
            }
        }
        finally
        {
            call.Release();
        }
    }

    /// <summary>The status a handled call ended with: in its trailers, or in its headers for a Trailers-Only response.</summary>
    private static Status? EndStatus(HttpContext http)
    {
        var trailers = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        var code = trailers?[GrpcProtocol.StatusHeader] is { Count: > 0 } inTrailers ? inTrailers.ToString() : http.Response.Headers[GrpcProtocol.StatusHeader].ToString();
        if (!int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status))
        {
            return null;
        }

        var message = trailers?[GrpcProtocol.MessageHeader] is { Count: > 0 } detail ? detail.ToString() : http.Response.Headers[GrpcProtocol.MessageHeader].ToString();
        return new Status((StatusCode)status, Uri.UnescapeDataString(message));
    }

    private void Refuse(HttpContext http, CallContext call, Status status, Metadata trailers)
    {
        GrpcLog.AuthorizerRefused(runtime.Logger, call.Method, call.Peer, status.StatusCode);
        if (runtime.Connections.IsCertificateLess(call.ConnectionId))
        {
            // Nothing on a connection without a certificate can be allowed: close it once the refusal is out
            // (a moment later: a completed response may still sit in the connection's output).
            var connectionId = call.ConnectionId;
            http.Response.OnCompleted(() =>
            {
                _ = Task.Delay(ConnectionRegistry.RefusedCloseDelay).ContinueWith(
                    _ => runtime.Connections.RequestClose(connectionId), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                return Task.CompletedTask;
            });
        }

        // Trailers-Only: the status goes in the only HEADERS frame, which ends the stream.
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.StatusHeader] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(status.Detail);
        }

        foreach (var entry in trailers)
        {
            // Binary entries ("-bin") travel base64-encoded, as gRPC says.
            response.Headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }
}
