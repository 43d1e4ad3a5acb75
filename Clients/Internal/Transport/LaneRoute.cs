using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Client.Internal.Transport;

/// <summary>
/// A call whose bulk values travel on the data lane of each target engine, chosen by <see cref="CallRoutes.ChooseAsync"/>.
/// A push on a lane route carries its values there, not in the call; a pull's large values come back there.
/// </summary>
internal sealed class LaneRoute(IReadOnlyDictionary<int, GrantedLane> lanes, bool carriesPush) : CallRoute
{
    /// <summary>
    /// The call as written: a push announces its bytes (what the controller admits and tells each engine to expect) and
    /// carries no values; a pull lets each engine answer on its lane with this call's transfer, and with no other.
    /// </summary>
    public override IEnumerable<SessionMessage> Write(EngineCall header, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        header.Lanes.Add(lanes.ToDictionary(l => l.Key, l => ByteString.CopyFrom(l.Value.Id)));
        if (carriesPush)
        {
            header.Request = new EngineRequest { Push = new PushRequest() };
            header.LaneBytes = blobs.Sum(b => (long)b.Length);
            return [new SessionMessage { Call = header }];
        }

        foreach (var lane in lanes.Values)
        {
            lane.Connection.Expect(header.CallId, long.MaxValue);
        }

        return base.Write(header, blobs);
    }

    /// <summary>
    /// Sends a push's values on every target's lane; a lane that breaks fails the call for that engine. A push the
    /// controller refused (a method the capability lacks, a budget) is never announced to the engines, which close the
    /// lane on its data: the refusal (<paramref name="answered"/>) is the answer, not the lane's end.
    /// </summary>
    public override async Task SendAsync(long callId, EngineRequest request, IReadOnlyList<ReadOnlyMemory<byte>> blobs, Task answered, CancellationToken cancellationToken)
    {
        if (!carriesPush)
        {
            return;
        }

        var sending = SendOnLanesAsync(callId, request.Push.Values, blobs, cancellationToken);
        if (await Task.WhenAny(sending, answered).ConfigureAwait(false) == sending)
        {
            await sending.ConfigureAwait(false);
        }
        else
        {
            _ = sending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private Task SendOnLanesAsync(long callId, IEnumerable<NamedValue> values, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken) =>
        Task.WhenAll(lanes.Select(async l =>
        {
            try
            {
                await l.Value.Connection.SendAsync(callId, values, blobs, cancellationToken).ConfigureAwait(false);
            }
            catch (LaneException e)
            {
                throw new EngineLostException(l.Key, $"[engine {l.Key}] {e.Message}");
            }
        }));

    /// <summary>The values an engine's result says came on its lane; a lane that broke fails that engine's result alone.</summary>
    public override async Task<ReceivedValues> ReceiveAsync(CallResult result, CancellationToken cancellationToken)
    {
        if (lanes.GetValueOrDefault(result.EngineId) is not { } lane)
        {
            return await base.ReceiveAsync(result, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var values = await lane.Connection.ReceiveAsync(result.Reply.Values.LaneTransfer, cancellationToken).ConfigureAwait(false);
            result.Reply.Values = new ValuesReply { Values = { values.Named } };
            return values;
        }
        catch (LaneException e)
        {
            return Failed(result, e.Message);
        }
    }

    /// <summary>The call ended: an engine that answered in the session (no blobs) sends nothing on its lane.</summary>
    public override void Release(long callId)
    {
        if (carriesPush)
        {
            return;
        }

        foreach (var lane in lanes.Values)
        {
            lane.Connection.Forget(callId);
        }
    }
}
