using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// A client's call stream. Each call (with its values, whichever way they came) is queued on every target
/// engine's FIFO queue; each engine's result goes back with its values as soon as it arrives. Values are
/// forwarded as they came: the controller never decodes them.
/// </summary>
internal sealed partial class MultiEngineService
{
    private async Task SessionAsync(IAsyncStreamReader<SessionMessage> requests, IServerStreamWriter<SessionMessage> responses, CallContext context)
    {
        var capability = CallItems.CapabilityOf(context);
        var outbox = new SessionOutbox(budgets.MaxSessionCalls, budgets.MaxUnreadBytes, budgets.Unread.Open(capability?.Id));
        var writer = outbox.WriteAllAsync(responses, context.CancellationToken);
        var held = new ByteBudget(budgets.MaxSessionBytes);
        // A call is admitted when it arrives, before its data: a refused call's data is still read, so the stream stays
        // in step, but it is dropped, not kept.
        var calls = new UnitReader<SessionMessage, RelayedBlobs>(requests, head => Admit(head, capability, context, held, outbox), strict: true);
        var outstanding = new List<Task>();
        try
        {
            // A client that does not read its results stops being read (see SessionOutbox).
            while (await NextCallAsync(calls, outbox, context.CancellationToken).ConfigureAwait(false))
            {
                var call = calls.Current.Call;
                var blobs = calls.Blobs!;
                outbox.CallStarted();
                var dispatched = DispatchAsync(call, blobs, capability, outbox);
                // Call data is held until every target engine was sent it.
                outstanding.Add(dispatched.ContinueWith(
                    _ =>
                    {
                        Release(held, blobs.TotalBytes);
                        outbox.CallEnded();
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
                outstanding.RemoveAll(t => t.IsCompleted);
            }

            // The client finished sending: deliver what is still running, then end the stream.
            await Task.WhenAll(outstanding).WaitAsync(context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (_, blobs) in calls.Unfinished)
            {
                Release(held, blobs.TotalBytes);
            }

            outbox.Complete();
            await writer.ConfigureAwait(false);
            outbox.Dispose();
            budgets.Unread.Close(capability?.Id);
        }
    }

    /// <summary>Reads the next admitted call once the client has room for its results.</summary>
    private static async Task<bool> NextCallAsync(UnitReader<SessionMessage, RelayedBlobs> calls, SessionOutbox outbox, CancellationToken cancellationToken)
    {
        await outbox.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
        return await calls.MoveNext(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a session whose client lets answers it cannot be held back from (refusals, read with the next admitted call)
    /// pile up unread past twice its budget; audited.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED, always.</exception>
    private RpcException Overflowed(string overflow, CapabilityRecord? capability, CallContext context)
    {
        var reason = overflow + "; a session must read what it is sent";
        audit.Append(new AuditRecord(time.GetUtcNow(), context.Peer, null, capability?.Id, capability?.Label, context.ServiceName, context.MethodName, AuditRecord.Refused, reason));
        ControllerLog.CallRefused(logger, context.ServiceName, context.MethodName, context.Peer, capability?.Id ?? "none", reason);
        return ControllerErrors.OverBudget(reason, capability?.Id);
    }

    /// <summary>
    /// Admits a call when it arrives: what to keep of its data, or null when it is refused (the refusal is sent and
    /// audited here).
    /// </summary>
    /// <exception cref="RpcException">
    /// INVALID_ARGUMENT when the client sent something other than a call; RESOURCE_EXHAUSTED when it left too many answers unread.
    /// </exception>
    private RelayedBlobs? Admit(SessionMessage head, CapabilityRecord? capability, CallContext context, ByteBudget held, SessionOutbox outbox)
    {
        if (head.KindCase != SessionMessage.KindOneofCase.Call)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"a client may not send {head.KindCase} on its session"));
        }

        if (outbox.Overflow is { } overflow)
        {
            throw Overflowed(overflow, capability, context);
        }

        var call = head.Call;
        if (call.BlobLengths.Count == 0)
        {
            return Admit(call, capability, context, outbox) && AdmitAnnouncedBytes(call, capability, context, outbox) ? RelayedBlobs.None : null;
        }

        var blobs = new RelayedBlobs(call.BlobLengths);
        return Admit(call, capability, context, outbox) && Reserve(call, blobs.TotalBytes, held, capability, context, outbox) ? blobs : null;
    }

    /// <summary>
    /// Reserves a call's <paramref name="bytes"/> of data, which the controller holds until every target engine was
    /// sent them, within the call's, this session's and the controller's budgets; refuses the call (audited) when they
    /// do not fit.
    /// </summary>
    private bool Reserve(EngineCall call, long bytes, ByteBudget session, CapabilityRecord? capability, CallContext context, SessionOutbox outbox)
    {
        string? reason = null;
        if (bytes > budgets.MaxCallBytes)
        {
            reason = $"call {call.CallId} carries {bytes} bytes; one call may carry at most {budgets.MaxCallBytes} (--max-call-bytes)";
        }
        else if (!session.TryReserve(bytes))
        {
            reason = $"this session holds {session.Used} bytes of call data not yet sent to its engines, and {bytes} more would pass its budget of {session.Limit} (--max-session-bytes); wait for calls to finish";
        }
        else if (!budgets.Controller.TryReserve(bytes))
        {
            session.Release(bytes);
            reason = $"the controller holds {budgets.Controller.Used} bytes of call data not yet sent to engines, and {bytes} more would pass its budget of {budgets.Controller.Limit} (--max-buffered-bytes); try again when calls have finished";
        }

        return reason is null || Refuse(call, capability, context, outbox, reason, RefusalKind.Budget);
    }

    /// <summary>A push whose values travel beside the session announces their bytes: within the call budget, and never negative.</summary>
    private bool AdmitAnnouncedBytes(EngineCall call, CapabilityRecord? capability, CallContext context, SessionOutbox outbox)
    {
        var bytes = routes.BytesBesideSession(call);
        return bytes >= 0 && bytes <= budgets.MaxCallBytes
            || Refuse(call, capability, context, outbox, $"call {call.CallId} announces {bytes} bytes sent beside its session; one call may carry 0 to {budgets.MaxCallBytes} (--max-call-bytes)", RefusalKind.Budget);
    }

    private void Release(ByteBudget session, long bytes)
    {
        session.Release(bytes);
        budgets.Controller.Release(bytes);
    }

    /// <summary>
    /// The gate admitted the session because the capability allows some session operation; each call's own
    /// operation is checked here. A refused call gets a failure result and an audit record; the session goes on.
    /// </summary>
    private bool Admit(EngineCall call, CapabilityRecord? capability, CallContext context, SessionOutbox outbox)
    {
        if (TargetResolver.ServingOne(registry, call.Targets) is { } serving)
        {
            return Refuse(call, capability, context, outbox, TargetResolver.TakesNoWork(serving, registry));
        }

        if (capability?.AllowedMethods is not { } allowed)
        {
            return true;
        }

        var operation = OperationName(call.Request);
        if (CapabilityMethods.Allows(capability.Interface, allowed, operation))
        {
            return true;
        }

        return Refuse(call, capability, context, outbox, $"capability {capability.Id} (label {capability.Label ?? "none"}) does not allow {operation}");
    }

    /// <summary>Refuses one call of the session: audited, and answered with a failure naming <paramref name="reason"/>. Always false.</summary>
    private bool Refuse(EngineCall call, CapabilityRecord? capability, CallContext context, SessionOutbox outbox, string reason, RefusalKind kind = RefusalKind.NotAllowed)
    {
        var operation = OperationName(call.Request);
        audit.Append(new AuditRecord(time.GetUtcNow(), context.Peer, null, capability?.Id, capability?.Label,
            context.ServiceName, operation, AuditRecord.Refused, reason));
        ControllerLog.CallRefused(logger, context.ServiceName, operation, context.Peer, capability?.Id ?? "none", reason);
        outbox.Post([new SessionMessage { Result = ControllerErrors.SessionRefusal(call.CallId, kind, reason, capability?.Id, UnixMicroseconds.Now()) }], refusal: true);
        return false;
    }

    private static string OperationName(EngineRequest? request) => request?.KindCase switch
    {
        EngineRequest.KindOneofCase.Execute => "Execute",
        EngineRequest.KindOneofCase.Push => "Push",
        EngineRequest.KindOneofCase.Pull => "Pull",
        EngineRequest.KindOneofCase.Keys => "Keys",
        EngineRequest.KindOneofCase.Reset => "Reset",
        EngineRequest.KindOneofCase.Apply => "Apply",
        EngineRequest.KindOneofCase.History => "GetResult",
        EngineRequest.KindOneofCase.Properties => "Properties",
        EngineRequest.KindOneofCase.Tasks => "Tasks",
        _ => "an empty request",
    };

    private async Task DispatchAsync(EngineCall call, RelayedBlobs blobs, CapabilityRecord? capability, SessionOutbox outbox)
    {
        var submitted = UnixMicroseconds.Now();
        IReadOnlyList<RegisteredEngine> engines;
        try
        {
            engines = TargetResolver.Resolve(registry, call.Targets, work: true);
        }
        catch (RpcException e)
        {
            outbox.Post([Failure(call, -1, e.Status.Detail, 1, submitted)]);
            return;
        }

        if (engines.Count == 0)
        {
            outbox.Post([Failure(call, -1, "no engines are registered with the controller", 1, submitted)]);
            return;
        }

        await Task.WhenAll(engines.Select(engine => RunOnAsync(engine, call, blobs, capability, engines.Count, submitted, outbox))).ConfigureAwait(false);
    }

    private async Task RunOnAsync(RegisteredEngine engine, EngineCall call, RelayedBlobs blobs, CapabilityRecord? capability, int expected, long submitted, SessionOutbox outbox)
    {
        EngineResult result;
        try
        {
            result = await engine.Enqueue(capability?.Id ?? "", routes.WorkFor(call, engine, capability), blobs).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            outbox.Post([Failure(call, engine.Id, e.Status.Detail, expected, submitted)]);
            return;
        }

        var work = result.Result;
        if (work.Reply?.KindCase == EngineReply.KindOneofCase.Properties)
        {
            // Task requirements match against these.
            engine.Properties.Clear();
            foreach (var (key, value) in work.Reply.Properties.Values)
            {
                engine.Properties[key] = value;
            }
        }

        var reply = work.KindCase switch
        {
            WorkResult.KindOneofCase.Reply => work.Reply,
            WorkResult.KindOneofCase.Error => new EngineReply { Error = work.Error },
            _ => new EngineReply { Error = new RemoteError { EngineId = engine.Id, Type = "ProtocolError", Message = $"the engine answered with {work.KindCase}" } },
        };
        outbox.Post(Units.Relay(
            new SessionMessage
            {
                Result = new CallResult
                {
                    CallId = call.CallId,
                    EngineId = engine.Id,
                    Reply = reply,
                    SubmittedUnixUs = submitted,
                    StartedUnixUs = work.StartedUnixUs,
                    CompletedUnixUs = work.CompletedUnixUs,
                    Expected = expected,
                },
            },
            result.Blobs));
    }

    private static SessionMessage Failure(EngineCall call, int engineId, string failure, int expected, long submitted) => new()
    {
        Result = new CallResult { CallId = call.CallId, EngineId = engineId, Failure = failure, Expected = expected, SubmittedUnixUs = submitted },
    };
}
