using System.Net;
using CapCluster.Connection;
using CapCluster.Engine.Internal;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Internal.Scripting;
using CapCluster.Engine.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Engine;

/// <summary>
/// A long-lived engine: keeps one registration stream open to its controller,
/// heartbeats on it, runs the work that arrives, and reconnects with backoff when the
/// controller goes away (re-registering under its previous id when it is free).
/// </summary>
public sealed class EngineHost(ControllerConnection connection, EngineOptions options, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly IdleMemory idleMemory = new(time);
    private readonly EngineNamespace space = new(options.Mpi
        ? new NamespaceOptions { Usings = [.. new NamespaceOptions().Usings, "CapCluster.Mpi"] }
        : null);
    private readonly TaskCompletionSource<int> firstRegistration = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? engineId;

    // Set when the current session's registration was confirmed: the controller was there, whatever happened next.
    private bool registered;
    private WorkRunner? runner;
    private bool warming;

    /// <summary>
    /// Told each step a person watching the engine's terminal wants to see (connecting, registered, the controller out of
    /// reach and when it tries again), in words; null (default): nothing is told beyond the log.
    /// </summary>
    public Action<string>? Progress { get; init; }

    /// <summary>The id the controller gave this engine, once registered.</summary>
    public int? EngineId => engineId;

    /// <summary>Completes with the engine's id when its first registration is confirmed (it never fails: an engine that does not register ends <see cref="RunAsync"/> instead).</summary>
    public Task<int> Registered => firstRegistration.Task;

    /// <summary>Runs until told to stop by the controller or until <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="EngineRefusedException">The controller refused the engine's capability.</exception>
    /// <exception cref="ControllerGoneException">No controller answered for <see cref="EngineOptions.ControllerTimeout"/>.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var locations = string.Join(", ", connection.Capability.Url.Locations);
        EngineLog.Connecting(logger, locations, connection.Capability.CapabilityId);
        Progress?.Invoke($"connecting to the controller at {locations} with {connection.CapabilityPath}");
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
                EngineLog.GaveUp(logger, locations, gone, options.ControllerTimeout, reason);
                throw new ControllerGoneException(
                    $"gave up on the controller at {locations}: no answer for {gone.TotalSeconds:0} s " +
                    $"(--controller-timeout {options.ControllerTimeout.TotalSeconds:0} s); last error: {reason}");
            }

            // The last wait ends at the deadline, so the engine gives up on time rather than up to a delay late.
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, (options.ControllerTimeout - gone).Ticks));
            EngineLog.Disconnected(logger, reason, delay);
            Progress?.Invoke(
                $"{(engineId is null ? "cannot reach" : "lost")} the controller at {locations}: {reason}; trying again in {delay.TotalSeconds:0.#} s, " +
                $"for {options.ControllerTimeout.TotalSeconds:0} s in all (--controller-timeout). Is it running? `capcluster status` says; " +
                "a controller that died starts again on its ports with `capcontroller --reuse`");
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
        await using var link = await ControllerLink.RegisterAsync(connection, Registration(), options.HeartbeatPeriod, time, logger, session.Token).ConfigureAwait(false);
        engineId = link.EngineId;
        registered = true;
        EngineLog.Registered(logger, link.EngineId);
        Progress?.Invoke($"registered as engine {link.EngineId}; waiting for work (Ctrl-C stops it)");
        firstRegistration.TrySetResult(link.EngineId);
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

        // Shipped delegates (tasks, apply) start right where the link delivers them; code, which compiles, on the pool.
        var work = new WorkQueue<ControllerLink.Delivery>(
            delivery => link.AnswerAsync(delivery, RunWorkAsync, session.Token),
            link.RunAfterDelivery,
            delivery => delivery.Work.Request?.KindCase is EngineRequest.KindOneofCase.Tasks or EngineRequest.KindOneofCase.Apply,
            idleMemory.Running);
        try
        {
            return await link.ReadAsync(work.Add, runner!.Aborted.Add, session.Token).ConfigureAwait(false);
        }
        finally
        {
            var idle = work.CompleteAsync();
            await session.CancelAsync().ConfigureAwait(false);
            await idle.ConfigureAwait(false);
        }
    }

    /// <summary>Releases the namespace and the shipped code.</summary>
    public void Dispose()
    {
        runner?.Dispose();
        space.Dispose();
        idleMemory.Dispose();
    }

    /// <summary>Runs one item of the engine's work (see <see cref="WorkQueue{T}"/>) with the values it brought.</summary>
    private async Task<(WorkResult Result, IReadOnlyList<ReadOnlyMemory<byte>> Blobs)> RunWorkAsync(Work item, ReceivedValues values, CancellationToken cancellationToken)
    {
        var started = UnixMicroseconds.Now();
        WorkResult result;
        IReadOnlyList<ReadOnlyMemory<byte>> blobs = [];
        if (item.KindCase == Work.KindOneofCase.Request)
        {
            (var reply, blobs) = await runner!.RunAsync(item.Request, values, cancellationToken).ConfigureAwait(false);
            result = new WorkResult { WorkId = item.WorkId, Reply = reply };
        }
        else
        {
            result = Run(item);
        }

        result.StartedUnixUs = started;
        result.CompletedUnixUs = UnixMicroseconds.Now();
        return (result, blobs);
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
        if ((engineId ?? options.PreferredId) is int previous)
        {
            register.PreviousId = previous;
        }

        return register;
    }
}
