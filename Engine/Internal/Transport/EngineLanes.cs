using System.Collections.Concurrent;
using CapCluster.Connection;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Engine.Internal.Transport;

/// <summary>
/// The data lanes clients opened to this engine. The controller says when to join one (and whose
/// certificate to accept on it); work that names a lane takes its pushed values from it, or sends
/// its pulled values back on it.
/// </summary>
internal sealed class EngineLanes(ControllerConnection connection, ILogger logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<LaneConnection>> lanes = new(StringComparer.Ordinal);

    /// <summary>Starts joining the lane the controller announced; work naming it waits for the join.</summary>
    public void Join(OpenLane open)
    {
        var key = Convert.ToHexStringLower(open.LaneId.Span);
        var options = connection.LaneOptions(open.DataPort, open.LaneId, LaneRole.Engine, open.ClientCertificateSha256, $"the data lane {key[..8]} from a client")
            with { HandoffSocket = open.HandoffSocket.Length > 0 ? open.HandoffSocket : null };
        var joining = LaneConnection.ConnectAsync(options, CancellationToken.None);
        lanes[key] = joining;
        _ = ForgetWhenClosedAsync(key, joining);
    }

    /// <summary>
    /// Lets the lane the controller named receive one push's values, of at most the bytes it admitted; a frame nobody
    /// announced closes its lane unread. The announcement may come before the engine has joined the lane.
    /// </summary>
    public void Expect(ExpectTransfer expect)
    {
        if (lanes.TryGetValue(Convert.ToHexStringLower(expect.LaneId.Span), out var joining))
        {
            _ = joining.ContinueWith(
                joined => joined.Result.Expect(expect.Transfer, expect.MaxBytes),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>The values a push sent on its lane.</summary>
    /// <exception cref="LaneException">The lane is unknown, could not be joined, or closed first.</exception>
    public async Task<ReceivedValues> ReceiveAsync(Work work, CancellationToken cancellationToken)
    {
        var lane = await LaneAsync(work).ConfigureAwait(false);
        return await lane.ReceiveAsync(work.LaneTransfer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a reply's values on the work's lane.</summary>
    /// <exception cref="LaneException">The lane is unknown, could not be joined, or broke.</exception>
    public async Task SendAsync(Work work, IEnumerable<NamedValue> values, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken)
    {
        var lane = await LaneAsync(work).ConfigureAwait(false);
        await lane.SendAsync(work.LaneTransfer, values, blobs, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => CloseAllAsync();

    /// <summary>
    /// Closes every lane: the controller that granted them is gone. A lane the controller handed over would
    /// otherwise outlive it, beyond the reach of a revocation the next controller reads.
    /// </summary>
    public async ValueTask CloseAllAsync()
    {
        foreach (var joining in lanes.Values)
        {
            try
            {
                await (await joining.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (LaneException)
            {
                // Never joined: nothing to close.
            }
        }
    }

    private Task<LaneConnection> LaneAsync(Work work) =>
        lanes.TryGetValue(Convert.ToHexStringLower(work.LaneId.Span), out var joining)
            ? joining
            : throw new LaneException("the data lane this work names has closed, or this engine was never asked to join it");

    private async Task ForgetWhenClosedAsync(string key, Task<LaneConnection> joining)
    {
        try
        {
            var lane = await joining.ConfigureAwait(false);
            EngineLog.LaneJoined(logger, key[..8]);
            await lane.Closed.ConfigureAwait(false);
            EngineLog.LaneClosed(logger, key[..8], lane.CloseReason?.Message ?? "closed");
            await lane.DisposeAsync().ConfigureAwait(false);
        }
        catch (LaneException e)
        {
            EngineLog.LaneFailed(logger, key[..8], e.Message);
        }

        lanes.TryRemove(KeyValuePair.Create(key, joining));
    }
}
