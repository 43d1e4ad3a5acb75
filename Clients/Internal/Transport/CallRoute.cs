using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;

namespace CapCluster.Client.Internal.Transport;

/// <summary>
/// How one MultiEngine call's values travel, chosen by <see cref="CallRoutes.ChooseAsync"/>. This route, the default,
/// carries them in the session with the call (the call, then its values, with nothing in between) and receives a
/// result's values there too; <see cref="LaneRoute"/> moves bulk values besides the session. Everything a session does
/// with a call's values goes through its route.
/// </summary>
internal class CallRoute
{
    /// <summary>The route of a call whose values travel in the session.</summary>
    public static CallRoute InSession { get; } = new();

    /// <summary>True when <paramref name="result"/> says its values come besides the session, through its call's route.</summary>
    public static bool BringsValuesBesides(CallResult result) => result.Reply?.Values?.LaneTransfer is > 0;

    /// <summary>Where the values of a result read from the session are received: nothing, when they come besides it.</summary>
    public static ReceivedValues ReceiverFor(CallResult? result) => result is not null && BringsValuesBesides(result)
        ? ReceivedValues.None
        : new ReceivedValues(result?.Reply?.KindCase == EngineReply.KindOneofCase.Values ? result.Reply.Values.Values : [], result?.BlobLengths ?? []);

    /// <summary>The session messages that write the call <paramref name="header"/> with its <paramref name="blobs"/>.</summary>
    public virtual IEnumerable<SessionMessage> Write(EngineCall header, IReadOnlyList<ReadOnlyMemory<byte>> blobs) =>
        Units.Of(new SessionMessage { Call = header }, blobs);

    /// <summary>
    /// Once the call is written, sends what travels besides the session (nothing on this route); it need send no more
    /// once <paramref name="answered"/> completes (every engine answered: a refusal, say).
    /// </summary>
    public virtual Task SendAsync(long callId, EngineRequest request, IReadOnlyList<ReadOnlyMemory<byte>> blobs, Task answered, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>The values that <paramref name="result"/> says came besides the session (it is rewritten to carry them).</summary>
    public virtual Task<ReceivedValues> ReceiveAsync(CallResult result, CancellationToken cancellationToken) =>
        Task.FromResult(Failed(result, $"engine {result.EngineId} answered on a data lane this call did not open"));

    /// <summary>The call ended: forget what the route kept for it.</summary>
    public virtual void Release(long callId)
    {
    }

    /// <summary>Fails <paramref name="result"/> alone, for values that could not be had: the call's other engines are not affected.</summary>
    protected static ReceivedValues Failed(CallResult result, string message)
    {
        result.Reply = new EngineReply { Error = new RemoteError { EngineId = result.EngineId, Type = typeof(LaneException).FullName!, Message = message } };
        return ReceivedValues.None;
    }
}
