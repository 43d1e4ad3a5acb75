using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;

namespace CapCluster.Client.Internal;

internal sealed partial class ClientSession
{
    /// <summary>
    /// The lanes a call uses, with its targets made explicit (the lanes name them): a bulk push uses lanes only
    /// when every target has one; a pull uses those that can be had (the engine answers on one only when its values
    /// carry blobs). Null lanes: the call goes as it is.
    /// </summary>
    private async Task<(IReadOnlyList<int>? Targets, IReadOnlyDictionary<int, GrantedLane>? Lanes)> ChooseLanesAsync(
        IReadOnlyList<int>? targets, EngineRequest request, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken)
    {
        var push = request.KindCase == EngineRequest.KindOneofCase.Push && blobs.Sum(b => (long)b.Length) >= LaneThreshold;
        if (!push && request.KindCase != EngineRequest.KindOneofCase.Pull)
        {
            return (targets, null);
        }

        var chosen = targets ?? [.. (await connection.CallAsync(CapClusterMethods.GetIds, new GetIdsRequest(), cancellationToken, idempotent: true).ConfigureAwait(false)).Ids];
        var granted = await Task.WhenAll(chosen.Distinct().Select(async id => (Id: id, Lane: await lanes.GetAsync(id, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        var usable = granted.Where(g => g.Lane is not null).ToDictionary(g => g.Id, g => g.Lane!);
        if (usable.Count == 0 || (push && usable.Count < granted.Length))
        {
            return (targets, null);
        }

        return (chosen, usable);
    }

    /// <summary>Sends a push's values on one engine's lane; a lane that breaks fails the call for that engine.</summary>
    private static async Task SendOnLaneAsync(int engine, GrantedLane lane, long callId, IEnumerable<NamedValue> values, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken)
    {
        try
        {
            await lane.Connection.SendAsync(callId, values, blobs, cancellationToken).ConfigureAwait(false);
        }
        catch (LaneException e)
        {
            throw new EngineLostException(engine, $"[engine {engine}] {e.Message}");
        }
    }

    /// <summary>An engine answered that its values came on the call's lane: take them from there, then deliver the result.</summary>
    private async Task DeliverFromLaneAsync(CallResult result)
    {
        if (!pending.TryGetValue(result.CallId, out var call))
        {
            return;
        }

        try
        {
            var lane = call.Lanes?.GetValueOrDefault(result.EngineId)
                ?? throw new LaneException($"engine {result.EngineId} answered on a data lane this call did not open");
            var values = await lane.Connection.ReceiveAsync(result.Reply.Values.LaneTransfer, lifetime.Token).ConfigureAwait(false);
            result.Reply.Values = new ValuesReply { Values = { values.Named } };
            Deliver(result, values);
        }
        catch (LaneException e)
        {
            result.Reply = new EngineReply { Error = new RemoteError { EngineId = result.EngineId, Type = typeof(LaneException).FullName!, Message = e.Message } };
            Deliver(result, new Protocol.Data.ReceivedValues([], []));
        }
        catch (OperationCanceledException)
        {
            // The client is closing; the call fails with the session.
        }
    }
}
