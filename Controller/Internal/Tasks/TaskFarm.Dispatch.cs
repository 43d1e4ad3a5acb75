using CapCluster.Protocol;
using Google.Protobuf.Collections;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>Sending ready tasks to engines and taking their results back.</summary>
internal sealed partial class TaskFarm
{
    /// <summary>Hands ready tasks to engines with room, then the finished results to their owners.</summary>
    private void Pump()
    {
        DispatchReady();
        DeliverFinished();
    }

    /// <summary>
    /// Gives the submitting streams the results finished since the last call, outside the lock, one list per
    /// stream: it writes them at once, on this thread, as one message.
    /// </summary>
    private void DeliverFinished()
    {
        List<(TaskSubscriber Subscriber, TaskResult Result)> finished;
        lock (sync)
        {
            if (toDeliver.Count == 0)
            {
                return;
            }

            finished = [.. toDeliver];
            toDeliver.Clear();
        }

        foreach (var stream in finished.GroupBy(f => f.Subscriber))
        {
            stream.Key.Deliver([.. stream.Select(f => f.Result)]);
        }
    }

    /// <summary>Hands ready tasks to engines with room, least loaded first, in batches.</summary>
    private void DispatchReady()
    {
        lock (sync)
        {
            while (ready.Count > 0)
            {
                // Least loaded first; one that can take none of the ready tasks (what they require) is passed over.
                var engines = registry.Snapshot();
                HashSet<int>? passedOver = null;
                var dispatched = false;
                while (LeastLoaded(engines, passedOver) is { } engine)
                {
                    var batch = TakeFor(engine);
                    if (batch.Count > 0)
                    {
                        Dispatch(engine, batch);
                        dispatched = true;
                        break;
                    }

                    (passedOver ??= []).Add(engine.Id);
                }

                if (!dispatched)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Of <paramref name="engines"/> (in id order), the one with room for a batch that runs the fewest tasks, the first of
    /// equals, not one of <paramref name="passedOver"/>; null for none. A loop, not a query: it runs for every dispatch.
    /// </summary>
    private RegisteredEngine? LeastLoaded(IReadOnlyList<RegisteredEngine> engines, HashSet<int>? passedOver)
    {
        RegisteredEngine? least = null;
        var fewest = int.MaxValue;
        for (var i = 0; i < engines.Count; i++)
        {
            var engine = engines[i];
            if (engine.Ended.IsCancellationRequested || passedOver?.Contains(engine.Id) == true)
            {
                continue;
            }

            var load = LoadOf(engine.Id);
            if (load.Batches < options.BatchesPerEngine && load.Tasks < fewest)
            {
                (least, fewest) = (engine, load.Tasks);
            }
        }

        return least;
    }

    private EngineLoad LoadOf(int engine)
    {
        if (!loads.TryGetValue(engine, out var load))
        {
            loads[engine] = load = new EngineLoad();
        }

        return load;
    }

    private List<TaskEntry> TakeFor(RegisteredEngine engine)
    {
        // Share the ready tasks among the engines that can take them, so one engine does not take all of a burst; and no
        // more than run in about BatchTime on this engine, as far as its last tasks tell.
        var engines = Math.Max(1, registry.Count);
        var share = Math.Max(1, Math.Min(LoadOf(engine.Id).BatchSize(options), (ready.Count + engines - 1) / engines));
        (TaskOwner Owner, string? WhyNot)? checkedOwner = null;
        while (true)
        {
            var batch = ready.Take(share, owner => owner.RunsOn(engine.Serves), entry => Satisfies(engine, CurrentSpec(entry).Requires));
            var taken = batch.Count;
            for (var i = 0; i < batch.Count; i++)
            {
                var entry = batch[i];
                // Those a run made are new here.
                tasks[entry.Id] = entry;

                // A task runs with its capability's authority: one revoked, expired or gone since it was queued runs nothing.
                if (checkedOwner?.Owner != entry.Owner)
                {
                    checkedOwner = (entry.Owner, CapabilityLiveness.WhyNot(entry.Owner.CapabilityId, findCapability(entry.Owner.CapabilityId), time.GetUtcNow()));
                }

                if (checkedOwner.Value.WhyNot is { } why)
                {
                    TaskFarmLog.NotRun(logger, entry.Id, entry.Owner.CapabilityId, why);
                    Finish(entry, TaskState.Failed, null, $"not run: {why}");
                    batch.RemoveAt(i--);
                }
            }

            // All it took were of dead capabilities: the engine may still take others.
            if (batch.Count > 0 || taken == 0 || ready.Count == 0)
            {
                return batch;
            }
        }
    }

    /// <summary>Whether the engine has every property the task requires (indexed: the field's enumerator is an allocation per ready task).</summary>
    private static bool Satisfies(RegisteredEngine engine, RepeatedField<Requirement> requires)
    {
        for (var i = 0; i < requires.Count; i++)
        {
            var (name, wanted) = (requires[i].Name, requires[i].Value);
            if (!engine.Properties.TryGetValue(name, out var value) || (wanted.Length > 0 && value != wanted))
            {
                return false;
            }
        }

        return true;
    }

    private static TaskSpec CurrentSpec(TaskEntry entry) => entry.RunningRecovery ? entry.Spec.Recovery : entry.Spec;

    private void Dispatch(RegisteredEngine engine, List<TaskEntry> batch)
    {
        Unspill(batch);
        var load = LoadOf(engine.Id);
        var request = new TaskBatch();
        // Whether the request before may be sent again as "the same again": not the one that lists a closure's images to
        // this engine (run again, its images would be hashed again), so the next task of its run goes in full.
        var repeatable = new SpecRun<bool>();
        foreach (var entry in batch)
        {
            entry.State = TaskState.Running;
            Tally(entry, static c => c.Running++);
            entry.Engine = engine.Id;
            entry.Attempts++;
            request.TaskIds.Add(entry.Id);
            var spec = CurrentSpec(entry);
            if (!repeatable.StartsWith(spec) && repeatable.Value)
            {
                request.Tasks.Add(SameAsPrevious);
            }
            else
            {
                var sent = ToRequest(spec, load.Assemblies);
                request.Tasks.Add(sent);
                repeatable.Value = sent.BodyCase != TaskRequest.BodyOneofCase.Function || ReferenceEquals(sent.Function, spec.Function);
            }

            if (spec.TimeoutMs > 0)
            {
                WatchTimeout(entry, entry.Attempts, TimeSpan.FromMilliseconds(spec.TimeoutMs));
            }
        }

        load.Batches++;
        load.Tasks += batch.Count;
        var result = engine.Enqueue(RegisteredEngine.TaskFarmTurn, id => new Work { WorkId = id, Request = new EngineRequest { Tasks = request } });
        var attempts = batch.Select(e => e.Attempts).ToList();
        // Runs on the thread that read the engine's result (see QueuedWork): no thread hop.
        _ = result.ContinueWith(done => OnBatchDone(engine, batch, attempts, done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, System.Threading.Tasks.TaskScheduler.Default);
    }

    // Never changed: only encoded.
    private static readonly TaskRequest SameAsPrevious = new() { SameAsPrevious = true };

    private TaskRequest ToRequest(TaskSpec spec, AssemblyStore.Sent sentAssemblies)
    {
        var request = new TaskRequest { ClearBefore = spec.ClearBefore, ClearAfter = spec.ClearAfter };
        if (spec.BodyCase == TaskSpec.BodyOneofCase.Code)
        {
            request.Code = spec.Code.Code;
            request.Push.AddRange(spec.Code.Push);
            request.Pull.AddRange(spec.Code.Pull);
        }
        else
        {
            request.Function = assemblies.Attach(spec.Function, sentAssemblies);
        }

        return request;
    }

    private void OnBatchDone(RegisteredEngine engine, List<TaskEntry> batch, List<int> attempts, Task<EngineResult> done)
    {
        lock (sync)
        {
            var load = LoadOf(engine.Id);
            load.Batches--;
            load.Tasks -= batch.Count;
            if (engine.Ended.IsCancellationRequested && load.Batches == 0)
            {
                loads.Remove(engine.Id);
            }

            var replies = done.IsCompletedSuccessfully ? done.Result.Result.Reply : null;
            if (replies?.Tasks is { } ran)
            {
                load.Ran(ran);
            }

            var lost = done.IsCompletedSuccessfully ? null : done.Exception?.InnerException is RpcException rpc ? rpc.Status.Detail : $"engine {engine.Id} did not answer";
            if (lost is not null && logger.IsEnabled(LogLevel.Warning))
            {
                var counting = batch.Where((e, i) => !e.IsFinished && e.Attempts == attempts[i]).Select(e => e.Id).ToList();
                TaskFarmLog.BatchLost(logger, engine.Id, counting.Count, string.Join(", ", counting), lost);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var entry = batch[i];
                if (entry.IsFinished || entry.Attempts != attempts[i])
                {
                    continue; // timed out meanwhile: this answer is late and no longer counts
                }

                if (lost is not null)
                {
                    RetryOrFail(entry, null, lost, engineLost: true);
                }
                else if (replies?.Error is { } batchError)
                {
                    RetryOrFail(entry, batchError, null);
                }
                else if (replies?.Tasks is not { } taskReplies || i >= taskReplies.Replies.Count)
                {
                    RetryOrFail(entry, null, $"engine {engine.Id} did not return this task's result");
                }
                else if (taskReplies.Replies[i].Aborted)
                {
                    Skipped(entry, engine.Id);
                }
                else if (taskReplies.Replies[i].Error is { } error)
                {
                    RetryOrFail(entry, error, null);
                }
                else
                {
                    Succeed(entry, engine.Id, taskReplies.Replies[i]);
                }
            }
        }

        Pump();
    }

    /// <summary>A running task's result arrived. (Called only for running tasks.)</summary>
    private void Succeed(TaskEntry entry, int engine, TaskReply reply)
    {
        Tally(entry, static c => c.Running--);
        if (entry.AbortRequested)
        {
            Finish(entry, TaskState.Aborted, null, $"aborted after it was sent to engine {engine}, which ran it to its end (an engine cannot stop running code); its result was discarded");
            return;
        }

        var result = NewResult(entry, TaskState.Succeeded);
        result.EngineId = engine;
        result.Values.AddRange(reply.Values);
        result.Stdout = reply.Stdout;
        result.Stderr = reply.Stderr;
        result.StartedUnixUs = reply.StartedUnixUs;
        result.CompletedUnixUs = reply.CompletedUnixUs;
        result.Recovered = entry.RunningRecovery;
        Complete(entry, result);
    }

    /// <summary>The engine skipped a running task: it was told of the abort before the task's turn in its batch came. (Called only for running tasks.)</summary>
    private void Skipped(TaskEntry entry, int engine)
    {
        if (!entry.AbortRequested)
        {
            // Never told to: an engine out of step with this controller. The task did not run; it counts as an attempt.
            RetryOrFail(entry, null, $"engine {engine} skipped it as aborted, but it was not aborted");
            return;
        }

        Tally(entry, static c => c.Running--);
        Finish(entry, TaskState.Aborted, null, $"{NotRunAborted} (engine {engine} skipped it in its batch)");
    }

    /// <summary>A running task failed, lost its engine (<paramref name="engineLost"/>) or timed out. (Called only for running tasks.)</summary>
    private void RetryOrFail(TaskEntry entry, RemoteError? error, string? failure, bool engineLost = false)
    {
        Tally(entry, static c => c.Running--);
        if (entry.AbortRequested)
        {
            Finish(entry, TaskState.Aborted, error, failure ?? "aborted after it was sent to an engine, which ran it (an engine cannot stop running code)");
            return;
        }

        if (engineLost && ++entry.EngineLosses >= options.MaxEngineLosses)
        {
            // Retried again, a task that ends its engine would take one more with it each time.
            var lostAgain = $"{failure}: the {Ordinal(entry.EngineLosses)} engine lost while it ran this task, which may be what ends them " +
                "(Environment.Exit, a crash, running out of memory), so it is not sent again (--max-engine-losses)";
            TaskFarmLog.Failed(logger, LogLevel.Warning, entry.Id, entry.Owner.CapabilityId, entry.Engine, entry.Attempts, lostAgain);
            Finish(entry, TaskState.Failed, null, lostAgain);
            return;
        }

        var reason = error is null ? failure ?? "failed" : $"raised {error.Type}";
        var retriesLeft = !entry.RunningRecovery && entry.Attempts <= entry.Spec.Retries;
        if (retriesLeft)
        {
            TaskFarmLog.Retrying(logger, entry.Id, entry.Owner.CapabilityId, entry.Engine, entry.Attempts, reason, entry.Attempts, entry.Spec.Retries);
            Requeue(entry);
            return;
        }

        if (!entry.RunningRecovery && entry.Spec.Recovery is not null)
        {
            TaskFarmLog.Recovering(logger, entry.Id, entry.Owner.CapabilityId, entry.Engine, entry.Attempts, reason);
            entry.RunningRecovery = true;
            Requeue(entry);
            return;
        }

        // A task's own exception on its only attempt is an ordinary result; anything the farm did about it is worth a line.
        var level = entry.Attempts > 1 || entry.RunningRecovery || failure is not null ? LogLevel.Information : LogLevel.Debug;
        TaskFarmLog.Failed(logger, level, entry.Id, entry.Owner.CapabilityId, entry.Engine, entry.Attempts, reason);
        Finish(entry, TaskState.Failed, error, failure);
    }

    /// <summary>
    /// Queues a task again after a failed attempt, and journals what its attempts have used: only here, not at each
    /// dispatch, so the hot path of tasks that succeed writes nothing more, and a restart charges a task for every attempt
    /// that failed or lost its engine but not for the one the lost controller was running.
    /// </summary>
    private void Requeue(TaskEntry entry)
    {
        entry.State = TaskState.Queued;
        ready.AddLast(entry);
        journal?.Attempted(entry.Id, new AttemptCounts(entry.Attempts, entry.EngineLosses, entry.RunningRecovery));
    }

    private void Finish(TaskEntry entry, TaskState state, RemoteError? error, string? failure)
    {
        var result = NewResult(entry, state);
        result.EngineId = entry.Engine ?? -1;
        result.Error = error;
        result.Failure = failure ?? string.Empty;
        result.CompletedUnixUs = UnixMicroseconds();
        result.Recovered = entry.RunningRecovery;
        Complete(entry, result);
    }

    private TaskResult NewResult(TaskEntry entry, TaskState state) =>
        new() { TaskId = entry.Id, State = state, SubmittedUnixUs = entry.SubmittedUnixUs, Attempts = entry.Attempts };

    private void Complete(TaskEntry entry, TaskResult result)
    {
        var subscriber = entry.Subscriber;
        ReleaseUnfinished(entry);
        var encoded = entry.Finish(result);
        journal?.Finish(entry.Id, encoded);
        switch (result.State)
        {
            case TaskState.Succeeded:
                Tally(entry, static c => c.Succeeded++);
                break;
            case TaskState.Aborted:
                Tally(entry, static c => c.Aborted++);
                break;
            default:
                Tally(entry, static c => c.Failed++);
                break;
        }

        if (subscriber is not null)
        {
            toDeliver.Add((subscriber, result));
        }

        Held(entry);

        if (!dependents.Remove(entry.Id, out var waiting))
        {
            return;
        }

        foreach (var dependent in waiting.Where(d => !d.IsFinished))
        {
            if (result.State == TaskState.Succeeded)
            {
                if (--dependent.Waiting == 0)
                {
                    ready.AddLast(dependent);
                }
            }
            else
            {
                Finish(dependent, TaskState.Failed, null, $"dependency {entry.Id} did not succeed ({result.State.ToString().ToLowerInvariant()}: {Describe(result)})");
            }
        }
    }

    /// <summary>
    /// Keeps a finished entry's result, evicting (and forgetting in the journal) beyond the limits the oldest of the
    /// holder that holds the most, or of its own holder past its bytes (see <see cref="FinishedResults"/>).
    /// </summary>
    private void Held(TaskEntry entry)
    {
        held.Finished(entry.Owner.CapabilityId, entry.Id, entry.ResultBytes);
        if (held.Evict(entry.Owner.CapabilityId, heldResultBytes) is not { } evictedIds)
        {
            return;
        }

        foreach (var old in evictedIds)
        {
            var evicted = tasks[old];
            if (!evicting)
            {
                evicting = true;
                TaskFarmLog.EvictionStarted(logger, options.MaxFinishedResults, old, evicted.Owner.CapabilityId);
            }

            TaskFarmLog.Evicted(logger, old, evicted.Owner.CapabilityId);
            tasks.Remove(old);
        }

        ForgetInJournal(evictedIds);
    }

    /// <summary>The bytes of task <paramref name="id"/>'s result when it is held here, finished; null when it is not.</summary>
    private long? HeldResultBytes(long id) => tasks.TryGetValue(id, out var entry) && entry.IsFinished ? entry.ResultBytes : null;

    /// <summary>Counts a change of <paramref name="entry"/>'s state in the cluster's totals and in its submitter's.</summary>
    private void Tally(TaskEntry entry, Action<TaskCounts> change)
    {
        change(totals);
        change(entry.Owner.Counts);
    }

    private void WatchTimeout(TaskEntry entry, int attempt, TimeSpan timeout) =>
        _ = Task.Delay(timeout, time).ContinueWith(_ =>
        {
            lock (sync)
            {
                if (!entry.IsFinished && entry.State == TaskState.Running && entry.Attempts == attempt)
                {
                    TaskFarmLog.TimedOut(logger, entry.Id, entry.Owner.CapabilityId, entry.Engine, timeout.TotalSeconds, attempt);
                    RetryOrFail(entry, null, $"timed out after {timeout.TotalSeconds:0.###} s on engine {entry.Engine}");
                }
            }

            Pump();
        }, System.Threading.Tasks.TaskScheduler.Default);

    private static string Ordinal(int n) => n switch { 1 => "first", 2 => "second", 3 => "third", _ => $"{n}th" };
}
