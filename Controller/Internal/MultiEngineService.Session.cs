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
    /// <summary>The most data one call may carry (store and forward keeps it until every target has it). Default 4 GiB.</summary>
    internal const long MaxCallBytes = 4L << 30;

    private async Task SessionAsync(IAsyncStreamReader<SessionMessage> requests, IServerStreamWriter<SessionMessage> responses, ServerCallContext context)
    {
        var outbox = Channel.CreateUnbounded<IReadOnlyList<SessionMessage>>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteAllAsync(outbox.Reader, responses, context.CancellationToken);
        var pending = new Dictionary<long, (EngineCall Call, ChunkBuffer Buffer, bool Refused)>();
        var capability = context.Items.TryGetValue(CallItems.Capability, out var item) ? item as CapabilityRecord : null;
        var outstanding = new List<Task>();
        try
        {
            while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                var message = requests.Current;
                switch (message.KindCase)
                {
                    case SessionMessage.KindOneofCase.Call when message.Call.BlobLengths.Count == 0:
                        if (Admit(message.Call, capability, context, outbox.Writer))
                        {
                            outstanding.Add(DispatchAsync(message.Call, [], capability, outbox.Writer));
                        }

                        break;
                    case SessionMessage.KindOneofCase.Call:
                        var buffer = new ChunkBuffer(message.Call.BlobLengths);
                        if (buffer.TotalBytes > MaxCallBytes)
                        {
                            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"call {message.Call.CallId} carries {buffer.TotalBytes} bytes; one call may carry at most {MaxCallBytes}"));
                        }

                        // A refused call's data is still read (and dropped), so the stream stays in step.
                        pending[message.Call.CallId] = (message.Call, buffer, !Admit(message.Call, capability, context, outbox.Writer));
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
                                outstanding.Add(DispatchAsync(entry.Call, entry.Buffer.Chunks, capability, outbox.Writer));
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
            outbox.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The gate admitted the session because the capability allows some session operation; each call's own
    /// operation is checked here. A refused call gets a failure result and an audit record; the session goes on.
    /// </summary>
    private bool Admit(EngineCall call, CapabilityRecord? capability, ServerCallContext context, ChannelWriter<IReadOnlyList<SessionMessage>> outbox)
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

        var reason = $"capability {capability.Id} (label {capability.Label ?? "none"}) does not allow {operation}";
        audit.Append(new AuditRecord(time.GetUtcNow(), context.Peer, null, capability.Id, capability.Label,
            context.ServiceName, operation, AuditRecord.Refused, reason));
        ControllerLog.CallRefused(logger, context.ServiceName, operation, context.Peer, capability.Id, reason);
        outbox.TryWrite([Failure(call, -1, "refused by the controller: " + reason, 1, UnixMicroseconds.Now())]);
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
