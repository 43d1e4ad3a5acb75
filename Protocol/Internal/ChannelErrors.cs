using System.Net.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// Statuses that say what happened to a call that failed on the client's side (grpc-dotnet reports those as
/// "Error starting gRPC call. HttpRequestException: ..."), with the failure kept as the status's debug exception.
/// Statuses the server sent pass unchanged.
/// </summary>
internal static class ChannelErrors
{
    /// <param name="e">The failure grpc-dotnet reported.</param>
    /// <param name="method">The method, for messages.</param>
    /// <param name="target">The server, for messages.</param>
    /// <param name="asked">The caller's cancellation: a CANCELLED it did not ask for is a lost connection.</param>
    public static RpcException Translate(RpcException e, string method, ChannelTarget target, CancellationToken asked)
    {
        if (e.Status.DebugException is not { } cause
            || e.StatusCode is StatusCode.DeadlineExceeded
            || (e.StatusCode is StatusCode.Cancelled && asked.IsCancellationRequested))
        {
            return e;
        }

        return new RpcException(Map(cause, method, target), e.Trailers);
    }

    /// <summary>A failure grpc-dotnet threw as it is (an IOException from a request stream's write), as a status that says what happened.</summary>
    public static RpcException FromFailure(Exception cause, string method, ChannelTarget target) => new(Map(cause, method, target));

    private static Status Map(Exception cause, string method, ChannelTarget target)
    {
        for (var e = cause; e is not null; e = e.InnerException)
        {
            if (e is ConnectFailureException connect)
            {
                return new Status(connect.Status.StatusCode, connect.Status.Detail, cause);
            }

            if (e is HttpProtocolException protocol)
            {
                return protocol.ErrorCode switch
                {
                    0x8 => new Status(StatusCode.Cancelled, $"the server cancelled {method}", cause),
                    0x7 => new Status(StatusCode.Unavailable, $"the server refused the stream for {method}; retry", cause),
                    0xb => new Status(StatusCode.ResourceExhausted, $"the server asked to slow down (ENHANCE_YOUR_CALM) on {method}", cause),
                    _ => new Status(StatusCode.Unavailable, $"the connection to {target} failed during {method}: HTTP/2 error code {protocol.ErrorCode}", cause),
                };
            }
        }

        if (cause is HttpRequestException { InnerException: null } && target.Refusal is { } refused)
        {
            // A new connection the server closed before accepting our certificate, whose cause the handler dropped.
            return new Status(refused.Status.StatusCode, refused.Status.Detail, cause);
        }

        if (cause is HttpRequestException or IOException or OperationCanceledException)
        {
            var innermost = cause;
            while (innermost.InnerException is not null)
            {
                innermost = innermost.InnerException;
            }

            return new Status(StatusCode.Unavailable, $"the connection to {target} was lost during {method} ({innermost.Message})", cause);
        }

        return new Status(StatusCode.Unknown, $"{method} failed on the client: {cause.GetType().Name}: {cause.Message}", cause);
    }
}

/// <summary>A call's response stream whose failures say what happened (<see cref="ChannelErrors"/>).</summary>
internal sealed class TranslatingReader<T>(IAsyncStreamReader<T> inner, string method, ChannelTarget target, CancellationToken asked) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        var next = inner.MoveNext(cancellationToken);
        return next.IsCompletedSuccessfully ? next : Await(next, cancellationToken);
    }

    private async Task<bool> Await(Task<bool> next, CancellationToken cancellationToken)
    {
        try
        {
            return await next.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw ChannelErrors.Translate(e, method, target, cancellationToken.IsCancellationRequested ? cancellationToken : asked);
        }
    }
}

/// <summary>
/// A call's request stream whose failures say what happened (<see cref="ChannelErrors"/>): when the server has
/// already ended the call, a write fails with the server's status, as reading the response does.
/// </summary>
internal sealed class TranslatingWriter<T>(IClientStreamWriter<T> inner, string method, ChannelTarget target, Func<Status> finalStatus, CancellationToken asked) : IClientStreamWriter<T>
{
    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public Task WriteAsync(T message) => Guard(static (w, m) => w.WriteAsync(m), message);

    public Task WriteAsync(T message, CancellationToken cancellationToken) =>
        Guard(static (w, a) => w.WriteAsync(a.message, a.cancellationToken), (message, cancellationToken));

    public Task CompleteAsync() => Guard(static (w, _) => w.CompleteAsync(), 0);

    /// <summary>grpc-dotnet can throw a write's failure before it returns a task; either way it fails the task.</summary>
    private Task Guard<TState>(Func<IClientStreamWriter<T>, TState, Task> write, TState state)
    {
        try
        {
            return Check(write(inner, state));
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            return Task.FromException(Failure(e));
        }
    }

    private Task Check(Task task) => task.IsCompletedSuccessfully ? task : Await(task);

    private async Task Await(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            throw Failure(e);
        }
    }

    /// <summary>
    /// The server's status when it already ended the call; otherwise what happened on the client. grpc-dotnet throws a
    /// write's IOException as it is (a connection reset under the request stream), sometimes before returning a task.
    /// </summary>
    private RpcException Failure(Exception e) =>
        ServerStatus() is { } status ? new RpcException(status)
        : e is RpcException rpc ? ChannelErrors.Translate(rpc, method, target, asked)
        : ChannelErrors.FromFailure(e, method, target);

    private Status? ServerStatus()
    {
        try
        {
            var status = finalStatus();
            return status.StatusCode == StatusCode.OK || status.DebugException is not null ? null : status;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
