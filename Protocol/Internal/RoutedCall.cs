using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>The one gRPC service every <see cref="GrpcRouter"/> method belongs to (its handlers are the router's delegates).</summary>
public sealed class RoutedService
{
}

/// <summary>Adds the router's methods to grpc-dotnet's model of <see cref="RoutedService"/>.</summary>
internal sealed class RoutedMethodProvider(GrpcRouter router, ServerRuntime runtime) : IServiceMethodProvider<RoutedService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<RoutedService> context) => router.AddTo(context, runtime);
}

/// <summary>
/// Runs a routed handler once the <see cref="CallContext"/> the gate made is bound to the call (where
/// <see cref="CallContext.Of"/> finds it), and gives its failures a status.
/// </summary>
internal static class RoutedCall
{
    private const string GenericHandlerError = "the server failed to process the call (see the server log)";

    /// <summary>
    /// How long a failed read waits for the call's cancellation before it counts as the handler's failure. Kestrel
    /// fails the read of a stream the client reset at once, but cancels the call from the thread pool: on a busy
    /// machine the read's <see cref="IOException"/> comes first (1 in 24 calls beside eight busy loops, 2026-12-06).
    /// </summary>
    private static readonly TimeSpan ResetGrace = TimeSpan.FromSeconds(1);

    public static async Task<T> RunAsync<T>(ServerRuntime runtime, ServerCallContext grpc, Func<Task<T>> handler)
    {
        var call = Bind(grpc);
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            if (ex is IOException)
            {
                await WhenCancelled(call.CancellationToken, ResetGrace).ConfigureAwait(false);
            }

            throw Failure(runtime, call, ex);
        }
    }

    public static Task RunAsync(ServerRuntime runtime, ServerCallContext grpc, Func<Task> handler) =>
        RunAsync(runtime, grpc, async () =>
        {
            await handler().ConfigureAwait(false);
            return true;
        });

    private static async Task WhenCancelled(CancellationToken token, TimeSpan atMost)
    {
        try
        {
            await Task.Delay(atMost, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Cancelled: the client went away (or the deadline passed), which is what the failure was.
        }
    }

    private static CallContext Bind(ServerCallContext grpc)
    {
        // The gate made it for every call it let through; a call the gate did not see cannot be served.
        var call = grpc.GetHttpContext().Items[GrpcGate.CallKey] as CallContext
            ?? throw new RpcException(new Status(StatusCode.Internal, "the call was not authorized"));
        call.Bind(grpc.Deadline, grpc.CancellationToken);
        grpc.UserState[CallContext.UserStateKey] = call;
        return call;
    }

    private static RpcException Failure(ServerRuntime runtime, CallContext call, Exception ex)
    {
        if (ex is OperationCanceledException && call.ServerStopping)
        {
            return new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down"));
        }

        if (ex is OperationCanceledException or IOException && call.CancellationToken.IsCancellationRequested)
        {
            // The client went away (a reset stream fails a read that does not watch the token with an IOException) or the
            // deadline passed: grpc-dotnet reports which.
            GrpcLog.CallCancelled(runtime.Logger, call.Method, call.Peer);
            return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }

        GrpcLog.HandlerFailed(runtime.Logger, call.Method, call.Peer, ex);
        return new RpcException(new Status(StatusCode.Unknown, GenericHandlerError));
    }
}
