using System.Net;
using CapCluster.Client;
using CapCluster.Engine.Internal;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Engine;

/// <summary>
/// A long-lived engine: keeps one registration stream open to its controller,
/// heartbeats on it, runs the work that arrives, and reconnects with backoff when the
/// controller goes away (re-registering under its previous id when it is free).
/// </summary>
public sealed class EngineHost(ControllerConnection connection, EngineOptions options, TimeProvider time, ILogger logger)
{
    private int? engineId;

    /// <summary>The id the controller gave this engine, once registered.</summary>
    public int? EngineId => engineId;

    /// <summary>Runs until told to stop by the controller or until <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="EngineRefusedException">The controller refused the engine's capability.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        EngineLog.Connecting(logger, string.Join(", ", connection.Capability.Url.Locations), connection.Capability.CapabilityId);
        var delay = options.FirstReconnectDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                if (await RunSessionAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                reason = "the controller closed the stream";
                delay = options.FirstReconnectDelay;
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
        using var call = connection.Channel.DuplexStreaming(CapClusterMethods.EngineConnect, new CallOptions(CancellationToken: session.Token));
        var writer = new SerializedWriter(call.RequestStream);
        await writer.WriteAsync(new EngineMessage { Register = Registration() }, session.Token).ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(session.Token).ConfigureAwait(false)
            || call.ResponseStream.Current.KindCase != ControllerMessage.KindOneofCase.Registered)
        {
            throw new IOException("the controller did not confirm the registration");
        }

        var registered = call.ResponseStream.Current.Registered;
        engineId = registered.EngineId;
        EngineLog.Registered(logger, registered.EngineId);
        var period = registered.HeartbeatPeriodMs > 0 ? TimeSpan.FromMilliseconds(registered.HeartbeatPeriodMs) : options.HeartbeatPeriod;
        var heartbeats = HeartbeatAsync(writer, period, session.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(session.Token).ConfigureAwait(false))
            {
                var message = call.ResponseStream.Current;
                switch (message.KindCase)
                {
                    case ControllerMessage.KindOneofCase.Work:
                        await writer.WriteAsync(new EngineMessage { Result = Run(message.Work) }, session.Token).ConfigureAwait(false);
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
            await session.CancelAsync().ConfigureAwait(false);
            await heartbeats.ConfigureAwait(false);
        }
    }

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
        if (engineId is int previous)
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
