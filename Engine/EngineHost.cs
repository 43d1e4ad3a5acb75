using System.Net;
using CapCluster.Connection;
using CapCluster.Engine.Internal;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Internal.Scripting;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Engine;

/// <summary>
/// A long-lived engine: keeps one registration stream open to its controller,
/// heartbeats on it, runs the work that arrives, and reconnects with backoff when the
/// controller goes away (re-registering under its previous id when it is free).
/// </summary>
public sealed class EngineHost(ControllerConnection connection, EngineOptions options, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly EngineLanes lanes = new(connection, logger);
    private readonly IdleMemory idleMemory = new(time);
    private readonly EngineNamespace space = new(options.Mpi
        ? new NamespaceOptions { Usings = [.. new NamespaceOptions().Usings, "CapCluster.Mpi"] }
        : null);
    private int? engineId;

    // Set when the current session's registration was confirmed: the controller was there, whatever happened next.
    private bool registered;
    private WorkRunner? runner;
    private bool warming;

    /// <summary>The id the controller gave this engine, once registered.</summary>
    public int? EngineId => engineId;

    /// <summary>Runs until told to stop by the controller or until <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="EngineRefusedException">The controller refused the engine's capability.</exception>
    /// <exception cref="ControllerGoneException">No controller answered for <see cref="EngineOptions.ControllerTimeout"/>.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        EngineLog.Connecting(logger, string.Join(", ", connection.Capability.Url.Locations), connection.Capability.CapabilityId);
        runner ??= new WorkRunner(space, new DelegateRunner(), () => engineId ?? -1);

        var delay = options.FirstReconnectDelay;

        // Since when the engine has had no controller: from start until it first registers, and from each loss.
        var lostAt = time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            registered = false;
            try
            {
                if (await RunSessionAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                reason = "the controller closed the stream";
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                EngineLog.Refused(logger, e.Status.Detail);
                throw new EngineRefusedException($"the controller refused {connection.CapabilityPath}: {e.Status.Detail}", e);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or RpcException)
            {
                return; // asked to stop (SIGTERM): the call was cancelled on purpose
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException)
            {
                reason = e is RpcException rpc ? rpc.Status.Detail : e.Message;
            }

            if (registered)
            {
                lostAt = time.GetTimestamp();
                delay = options.FirstReconnectDelay;
            }

            var gone = time.GetElapsedTime(lostAt);
            if (gone >= options.ControllerTimeout)
            {
                var locations = string.Join(", ", connection.Capability.Url.Locations);
                EngineLog.GaveUp(logger, locations, gone, options.ControllerTimeout, reason);
                throw new ControllerGoneException(
                    $"gave up on the controller at {locations}: no answer for {gone.TotalSeconds:0} s " +
                    $"(--controller-timeout {options.ControllerTimeout.TotalSeconds:0} s); last error: {reason}");
            }

            // The last wait ends at the deadline, so the engine gives up on time rather than up to a delay late.
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, (options.ControllerTimeout - gone).Ticks));
            EngineLog.Disconnected(logger, reason, delay);
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>One registration: true when the controller told the engine to stop.</summary>
    private async Task<bool> RunSessionAsync(CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var call = await connection.OpenStreamAsync(CapClusterMethods.EngineLink, session.Token).ConfigureAwait(false);
        var writer = new SerializedWriter(call.RequestStream);
        await writer.WriteAsync(new EngineMessage { Register = Registration() }, session.Token).ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(session.Token).ConfigureAwait(false)
            || call.ResponseStream.Current.KindCase != ControllerMessage.KindOneofCase.Registered)
        {
            throw new IOException("the controller did not confirm the registration");
        }

        var confirmed = call.ResponseStream.Current.Registered;
        engineId = confirmed.EngineId;
        registered = true;
        EngineLog.Registered(logger, confirmed.EngineId);
        if (!warming)
        {
            // The compiler warms up once the engine is registered, not while it registers: with many engines starting on
            // few cores, their registrations no longer wait behind each other's compilers. Work that comes first waits
            // for the warm-up's compilation lock, no longer than it would have compiled alone. The warm-up runs at the
            // lowest priority, on CPU that registrations and work beside it do not want.
            warming = true;
            Background.Run("compiler warm-up", () =>
            {
                try
                {
                    space.WarmUpAsync(cancellationToken).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception e)
                {
                    EngineLog.WarmUpFailed(logger, e.Message); // a thread of its own: nothing may leave it
                }
            });
        }

        var period = confirmed.HeartbeatPeriodMs > 0 ? TimeSpan.FromMilliseconds(confirmed.HeartbeatPeriodMs) : options.HeartbeatPeriod;
        var heartbeats = HeartbeatAsync(writer, period, session.Token);
        // Values are null for work whose pushed values come on a data lane: the worker waits for them there.
        // Shipped delegates (tasks, apply) start right after the read that brought them, on the reading thread (see
        // WorkQueue); while one runs long, the stream lane reads on another thread, so the engine still joins data
        // lanes and hears Stop.
        var work = new WorkQueue<(Work Work, ReceivedValues? Values)>(
            item => RunItemAsync(item.Work, item.Values, writer, session.Token),
            call.ResponseStream.RunAfterThisMessage,
            item => item.Work.Request?.KindCase is EngineRequest.KindOneofCase.Tasks or EngineRequest.KindOneofCase.Apply,
            idleMemory.Running);
        var messages = new UnitReader<ControllerMessage, ReceivedValues>(call.ResponseStream, head => Receive(head.Work, writer, session.Token), strict: false);
        try
        {
            while (await messages.MoveNext(session.Token).ConfigureAwait(false))
            {
                var message = messages.Current;
                switch (message.KindCase)
                {
                    case ControllerMessage.KindOneofCase.Work:
                        work.Add((message.Work, IsPushOnLane(message.Work) ? null : messages.Blobs));
                        break;
                    case ControllerMessage.KindOneofCase.OpenLane:
                        lanes.Join(message.OpenLane);
                        break;
                    case ControllerMessage.KindOneofCase.Expect:
                        lanes.Expect(message.Expect);
                        break;
                    case ControllerMessage.KindOneofCase.Stop:
                        EngineLog.Stopping(logger, message.Stop.Reason);
                        await writer.CompleteAsync().ConfigureAwait(false);
                        return true;
                }
            }

            return false;
        }
        finally
        {
            var idle = work.CompleteAsync();
            await session.CancelAsync().ConfigureAwait(false);
            await heartbeats.ConfigureAwait(false);
            await idle.ConfigureAwait(false);
            await lanes.CloseAllAsync().ConfigureAwait(false);
        }
    }

    private static bool IsPushOnLane(Work work) => work.Request?.KindCase == EngineRequest.KindOneofCase.Push && !work.LaneId.IsEmpty;

    /// <summary>
    /// Where the values of <paramref name="work"/> are received: their arrays, allocated now; nothing for a push whose
    /// values come on a data lane; null for values a client sent malformed, which fail that call alone (their data is
    /// dropped), never the link.
    /// </summary>
    private ReceivedValues? Receive(Work work, SerializedWriter writer, CancellationToken cancellationToken)
    {
        if (IsPushOnLane(work))
        {
            return ReceivedValues.None;
        }

        try
        {
            return new ReceivedValues(ValuesOf(work.Request), work.BlobLengths);
        }
        catch (RpcException e)
        {
            _ = writer.WriteAsync(Failed(work.WorkId, e), cancellationToken).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return null;
        }
    }

    /// <summary>Releases the namespace and the shipped code.</summary>
    public void Dispose()
    {
        lanes.DisposeAsync().AsTask().GetAwaiter().GetResult();
        runner?.Dispose();
        space.Dispose();
        idleMemory.Dispose();
    }

    /// <summary>Runs one item of the engine's work (see <see cref="WorkQueue{T}"/>), answering it with its result and chunks.</summary>
    private async Task RunItemAsync(Work item, ReceivedValues? values, SerializedWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            var started = Protocol.UnixMicroseconds.Now();
            var (result, blobs) = item.KindCase == Work.KindOneofCase.Request
                ? await RunRequestAsync(item, values, cancellationToken).ConfigureAwait(false)
                : (Run(item), []);
            result.StartedUnixUs = started;
            result.CompletedUnixUs = Protocol.UnixMicroseconds.Now();
            await writer.WriteUnitAsync(Units.Of(new EngineMessage { Result = result }, blobs), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
        {
            // The session is over; the main loop reports why.
        }
    }

    private async Task<(WorkResult, IReadOnlyList<ReadOnlyMemory<byte>>)> RunRequestAsync(Work item, ReceivedValues? values, CancellationToken cancellationToken)
    {
        try
        {
            values ??= await lanes.ReceiveAsync(item, cancellationToken).ConfigureAwait(false);
            var (reply, blobs) = await runner!.RunAsync(item.Request, values, cancellationToken).ConfigureAwait(false);
            if (!item.LaneId.IsEmpty && blobs.Count > 0 && reply.KindCase == EngineReply.KindOneofCase.Values)
            {
                // The values go on the client's lane, end to end; the reply only says which transfer they are.
                await lanes.SendAsync(item, reply.Values.Values, blobs, cancellationToken).ConfigureAwait(false);
                reply.Values = new ValuesReply { LaneTransfer = item.LaneTransfer };
                blobs = [];
            }

            return (new WorkResult { WorkId = item.WorkId, Reply = reply }, blobs);
        }
        catch (LaneException e)
        {
            var error = new RemoteError { EngineId = engineId ?? -1, Type = typeof(LaneException).FullName!, Message = e.Message };
            return (new WorkResult { WorkId = item.WorkId, Reply = new EngineReply { Error = error } }, []);
        }
    }

    private EngineMessage Failed(long workId, RpcException e) => new()
    {
        Result = new WorkResult
        {
            WorkId = workId,
            Error = new RemoteError { EngineId = engineId ?? -1, Type = e.StatusCode.ToString(), Message = e.Status.Detail },
        },
    };

    private static IEnumerable<NamedValue> ValuesOf(EngineRequest? request) => request?.KindCase switch
    {
        EngineRequest.KindOneofCase.Push => request.Push.Values,
        EngineRequest.KindOneofCase.Apply => request.Apply.Function.Captured.Concat(request.Apply.Arguments),
        EngineRequest.KindOneofCase.Tasks => request.Tasks.Tasks.SelectMany(t =>
            t.Push.Concat(t.Function is null ? [] : t.Function.Function.Captured.Concat(t.Function.Arguments))),
        _ => [],
    };

    private WorkResult Run(Work work) => work.KindCase switch
    {
        Work.KindOneofCase.Ping => new WorkResult { WorkId = work.WorkId, Pong = new Pong { Payload = work.Ping.Payload, EngineId = engineId ?? -1 } },
        _ => new WorkResult
        {
            WorkId = work.WorkId,
            Error = new RemoteError { EngineId = engineId ?? -1, Type = "NotSupportedException", Message = $"this engine cannot run {work.KindCase} work" },
        },
    };

    private RegisterEngine Registration()
    {
        var register = new RegisterEngine
        {
            Host = Dns.GetHostName(),
            Pid = Environment.ProcessId,
            Version = typeof(EngineHost).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Cores = Environment.ProcessorCount,
            Properties = { options.Properties },
        };
        if ((engineId ?? options.PreferredId) is int previous)
        {
            register.PreviousId = previous;
        }

        return register;
    }

    private async Task HeartbeatAsync(SerializedWriter writer, TimeSpan period, CancellationToken cancellationToken)
    {
        long sequence = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(period, time, cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(new EngineMessage { Heartbeat = new Heartbeat { Sequence = ++sequence } }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
        {
            // The session is over; the main loop reports why.
        }
    }

    /// <summary>Results and heartbeats share the request stream; one write at a time.</summary>
    private sealed class SerializedWriter(IClientStreamWriter<EngineMessage> inner)
    {
        private readonly SemaphoreSlim turn = new(1, 1);

        public async Task WriteAsync(EngineMessage message, CancellationToken cancellationToken)
        {
            await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                turn.Release();
            }
        }

        /// <summary>Writes several messages with nothing in between (a result and its chunks).</summary>
        public async Task WriteUnitAsync(IEnumerable<EngineMessage> messages, CancellationToken cancellationToken)
        {
            await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var message in messages)
                {
                    await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                turn.Release();
            }
        }

        public async Task CompleteAsync()
        {
            await turn.WaitAsync().ConfigureAwait(false);
            try
            {
                await inner.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                turn.Release();
            }
        }
    }
}
