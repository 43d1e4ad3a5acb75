using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Security;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;

namespace CapCluster.Interactive.Internal;

/// <summary>
/// The notebook's one connection to a cluster: <c>mec</c>, and <c>tc</c> when a task.cap lies next to the
/// multiengine.cap. Replaced by each successful #!connect-cluster; made on first use by the other magics.
/// </summary>
internal sealed class NotebookCluster(Kernel root) : IDisposable
{
    /// <summary>How long disposing the kernel waits for the clients to close their connections.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How to start a cluster, appended when no capability file was found.</summary>
    internal const string StartHint = "Start a cluster with `capcluster start -n 4`, or pass --cap with the path of a multiengine.cap.";

    private readonly SemaphoreSlim connecting = new(1, 1);

    /// <summary>The connected multiengine client, or null before the first connection.</summary>
    public MultiEngineClient? Client { get; private set; }

    /// <summary>The connected task client, or null when there is none (no task.cap, or not connected yet).</summary>
    public TaskClient? Tasks { get; private set; }

    public async Task ConnectAsync(ConnectClusterCommand command, KernelInvocationContext context)
    {
        if (new[] { command.Cap, command.CapFile, command.Profile }.Count(o => o is not null) > 1)
        {
            context.Fail(command, message: "#!connect-cluster: give one of --cap-file, --cap and --profile");
            return;
        }

        var capFile = command.CapFile ?? command.Cap ?? (command.Profile is null ? null : ClusterPaths.Resolve(command.Profile).CapFile(CapabilityInterfaces.MultiEngine));
        await ConnectAsync("#!connect-cluster", capFile, command, context).ConfigureAwait(false);
    }

    /// <summary>The client, connecting from the default security folder when none is there yet; null after failing the command.</summary>
    public async Task<MultiEngineClient?> EnsureConnectedAsync(string directive, KernelCommand command, KernelInvocationContext context)
    {
        if (Client is { } connected)
        {
            return connected;
        }

        return await ConnectAsync(directive, null, command, context).ConfigureAwait(false) ? Client : null;
    }

    private async Task<bool> ConnectAsync(string directive, string? capFile, KernelCommand command, KernelInvocationContext context)
    {
        await connecting.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        try
        {
            return await ConnectLockedAsync(directive, capFile, command, context).ConfigureAwait(false);
        }
        finally
        {
            connecting.Release();
        }
    }

    private async Task<bool> ConnectLockedAsync(string directive, string? capFile, KernelCommand command, KernelInvocationContext context)
    {
        MultiEngineClient connected;
        try
        {
            connected = await MultiEngineClient.ConnectAsync(capFile, ReconnectOptions.Interactive, context.CancellationToken).ConfigureAwait(false);
        }
        catch (CapabilityNotFoundException e)
        {
            context.Fail(command, message: $"{directive}: no cluster: {e.Message} {StartHint}");
            return false;
        }
        catch (CapClusterException e)
        {
            context.Fail(command, message: Guard.Describe(directive, e));
            return false;
        }

        if (root.FindKernelByName("csharp") is not CSharpKernel csharp)
        {
            await connected.DisposeAsync().ConfigureAwait(false);
            context.Fail(command, message: $"{directive}: this notebook has no C# kernel to give mec to");
            return false;
        }

        var tasks = await ConnectTasksAsync(connected, context).ConfigureAwait(false);
        var (previous, previousTasks) = (Client, Tasks);
        (Client, Tasks) = (connected, tasks);
        await csharp.SetValueAsync("mec", connected, typeof(MultiEngineClient)).ConfigureAwait(false);
        if (tasks is not null)
        {
            await csharp.SetValueAsync("tc", tasks, typeof(TaskClient)).ConfigureAwait(false);
        }

        if (previous is not null)
        {
            await previous.DisposeAsync().ConfigureAwait(false);
        }

        if (previousTasks is not null)
        {
            await previousTasks.DisposeAsync().ConfigureAwait(false);
        }

        var ids = await connected.GetIdsAsync(context.CancellationToken).ConfigureAwait(false);
        context.DisplayAs(
            $"Connected with {connected.CapabilityPath}: {ids.Count} engine(s) [{string.Join(", ", ids)}]; the client is mec"
            + (tasks is null ? " (no task.cap beside it, so no tc)." : $", the task client tc ({tasks.CapabilityPath})."),
            "text/plain");
        return true;
    }

    /// <summary>Closes the clients when the kernel is disposed (the notebook shut down), waiting at most <see cref="CloseTimeout"/>.</summary>
    public void Dispose()
    {
        var closing = new List<Task>();
        if (Client is { } client)
        {
            closing.Add(client.DisposeAsync().AsTask());
        }

        if (Tasks is { } tasks)
        {
            closing.Add(tasks.DisposeAsync().AsTask());
        }

        (Client, Tasks) = (null, null);
        try
        {
            Task.WhenAll(closing).Wait(CloseTimeout);
        }
        catch (AggregateException)
        {
            // Closing is best effort: the process is going away, and the controller drops dead connections.
        }
    }

    /// <summary>The task client from the task.cap in the same folder, when there is one; a failure there is a note, not an error.</summary>
    private static async Task<TaskClient?> ConnectTasksAsync(MultiEngineClient client, KernelInvocationContext context)
    {
        var folder = Path.GetDirectoryName(client.CapabilityPath);
        var taskCap = folder is null ? null : Path.Combine(folder, CapabilityInterfaces.Task + ".cap");
        if (taskCap is null || !File.Exists(taskCap))
        {
            return null;
        }

        try
        {
            return await TaskClient.ConnectAsync(taskCap, ReconnectOptions.Interactive, context.CancellationToken).ConfigureAwait(false);
        }
        catch (CapClusterException e)
        {
            context.DisplayAs($"No tc: {e.Message}", "text/plain");
            return null;
        }
    }
}
