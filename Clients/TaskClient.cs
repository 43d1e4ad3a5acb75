using CapCluster.Client.Internal;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>
/// The engines as a load-balanced task farm, through a task capability.
/// </summary>
public sealed partial class TaskClient : IAsyncDisposable
{
    private readonly ControllerConnection connection;
    private readonly TaskSession session;
    private int disposed;

    private TaskClient(ControllerConnection connection)
    {
        this.connection = connection;
        session = new TaskSession(connection);
    }

    /// <summary>The capability file this client uses.</summary>
    public string CapabilityPath => connection.CapabilityPath;

    /// <summary>
    /// Connects with the task capability at <paramref name="capFile"/>, or, when null, the default
    /// security folder's task.cap, and checks that the controller accepts it.
    /// </summary>
    /// <exception cref="CapabilityNotFoundException">No .cap file found; the message lists where it looked.</exception>
    /// <exception cref="CapabilityFileException">The file is malformed or was edited.</exception>
    /// <exception cref="ControllerUnreachableException">No controller answers at the file's locations.</exception>
    /// <exception cref="CapabilityRefusedException">The controller refused the capability, with the gate's reason.</exception>
    public static Task<TaskClient> ConnectAsync(string? capFile = null, CancellationToken cancellationToken = default)
        => ConnectAsync(capFile, new ReconnectOptions(), cancellationToken);

    /// <summary>
    /// As <see cref="ConnectAsync(string?, CancellationToken)"/>, with how to reconnect when the controller goes away
    /// (the other overload uses the defaults of <see cref="ReconnectOptions"/>: keep trying for 2 minutes).
    /// </summary>
    public static Task<TaskClient> ConnectAsync(string? capFile, ReconnectOptions reconnect, CancellationToken cancellationToken = default)
        => ControllerConnection.ConnectAsync(
            capFile, CapabilityInterfaces.Task, c => new TaskClient(c), reconnect, cancellationToken);

    /// <summary>
    /// Queued, running, succeeded and failed counts of this capability's tasks (and its descendants'), the number of
    /// engines, and for a capability that is not derived the cluster's totals.
    /// </summary>
    public async Task<TaskQueueStatus> QueueStatusAsync(CancellationToken cancellationToken = default)
    {
        var r = await connection.CallAsync(o => connection.TaskFarm.QueueStatusAsync(new QueueStatusRequest(), o), cancellationToken, idempotent: true).ConfigureAwait(false);
        var cluster = r.Cluster is { } c ? new TaskQueueTotals(c.Queued, c.Running, c.Succeeded, c.Failed, c.Aborted) : null;
        return new TaskQueueStatus(r.Queued, r.Running, r.Succeeded, r.Failed, r.Engines, r.RunningPerEngine.ToDictionary(), r.Aborted, cluster);
    }

    /// <inheritdoc />
    /// <remarks>A second call does nothing.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await session.DisposeAsync().ConfigureAwait(false);
        connection.Dispose();
    }
}
