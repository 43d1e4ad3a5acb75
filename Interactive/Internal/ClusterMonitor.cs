using System.Globalization;
using System.Runtime.CompilerServices;
using CapCluster.Client;
using CapCluster.Security;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Formatting;

namespace CapCluster.Interactive.Internal;

/// <summary>
/// #!cluster: shows the engines, their queues and the task farm; when the cell has code after the directive, the
/// display is refreshed in place while that code runs (a long MapAsync, say), with progress: done / total, rate, ETA.
/// </summary>
internal sealed class ClusterMonitor(NotebookCluster cluster, TimeProvider time)
{
    private readonly ConditionalWeakTable<KernelCommand, Watch> pending = [];

    public async Task ShowAsync(ClusterCommand command, KernelInvocationContext context)
    {
        var period = NotebookOptions.ClusterRefreshPeriod;
        if (command.Refresh is { } text)
        {
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || seconds < NotebookOptions.MinimumRefreshPeriod.TotalSeconds || seconds > NotebookOptions.MaximumRefreshPeriod.TotalSeconds)
            {
                context.Fail(command, message: $"#!cluster: --refresh '{text}' is not a number of seconds from {NotebookOptions.MinimumRefreshPeriod.TotalSeconds.ToString(CultureInfo.InvariantCulture)} to {NotebookOptions.MaximumRefreshPeriod.TotalSeconds.ToString(CultureInfo.InvariantCulture)}");
                return;
            }

            period = TimeSpan.FromSeconds(seconds);
        }

        if (await cluster.EnsureConnectedAsync("#!cluster", command, context).ConfigureAwait(false) is not { } client)
        {
            return;
        }

        var baseline = await ReadAsync(client, cluster.Tasks, context.CancellationToken).ConfigureAwait(false);
        var watch = new Watch(client, cluster.Tasks, baseline, period);
        watch.Shown = context.Display(watch.View(baseline), PxFormatting.MimeTypes);
        pending.AddOrUpdate(ParallelMagics.Cell(context.Command), watch);
    }

    /// <summary>The C# kernel's middleware: refreshes a #!cluster display while the rest of its cell runs.</summary>
    public async Task InterceptAsync(KernelCommand command, KernelInvocationContext context, KernelPipelineContinuation next)
    {
        if (command is not SubmitCode || !pending.TryGetValue(ParallelMagics.Cell(command), out var watch))
        {
            await next(command, context).ConfigureAwait(false);
            return;
        }

        pending.Remove(ParallelMagics.Cell(command));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var refreshing = RefreshLoopAsync(watch, stop.Token);
        try
        {
            await next(command, context).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await refreshing.ConfigureAwait(false);
            await RefreshAsync(watch, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RefreshLoopAsync(Watch watch, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(watch.Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await RefreshAsync(watch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The cell finished: the last refresh follows.
        }
    }

    private async Task RefreshAsync(Watch watch, CancellationToken cancellationToken)
    {
        try
        {
            watch.Shown?.Update(watch.View(await ReadAsync(watch.Client, watch.Tasks, cancellationToken).ConfigureAwait(false)));
        }
        catch (Exception e) when (e is CapClusterException || cancellationToken.IsCancellationRequested)
        {
            // A controller that does not answer one refresh (restarting, say) is shown again at the next one; a refresh
            // cut short because the cell finished (a cancelled call, whatever its exception) is followed by the last one.
        }
    }

    private async Task<Reading> ReadAsync(MultiEngineClient client, TaskClient? tasks, CancellationToken cancellationToken)
    {
        var engines = await client.GetEnginesAsync(cancellationToken).ConfigureAwait(false);
        var queues = engines.Count == 0 ? [] : await client.QueueStatusAsync([.. engines.Select(e => e.Id)], cancellationToken).ConfigureAwait(false);
        var farm = tasks is null ? null : await tasks.QueueStatusAsync(cancellationToken).ConfigureAwait(false);
        return new Reading(time.GetUtcNow(), engines, queues, farm);
    }

    private sealed record Reading(DateTimeOffset At, IReadOnlyList<EngineStatus> Engines, IReadOnlyList<EngineQueueStatus> Queues, TaskQueueStatus? Tasks)
    {
        public long TasksDone => Tasks is { } t ? t.Succeeded + t.Failed + t.Aborted : 0;

        public long TasksLeft => Tasks is { } t ? t.Queued + t.Running : 0;

        public long CallsDone => Queues.Sum(q => q.Completed);

        public long CallsLeft => Queues.Sum(q => (long)q.Queued + q.Running);
    }

    private sealed class Watch(MultiEngineClient client, TaskClient? tasks, Reading baseline, TimeSpan period)
    {
        public MultiEngineClient Client { get; } = client;

        public TaskClient? Tasks { get; } = tasks;

        public TimeSpan Period { get; } = period;

        public DisplayedValue? Shown { get; set; }

        public ClusterView View(Reading now)
        {
            var elapsed = now.At - baseline.At;
            var progress = new List<Progress>();
            Add(progress, "tasks", now.TasksDone - baseline.TasksDone, now.TasksLeft, elapsed);
            Add(progress, "engine queues", now.CallsDone - baseline.CallsDone, now.CallsLeft, elapsed);
            return new ClusterView(now.At, now.Engines, now.Queues, now.Tasks, progress);
        }

        private static void Add(List<Progress> progress, string name, long done, long left, TimeSpan elapsed)
        {
            done = Math.Max(done, 0);
            if (done + left == 0)
            {
                return;
            }

            var rate = elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : 0;
            TimeSpan? eta = left == 0 ? TimeSpan.Zero : rate > 0 ? TimeSpan.FromSeconds(left / rate) : null;
            progress.Add(new Progress(name, done, done + left, rate, eta));
        }
    }
}
