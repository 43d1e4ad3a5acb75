using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace CapCluster.Protocol.Internal;

/// <summary>The one terminal middleware: checks the request, authorizes, dispatches on the path, writes the status.</summary>
internal sealed class GrpcDispatcher(GrpcRouter router, ServerRuntime runtime)
{
    private const string GenericHandlerError = "the server failed to process the call (see the server log)";

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        var path = request.Path.Value ?? string.Empty;
        if (!HttpMethods.IsPost(request.Method))
        {
            GrpcLog.RefusedRequest(runtime.Logger, request.Method, path, "not POST");
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            http.Response.Headers.Allow = "POST";
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            GrpcLog.RefusedRequest(runtime.Logger, request.Method, path, "content-type is not application/grpc");
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        // Lifted per request as well as globally: a long idle duplex stream or a huge message must not be cut.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;
        http.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = "identity";

        var context = new ServerCallContext(http, runtime, path);
        try
        {
            var status = await RunAsync(http, context, path).ConfigureAwait(false);
            if (status is { } s && !context.ClientGone)
            {
                WriteStatus(http, s, context.ResponseStarted);
            }
        }
        finally
        {
            context.Release();
        }
    }

    private async Task<Status?> RunAsync(HttpContext http, ServerCallContext context, string path)
    {
        try
        {
            if (runtime.Authorizer is { } authorizer)
            {
                try
                {
                    await authorizer.AuthorizeAsync(context).ConfigureAwait(false);
                }
                catch (RpcException ex)
                {
                    GrpcLog.AuthorizerRefused(runtime.Logger, path, context.Peer, ex.StatusCode);
                    if (runtime.Connections.IsCertificateLess(context.ConnectionId))
                    {
                        // Nothing on a connection without a certificate can be allowed: close it once the refusal is out
                        // (a moment later: a completed response may still sit in the connection's output).
                        var connectionId = context.ConnectionId;
                        http.Response.OnCompleted(() =>
                        {
                            _ = Task.Delay(ConnectionRegistry.RefusedCloseDelay).ContinueWith(
                                _ => runtime.Connections.RequestClose(connectionId), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                            return Task.CompletedTask;
                        });
                    }

                    return ex.Status;
                }
            }

            if (!router.TryGet(path, out var method))
            {
                GrpcLog.UnknownMethod(runtime.Logger, path, context.Peer);
                return new Status(StatusCode.Unimplemented, $"method {path} is not implemented by this server");
            }

            await method.RunAsync(http, context, runtime).ConfigureAwait(false);
            return Status.DefaultSuccess;
        }
        catch (Exception ex)
        {
            return MapException(ex, context, path);
        }
    }

    private Status? MapException(Exception ex, ServerCallContext context, string path)
    {
        if (context.ClientGone)
        {
            GrpcLog.CallCancelled(runtime.Logger, path, context.Peer);
            return null;
        }

        if (context.DeadlineExceeded && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            GrpcLog.DeadlineExceeded(runtime.Logger, path, context.Peer);
            return new Status(StatusCode.DeadlineExceeded, "the deadline passed before the call completed");
        }

        if (ex is RpcException rpc)
        {
            GrpcLog.CallFailed(runtime.Logger, path, context.Peer, rpc.StatusCode);
            return rpc.Status;
        }

        if (context.ServerStopping && ex is OperationCanceledException)
        {
            return new Status(StatusCode.Unavailable, "the server is shutting down");
        }

        GrpcLog.HandlerFailed(runtime.Logger, path, context.Peer, ex);
        return new Status(StatusCode.Unknown, GenericHandlerError);
    }

    private static void WriteStatus(HttpContext http, Status status, bool responseStarted)
    {
        var code = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var response = http.Response;
        if (!response.HasStarted && !responseStarted)
        {
            // Trailers-Only: the status goes in the only HEADERS frame, which ends the stream.
            response.Headers[GrpcProtocol.StatusHeader] = code;
            if (!string.IsNullOrEmpty(status.Detail))
            {
                response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(status.Detail);
            }

            return;
        }

        response.AppendTrailer(GrpcProtocol.StatusHeader, code);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.AppendTrailer(GrpcProtocol.MessageHeader, GrpcProtocol.EncodeMessage(status.Detail));
        }
    }
}
