using CapCluster.Client;

namespace CapCluster.Repl;

/// <summary>%px and %result: calls on several engines, each engine's answer printed as it arrives.</summary>
internal sealed partial class ConsoleSession
{
    /// <summary>The engines still running the last %px call, ascending; empty when it finished or there was none.</summary>
    public IReadOnlyList<int> StillRunning => last is null ? [] : [.. last.Calls.Where(c => !c.Answer.IsCompleted).Select(c => c.EngineId).Order()];

    private async Task PxAsync(ConsoleCommand.Px px, CancellationToken cancellationToken)
    {
        var ids = await TargetIdsAsync(px.TargetOverride, cancellationToken).ConfigureAwait(false);
        if (ids.Count == 0)
        {
            output.Problem("%px: no engine is registered; start some with `capcluster start -n 4`");
            return;
        }

        // One call per engine, so that a quick engine's output shows before a slow one's.
        last = new PxCall(px.Code, [.. ids.Select(id => (id, Engines.ExecuteAsync(px.Code, id)))]);
        if (px.BlockOverride ?? Block)
        {
            await ShowAsync(last, withInput: false, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            output.Note($"Sent to engine(s) {Join(ids)} without waiting; %result waits for and prints the output.");
        }
    }

    private async Task ResultAsync(int? executionCount, CancellationToken cancellationToken)
    {
        if (executionCount is not int n)
        {
            if (last is null)
            {
                output.Problem("%result: no %px call yet; %result N shows execution N (the N of Out[N]) from the engines' history");
                return;
            }

            await ShowAsync(last, withInput: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var ids = await TargetIdsAsync(null, cancellationToken).ConfigureAwait(false);
        await ShowAsync(new PxCall($"%result {n}", [.. ids.Select(id => (id, Engines.GetResultAsync(n, id)))]), withInput: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<int>> TargetIdsAsync(TargetSpec? spec, CancellationToken cancellationToken) =>
        (spec ?? new TargetSpec(Engines.Targets)).Ids ?? await Engines.GetIdsAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Prints each engine's answer as it arrives. After <see cref="ConsoleOptions.WaitNoticeAfter"/> it says what it
    /// still waits for; cancelling stops the wait (the engines go on, and %result can show their answers later).
    /// </summary>
    private async Task ShowAsync(PxCall call, bool withInput, CancellationToken cancellationToken)
    {
        var pending = call.Calls.ToDictionary(c => (Task)c.Answer, c => c.EngineId);
        var cancelled = Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
        var notice = Task.Delay(options.WaitNoticeAfter, time, cancellationToken);
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny([.. pending.Keys, cancelled, notice]).ConfigureAwait(false);
            if (done == cancelled || cancellationToken.IsCancellationRequested)
            {
                output.Note($"Interrupted: stopped waiting for engine(s) {Join(pending.Values.Order())}, which go on; %result shows the output when they finish.");
                return;
            }

            if (done == notice)
            {
                output.Note($"Waiting for engine(s) {Join(pending.Values.Order())}... (Ctrl-C stops waiting)");
                notice = Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
                continue;
            }

            var engineId = pending[done];
            pending.Remove(done);
            var answer = (Task<ExecuteResults>)done;
            if (answer.IsCompletedSuccessfully)
            {
                foreach (var result in answer.Result)
                {
                    output.Result(result, withInput);
                }
            }
            else
            {
                output.Failure(engineId, answer.Exception?.InnerException ?? new TaskCanceledException(answer));
            }
        }
    }
}
