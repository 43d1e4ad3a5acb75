using System.Collections.Concurrent;
using CapCluster.Client.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Client.Internal;

/// <summary>
/// A client's long-lived call stream to the controller. A call is written whole, as its route says (see
/// <see cref="CallRoutes"/>: bulk values may travel besides the session), and completes when every target engine has
/// answered. The stream is opened on first use and again after it broke.
/// Disposal never waits on the engines: every call still waiting fails at once with
/// <see cref="ObjectDisposedException"/>, and the stream and routes get <see cref="GoodbyeTimeout"/> to close
/// before they are abandoned (their sockets close with the channel).
/// </summary>
internal sealed partial class ClientSession(ControllerConnection connection) : IAsyncDisposable
{
    // Created with the client, after ConnectAsync gave the connection its logger factory.
    private readonly ILogger logger = connection.LoggerFactory.CreateLogger(ClientLog.Category);

    /// <summary>
    /// How long disposal waits for the session's stream reader and its routes to close before it abandons them. 2 s.
    /// The calls in flight do not wait even that long: they fail as disposal starts.
    /// </summary>
    internal static readonly TimeSpan GoodbyeTimeout = TimeSpan.FromSeconds(2);

    private readonly CallRoutes routes = new(connection);
    private readonly SemaphoreSlim writeTurn = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCall> pending = new();
    private readonly CancellationTokenSource lifetime = new();
    private AsyncDuplexStreamingCall<SessionMessage, SessionMessage>? stream;
    private Task? reader;
    private long nextCallId;
    private int disposed;

    /// <summary>
    /// Sends a call to <paramref name="targets"/> (all engines when empty) and returns every engine's outcome,
    /// in the order they arrived. <paramref name="sent"/> runs once the blobs have been written out. A call that could
    /// not reach the controller (the session's connection could not be opened) is tried again as the connection's
    /// <see cref="ControllerConnection.Reconnect"/> says; one that was sent and lost its connection fails at once.
    /// </summary>
    public Task<IReadOnlyList<CallOutcome>> CallAsync(
        IReadOnlyList<int>? targets,
        EngineRequest request,
        IReadOnlyList<ReadOnlyMemory<byte>> blobs,
        Action? sent,
        CancellationToken cancellationToken) =>
        connection.ReconnectingAsync(ct => CallOnceAsync(targets, request, blobs, sent, ct), cancellationToken);

    private async Task<IReadOnlyList<CallOutcome>> CallOnceAsync(
        IReadOnlyList<int>? targets,
        EngineRequest request,
        IReadOnlyList<ReadOnlyMemory<byte>> blobs,
        Action? sent,
        CancellationToken cancellationToken)
    {
        ThrowIfDisposed(targets);
        var (chosen, route) = await routes.ChooseAsync(targets, request, blobs, cancellationToken).ConfigureAwait(false);
        var call = new PendingCall(chosen, route);
        long id = 0;
        try
        {
            await writeTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Ids are taken in the order calls are written: each engine then meets a route's transfers in id order.
                id = ++nextCallId;
                pending[id] = call;

                // After the entry, so that a disposal either sees this call (and fails it) or this sees the disposal.
                ThrowIfDisposed(chosen);
                var current = EnsureStream();
                var header = new EngineCall { CallId = id, Request = request };
                if (chosen is not null)
                {
                    header.Targets = new Targets { Ids = { chosen } };
                }

                foreach (var message in route.Write(header, blobs))
                {
                    await current.RequestStream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RpcException e)
            {
                Broken();
                throw connection.Translate(e);
            }
            finally
            {
                writeTurn.Release();
            }

            await route.SendAsync(id, request, blobs, call.Completion.Task, cancellationToken).ConfigureAwait(false);
            sent?.Invoke();
            using var registration = cancellationToken.Register(() => call.Completion.TrySetCanceled(cancellationToken));
            return await call.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            pending.TryRemove(id, out _);
            route.Release(id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        // Leaving never waits on the engines' work: whoever awaits a call learns now that no answer will come here.
        foreach (var call in pending.Values)
        {
            call.Completion.TrySetException(ClientErrors.Disposed(nameof(MultiEngineClient), call.Targets));
        }

        var goodbye = Task.Run(CloseAsync);
        try
        {
            await goodbye.WaitAsync(GoodbyeTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Abandoned: the channel's disposal (next, in the client) closes the connection under it.
            _ = goodbye.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    /// <summary>Ends the stream (RST_STREAM) and the routes, and waits for the reader to see it.</summary>
    private async Task CloseAsync()
    {
        await lifetime.CancelAsync().ConfigureAwait(false);
        Task? ending;
        await writeTurn.WaitAsync().ConfigureAwait(false);
        try
        {
            // Under the write turn: a call being written finishes its write (or fails it) first, and no stream opens after.
            ending = reader;
            Broken();
        }
        finally
        {
            writeTurn.Release();
        }

        if (ending is not null)
        {
            await ending.ConfigureAwait(false);
        }

        await routes.DisposeAsync().ConfigureAwait(false);
    }

    private void ThrowIfDisposed(IReadOnlyList<int>? targets)
    {
        if (Volatile.Read(ref disposed) == 1)
        {
            throw ClientErrors.Disposed(nameof(MultiEngineClient), targets);
        }
    }

    private AsyncDuplexStreamingCall<SessionMessage, SessionMessage> EnsureStream()
    {
        if (stream is not null)
        {
            return stream;
        }

        stream = connection.Channel.DuplexStreaming(CapClusterMethods.Session, new CallOptions(cancellationToken: lifetime.Token));
        reader = ReadAsync(stream);
        return stream;
    }

    private void Broken()
    {
        stream?.Dispose();
        stream = null;
    }

    private async Task ReadAsync(AsyncDuplexStreamingCall<SessionMessage, SessionMessage> current)
    {
        var results = new UnitReader<SessionMessage, ReceivedValues>(current.ResponseStream, head => CallRoute.ReceiverFor(head.Result), strict: false);
        Exception failure;
        try
        {
            while (await results.MoveNext(lifetime.Token).ConfigureAwait(false))
            {
                if (results.Current.Result is not { } result)
                {
                    continue;
                }

                if (CallRoute.BringsValuesBesides(result))
                {
                    _ = DeliverFromRouteAsync(result);
                }
                else
                {
                    Deliver(result, results.Blobs!);
                }
            }

            failure = new RpcException(new Status(StatusCode.Unavailable, "the controller closed the session"));
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // ObjectDisposedException: the stream was disposed (the client closing) between two reads.
            failure = e;
        }

        // Whatever was waiting on this stream will not be answered on it.
        await writeTurn.WaitAsync().ConfigureAwait(false);
        try
        {
            if (ReferenceEquals(stream, current))
            {
                Broken();
            }
        }
        finally
        {
            writeTurn.Release();
        }

        // A CANCELLED on this stream was not the controller's answer: the stream was torn down under the reader (disposed
        // after a failed write, or its connection closed by the controller, a revocation say). The session is lost, and
        // the next call opens another; a client that is closing has already failed its calls (DisposeAsync).
        var error = failure is RpcException { StatusCode: not StatusCode.Cancelled } rpc ? connection.Translate(rpc) : connection.Lost(failure);
        if (!lifetime.IsCancellationRequested)
        {
            ClientLog.SessionLost(logger, connection.Capability.CapabilityId, error.Message, pending.Count);
        }

        foreach (var call in pending.Values)
        {
            call.Completion.TrySetException(error);
        }
    }

    private void Deliver(CallResult result, ReceivedValues values)
    {
        if (!pending.TryGetValue(result.CallId, out var call))
        {
            return;
        }

        var outcome = new CallOutcome(
            result.EngineId,
            result.Reply,
            string.IsNullOrEmpty(result.Failure) ? null : result.Failure,
            values,
            UnixMicroseconds.ToTime(result.SubmittedUnixUs)!.Value,
            UnixMicroseconds.ToTime(result.StartedUnixUs),
            UnixMicroseconds.ToTime(result.CompletedUnixUs),
            result.Refusal);
        call.Add(outcome, result.Expected);
    }

    /// <summary>An engine answered that its values came besides the session: take them from the call's route, then deliver the result.</summary>
    private async Task DeliverFromRouteAsync(CallResult result)
    {
        if (!pending.TryGetValue(result.CallId, out var call))
        {
            return;
        }

        try
        {
            Deliver(result, await call.Route.ReceiveAsync(result, lifetime.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // The client is closing; the call fails with the session.
        }
    }

    private sealed class PendingCall(IReadOnlyList<int>? targets, CallRoute route)
    {
        private readonly List<CallOutcome> outcomes = [];

        /// <summary>The engines the call went to; null for every engine.</summary>
        public IReadOnlyList<int>? Targets { get; } = targets;

        /// <summary>How the call's values travel.</summary>
        public CallRoute Route { get; } = route;

        public TaskCompletionSource<IReadOnlyList<CallOutcome>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(CallOutcome outcome, int expected)
        {
            lock (outcomes)
            {
                outcomes.Add(outcome);
                if (outcomes.Count >= Math.Max(1, expected))
                {
                    Completion.TrySetResult([.. outcomes]);
                }
            }
        }
    }
}
