using System.Threading.Channels;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// A client's call stream. Each call (and the chunks of its data) is queued on every target
/// engine's FIFO queue; each engine's result goes back as soon as it arrives, with its own
/// chunks right after it. Values are forwarded as they came: the controller never decodes them.
/// </summary>
internal sealed partial class MultiEngineService
{
    private async Task SessionAsync(IAsyncStreamReader<SessionMessage> requests, IServerStreamWriter<SessionMessage> responses, CallContext context)
    {
        var outbox = Channel.CreateUnbounded<IReadOnlyList<SessionMessage>>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteAllAsync(outbox.Reader, responses, context.CancellationToken);
        var pending = new Dictionary<long, (EngineCall Call, ChunkBuffer Buffer, bool Refused)>();
        var capability = context.Items.TryGetValue(CallItems.Capability, out var item) ? item as CapabilityRecord : null;
        var held = new ByteBudget(budgets.MaxSessionBytes);
        var outstanding = new List<Task>();
        try
        {
            while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                var message = requests.Current;
                switch (message.KindCase)
                {
                    case SessionMessage.KindOneofCase.Call when message.Call.BlobLengths.Count == 0:
                        if (Admit(message.Call, capability, context, outbox.Writer) && AdmitLaneBytes(message.Call, capability, context, outbox.Writer))
                        {
                            outstanding.Add(DispatchAsync(message.Call, [], capability, outbox.Writer));
                        }

                        break;
                    case SessionMessage.KindOneofCase.Call:
                        // A refused call's data is still read, so the stream stays in step, but it is dropped, not kept.
                        var bytes = ChunkBuffer.Total(message.Call.BlobLengths);
                        var admitted = Admit(message.Call, capability, context, outbox.Writer) && Reserve(message.Call, bytes, held, capability, context, outbox.Writer);
                        pending[message.Call.CallId] = (message.Call, new ChunkBuffer(message.Call.BlobLengths, keep: admitted), !admitted);
                        break;
                    case SessionMessage.KindOneofCase.Chunk:
                        if (!pending.TryGetValue(message.Chunk.CallId, out var entry))
                        {
                            throw new RpcException(new Status(StatusCode.InvalidArgument, $"a data chunk for call {message.Chunk.CallId}, which announced no data"));
                        }

                        if (entry.Buffer.Add(message.Chunk))
                        {
                            pending.Remove(message.Chunk.CallId);
                            if (!entry.Refused)
                            {
                                // Held until every target engine was sent them.
                                var reserved = entry.Buffer.TotalBytes;
                                outstanding.Add(DispatchAsync(entry.Call, entry.Buffer.Chunks, capability, outbox.Writer)
                                    .ContinueWith(_ => Release(held, reserved), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
                            }
                        }

                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, $"a client may not send {message.KindCase} on its session"));
                }

                outstanding.RemoveAll(t => t.IsCompleted);
            }

            // The client finished sending: deliver what is still running, then end the stream.
            await Task.WhenAll(outstanding).WaitAsync(context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (_, buffer, refused) in pending.Values)
            {
                if (!refused)
                {
                    Release(held, buffer.TotalBytes);
                }
            }

            outbox.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reserves a call's <paramref name="bytes"/> of data, which the controller holds until every target engine was
    /// sent them, within the call's, this session's and the controller's budgets; refuses the call (audited) when they
    /// do not fit.
    /// </summary>
    private bool Reserve(EngineCall call, long bytes, ByteBudget session, CapabilityRecord? capability, CallContext context, ChannelWriter<IReadOnlyList<SessionMessage>> outbox)
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

    /// <summary>A push whose values travel on lanes announces their bytes: within the call budget, and never negative.</summary>
    private bool AdmitLaneBytes(EngineCall call, CapabilityRecord? capability, CallContext context, ChannelWriter<IReadOnlyList<SessionMessage>> outbox) =>
        call.LaneBytes is >= 0 && call.LaneBytes <= budgets.MaxCallBytes
        || Refuse(call, capability, context, outbox, $"call {call.CallId} announces {call.LaneBytes} bytes on its lanes; one call may carry 0 to {budgets.MaxCallBytes} (--max-call-bytes)", RefusalKind.Budget);

    private void Release(ByteBudget session, long bytes)
    {
        session.Release(bytes);
        budgets.Controller.Release(bytes);
    }

    /// <summary>
    /// The gate admitted the session because the capability allows some session operation; each call's own
    /// operation is checked here. A refused call gets a failure result and an audit record; the session goes on.
    /// </summary>
    private bool Admit(EngineCall call, CapabilityRecord? capability, CallContext context, ChannelWriter<IReadOnlyList<SessionMessage>> outbox)
    {
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
    private bool Refuse(EngineCall call, CapabilityRecord? capability, CallContext context, ChannelWriter<IReadOnlyList<SessionMessage>> outbox, string reason, RefusalKind kind = RefusalKind.NotAllowed)
    {
        var operation = OperationName(call.Request);
        audit.Append(new AuditRecord(time.GetUtcNow(), context.Peer, null, capability?.Id, capability?.Label,
            context.ServiceName, operation, AuditRecord.Refused, reason));
        ControllerLog.CallRefused(logger, context.ServiceName, operation, context.Peer, capability?.Id ?? "none", reason);
        outbox.TryWrite([new SessionMessage { Result = ControllerErrors.SessionRefusal(call.CallId, kind, reason, capability?.Id, UnixMicroseconds.Now()) }]);
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

    private async Task DispatchAsync(EngineCall call, IReadOnlyList<DataChunk> chunks, CapabilityRecord? capability, ChannelWriter<IReadOnlyList<SessionMessage>> outbox)
    {
        var submitted = UnixMicroseconds.Now();
        IReadOnlyList<EngineSession> sessions;
        try
        {
            sessions = TargetResolver.Resolve(registry, call.Targets);
        }
        catch (RpcException e)
        {
            outbox.TryWrite([Failure(call, -1, e.Status.Detail, 1, submitted)]);
            return;
        }

        if (sessions.Count == 0)
        {
            outbox.TryWrite([Failure(call, -1, "no engines are registered with the controller", 1, submitted)]);
            return;
        }

        await Task.WhenAll(sessions.Select(session => RunOnAsync(session, call, chunks, capability, sessions.Count, submitted, outbox))).ConfigureAwait(false);
    }

    private async Task RunOnAsync(EngineSession session, EngineCall call, IReadOnlyList<DataChunk> chunks, CapabilityRecord? capability, int expected, long submitted, ChannelWriter<IReadOnlyList<SessionMessage>> outbox)
    {
        EngineResult result;
        try
        {
            var lane = LaneFor(call, session, capability);
            if (!lane.IsEmpty && call.Request?.KindCase == EngineRequest.KindOneofCase.Push)
            {
                // Ahead of the queue: the engine reads this transfer off the lane, and no other, of no more bytes.
                session.Send(new ControllerMessage { Expect = new ExpectTransfer { LaneId = lane, Transfer = call.CallId, MaxBytes = call.LaneBytes } });
            }

            result = await session.Enqueue(id => new Work
            {
                WorkId = id,
                Request = call.Request,
                BlobLengths = { call.BlobLengths },
                LaneId = lane,
                LaneTransfer = lane.IsEmpty ? 0 : call.CallId,
            }, chunks).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            outbox.TryWrite([Failure(call, session.Id, e.Status.Detail, expected, submitted)]);
            return;
        }

        var work = result.Result;
        if (work.Reply?.KindCase == EngineReply.KindOneofCase.Properties)
        {
            // Task requirements match against these.
            session.Properties.Clear();
            foreach (var (key, value) in work.Reply.Properties.Values)
            {
                session.Properties[key] = value;
            }
        }

        var reply = work.KindCase switch
        {
            WorkResult.KindOneofCase.Reply => work.Reply,
            WorkResult.KindOneofCase.Error => new EngineReply { Error = work.Error },
            _ => new EngineReply { Error = new RemoteError { EngineId = session.Id, Type = "ProtocolError", Message = $"the engine answered with {work.KindCase}" } },
        };
        var unit = new List<SessionMessage>(1 + result.Chunks.Count)
        {
            new()
            {
                Result = new CallResult
                {
                    CallId = call.CallId,
                    EngineId = session.Id,
                    Reply = reply,
                    BlobLengths = { work.BlobLengths },
                    SubmittedUnixUs = submitted,
                    StartedUnixUs = work.StartedUnixUs,
                    CompletedUnixUs = work.CompletedUnixUs,
                    Expected = expected,
                },
            },
        };
        unit.AddRange(result.Chunks.Select(c => new SessionMessage { Chunk = DataChunks.Readdress(c, call.CallId) }));
        outbox.TryWrite(unit);
    }

    private static SessionMessage Failure(EngineCall call, int engineId, string failure, int expected, long submitted) => new()
    {
        Result = new CallResult { CallId = call.CallId, EngineId = engineId, Failure = failure, Expected = expected, SubmittedUnixUs = submitted },
    };

    private static async Task WriteAllAsync(ChannelReader<IReadOnlyList<SessionMessage>> outbox, IServerStreamWriter<SessionMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var unit in outbox.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in unit)
                {
                    await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
