using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// With a journal, accepted tasks are answered only once the journal's next group commit has made them durable; they
/// run meanwhile. A restart reads the journal back: finished tasks keep their results, every other task is queued
/// again with the attempts it had used (journaled when one failed or lost its engine), the one it was running when the
/// controller was lost not charged.
/// </summary>
internal sealed partial class TaskFarm
{
    // Shorter stretches of spilled tasks keep their entries: a run costs about what one entry does.
    private const int MinimumRun = 32;

    // A restart lets the queued tasks it read beyond the limit wait in the journal again every this many.
    private const int RestoreBatch = 4096;

    /// <summary>The runs of queued tasks waiting in the journal (each one object in memory however many tasks it holds).</summary>
    public int SpilledRuns
    {
        get
        {
            lock (sync)
            {
                return ready.Runs;
            }
        }
    }

    /// <summary>About the memory the specs of ready tasks hold, as counted against <see cref="TaskFarmOptions.MaxQueuedSpecBytesInMemory"/>.</summary>
    public long QueuedSpecBytes
    {
        get
        {
            lock (sync)
            {
                return ready.SpecBytes;
            }
        }
    }

    /// <summary>
    /// Reads the journal back. Called once, before the farm takes work. Queued tasks are admitted as they are read, and
    /// those beyond the in-memory limit go back to waiting in the journal every <see cref="RestoreBatch"/> tasks, so a
    /// restart holds no more specs than the farm would have held running. A task whose dependency comes later in the
    /// journal (one submitted in the same batch, after it) is admitted once everything is read.
    /// </summary>
    /// <exception cref="CapClusterException">The journal cannot be read.</exception>
    public (int Queued, int Finished) Restore()
    {
        if (journal is null)
        {
            return (0, 0);
        }

        var queued = 0;
        var finished = 0;
        var batch = new List<TaskEntry>();
        var later = new List<TaskEntry>();
        lock (sync)
        {
            assemblies.Restore(journal.LoadAssemblies());
            journal.LoadTasks(task =>
            {
                var owner = OwnerOf(task.Owner);
                var entry = new TaskEntry(task.Id, task.Spec is { } spec ? ReadBack(spec) : new TaskSpec(), owner, null, task.SubmittedUs);
                tasks[entry.Id] = entry;
                nextId = Math.Max(nextId, entry.Id);
                Tally(entry, static c => c.Submitted++);
                if (task.Result is { } result)
                {
                    entry.Finish(result);
                    Tally(entry, result.State switch
                    {
                        TaskState.Succeeded => static c => c.Succeeded++,
                        TaskState.Aborted => static c => c.Aborted++,
                        _ => static c => c.Failed++,
                    });
                    Held(entry);
                    finished++;
                    return;
                }

                ChargeUnfinished(entry, task.Spec?.CalculateSize() ?? 0);
                (entry.Attempts, entry.EngineLosses, entry.RunningRecovery) = task.Attempts;
                if (entry.EngineLosses >= options.MaxEngineLosses)
                {
                    // Started again with a lower --max-engine-losses: the engines it already took are enough.
                    Finish(entry, TaskState.Failed, null, $"{Ordinal(entry.EngineLosses)} engine lost while it ran this task before the controller restarted, " +
                        "which may be what ends them, so it is not sent again (--max-engine-losses)");
                    finished++;
                    return;
                }

                queued++;
                if (DependsOnALaterTask(entry))
                {
                    later.Add(entry);
                    return;
                }

                Admit(entry);
                batch.Add(entry);
                if (batch.Count == RestoreBatch)
                {
                    SpillBeyondLimit(batch);
                    batch.Clear();
                }
            });

            Admit(later);
            batch.AddRange(later);
            SpillBeyondLimit(batch);
        }

        DeliverFinished();
        Pump();
        return (queued, finished);
    }

    private static bool DependsOnALaterTask(TaskEntry entry)
    {
        foreach (var dependency in entry.Spec.After)
        {
            if (dependency > entry.Id)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Hands accepted tasks (and the images and closures first seen with them) to the journal; completes once they are
    /// durable. They are written once <see cref="Submit"/> has dispatched them (<see cref="TaskJournal.WriteNow"/>).
    /// </summary>
    private Task WriteToJournal(List<TaskEntry> admitted, AssemblyRecords added) =>
        journal!.Submit([.. admitted.Select(e => (e.Id, e.Owner.CapabilityId, e.SubmittedUnixUs, e.Spec))], added, wakeLater: true);

    /// <summary>
    /// Once <paramref name="written"/> (the journal's write of <paramref name="admitted"/>) is done: lets them wait in the
    /// journal beyond the limit. They run meanwhile; if the journal cannot keep them they are aborted (their submission
    /// is answered refused, saying why), so that nothing runs that a restart would not know of. Attach it only once they
    /// were admitted: a spilled spec no longer lists the task's dependencies.
    /// </summary>
    private Task<string?> Journaled(Task written, List<TaskEntry> admitted)
    {
        return written.ContinueWith(
            written =>
            {
                if (written.IsCompletedSuccessfully)
                {
                    lock (sync)
                    {
                        SpillBeyondLimit(admitted);
                    }

                    return (string?)null;
                }

                var reason = written.Exception?.InnerException?.Message ?? "the task journal could not be written";
                lock (sync)
                {
                    var unwritten = admitted.Where(e => !e.IsFinished).ToList();
                    foreach (var entry in unwritten)
                    {
                        ready.Remove(entry);
                        entry.AbortRequested = true;
                        if (entry.State == TaskState.Queued)
                        {
                            Finish(entry, TaskState.Aborted, null, "not journaled: " + reason);
                        }
                    }
                }

                DeliverFinished();
                return reason;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            System.Threading.Tasks.TaskScheduler.Default);
    }

    /// <summary>Completes once the journal holds everything handed to it so far.</summary>
    private async Task Recorded(string what)
    {
        if (journal is null)
        {
            return;
        }

        try
        {
            await journal.Flush().ConfigureAwait(false);
        }
        catch (CapClusterException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{what}, but the controller could not journal it, so a restart may not know: {e.Message}"));
        }
    }

    /// <summary>
    /// While more than the limit are queued, lets durable queued <paramref name="candidates"/> (in id order) wait in the
    /// journal: long stretches of them become runs of the ready queue (a few bytes for the lot), the rest keep their
    /// entries without their specs.
    /// </summary>
    private void SpillBeyondLimit(List<TaskEntry> candidates)
    {
        if (journal is null || ready.SpecBytes <= options.MaxQueuedSpecBytesInMemory)
        {
            return;
        }

        foreach (var entry in ready.Collapse(candidates, MinimumRun))
        {
            tasks.Remove(entry.Id);
        }

        foreach (var entry in candidates)
        {
            if (entry.State == TaskState.Queued && entry.CanSpill)
            {
                ready.Spill(entry);
            }
        }
    }

    /// <summary>Reads back the specs of spilled tasks about to run, in one query.</summary>
    private void Unspill(List<TaskEntry> batch)
    {
        List<TaskEntry>? spilled = null;
        foreach (var entry in batch)
        {
            if (entry.IsSpilled)
            {
                (spilled ??= []).Add(entry);
            }
        }

        if (spilled is null)
        {
            return;
        }

        Dictionary<long, TaskSpec> specs;
        var problem = "it is missing from the journal";
        try
        {
            specs = journal!.ReadSpecs([.. spilled.Select(e => e.Id)]);
        }
        catch (CapClusterException e)
        {
            specs = [];
            problem = e.Message;
        }

        foreach (var entry in spilled)
        {
            // A spec that cannot be read back (short of the journal being damaged, it cannot happen) fails its task, saying why.
            if (specs.TryGetValue(entry.Id, out var spec))
            {
                // A run's entry learns its size here, as its submission had it: what its owner was charged.
                entry.SpecBytes = entry.SpecBytes < 0 ? spec.CalculateSize() : entry.SpecBytes;
                entry.Unspill(ReadBack(spec));
            }
            else
            {
                entry.Unspill(Failing(problem));
            }
        }
    }

    /// <summary>
    /// A journaled spec, taken in again: its function names a closure the journal kept (or, journaled by an earlier
    /// version, lists its assemblies). One whose assemblies were not kept becomes a task that fails saying so.
    /// </summary>
    private TaskSpec ReadBack(TaskSpec spec) =>
        (AssemblyStore.Check(spec) ?? assemblies.Take(spec, added: null, sender: null)) is { } problem ? Failing(problem) : spec;

    /// <summary>A task that fails, saying why its spec could not be read back.</summary>
    private static TaskSpec Failing(string problem) =>
        new() { Code = new CodeTaskSpec { Code = $"throw new System.InvalidOperationException({QuotedFailure(problem)});" } };

    private static string QuotedFailure(string text) => "\"the task's spec could not be read back: " + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>The farm's view of a journaled task's owner, which may since have left the registry.</summary>
    private TaskOwner OwnerOf(string capabilityId) =>
        owners.TryGetValue(capabilityId, out var owner) ? owner
        : findCapability(capabilityId) is { } record ? OwnerOf(record)
        : owners[capabilityId] = new TaskOwner([new CapabilityRecord(capabilityId, CapabilityInterfaces.Task, null, default, null, "", "", Revoked: true, ParentId: "(unknown)")]);
}
