using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Client.Internal;

/// <summary>
/// How one call's bulk data travels besides the session, chosen by <see cref="ClientLanes.RouteAsync"/>: the data lane
/// of each target engine. A push on a route carries its values there, not in the call; a pull's large values come back
/// there. Everything the session does with lanes for a call is here.
/// </summary>
internal sealed class LaneRoute(IReadOnlyDictionary<int, GrantedLane> lanes, bool carriesPush)
{
    /// <summary>True when the call is a push whose values go on the lanes (the call itself then carries none).</summary>
    public bool CarriesPush { get; } = carriesPush;

    /// <summary>True when <paramref name="result"/> says its values come on the call's lane, not in the session.</summary>
    public static bool BringsValues(CallResult result) => result.Reply?.Values?.LaneTransfer is > 0;

    /// <summary>
    /// Names the lanes in the call written as <paramref name="header"/>: a push announces its bytes (what the
    /// controller admits and tells each engine to expect); a pull lets each engine answer on its lane with this call's
    /// transfer, and with no other.
    /// </summary>
    public void Stamp(EngineCall header, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        header.Lanes.Add(lanes.ToDictionary(l => l.Key, l => ByteString.CopyFrom(l.Value.Id)));
        if (CarriesPush)
        {
            header.LaneBytes = blobs.Sum(b => (long)b.Length);
            return;
        }

        foreach (var lane in lanes.Values)
        {
            lane.Connection.Expect(header.CallId, long.MaxValue);
        }
    }

    /// <summary>Sends a push's values on every target's lane; a lane that breaks fails the call for that engine.</summary>
    public Task SendAsync(long callId, IEnumerable<NamedValue> values, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken) =>
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

    /// <summary>The values an engine's result says came on its lane.</summary>
    /// <exception cref="LaneException">The engine has no lane in this call, or the lane broke.</exception>
    public Task<ReceivedValues> ReceiveAsync(CallResult result, CancellationToken cancellationToken) =>
        (lanes.GetValueOrDefault(result.EngineId) ?? throw new LaneException($"engine {result.EngineId} answered on a data lane this call did not open"))
            .Connection.ReceiveAsync(result.Reply.Values.LaneTransfer, cancellationToken);

    /// <summary>The call ended: an engine that answered in the session (no blobs) sends nothing on its lane.</summary>
    public void Release(long callId)
    {
        if (CarriesPush)
        {
            return;
        }

        foreach (var lane in lanes.Values)
        {
            lane.Connection.Forget(callId);
        }
    }
}
