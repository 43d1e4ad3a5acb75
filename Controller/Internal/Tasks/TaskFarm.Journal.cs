using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// With a journal, accepted tasks wait (holding their ids) until the journal's next group commit has made them
/// durable; only then are they admitted to run and answered. A restart reads the journal back: finished tasks
/// keep their results, every other task is queued again (its retries not charged for the lost controller).
/// </summary>
internal sealed partial class TaskFarm
{
    /// <summary>Reads the journal back. Called once, before the farm takes work.</summary>
    /// <exception cref="CapClusterException">The journal cannot be read.</exception>
    public (int Queued, int Finished) Restore()
    {
        if (journal is null)
        {
            return (0, 0);
        }

        var (journaled, images) = journal.Load();
        var queued = new List<TaskEntry>();
        var finished = 0;
        lock (sync)
        {
            foreach (var (hash, image) in images)
            {
                assemblies.Restore(hash, image);
            }

            foreach (var task in journaled)
            {
                var owner = OwnerOf(task.Owner);
                var entry = new TaskEntry(task.Id, task.Spec is { } spec ? assemblies.Strip(spec) : new TaskSpec(), owner, null, task.SubmittedUs);
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
                }
                else
                {
                    queued.Add(entry);
                }
            }

            foreach (var entry in queued)
            {
                Admit(entry);
            }
        }

        DeliverFinished();
        Pump();
        return (queued.Count, finished);
    }

    /// <summary>Hands accepted tasks to the journal; admits them once durable, or drops them saying why not.</summary>
    private Task<string?> Journal(List<TaskEntry> admitted, List<(string Hash, ByteString Image)> images)
    {
        var records = admitted.Select(e => (e.Id, e.Owner.CapabilityId, e.SubmittedUnixUs, e.Spec)).ToList();
        return journal!.Submit(records, images).ContinueWith(
            written =>
            {
                lock (sync)
                {
                    if (written.IsCompletedSuccessfully)
                    {
                        Admit(admitted);
                    }
                    else
                    {
                        foreach (var entry in admitted)
                        {
                            tasks.Remove(entry.Id);
                            Tally(entry, static c => c.Submitted--);
                        }
                    }
                }

                if (!written.IsCompletedSuccessfully)
                {
                    journal.Forget([.. admitted.Select(e => e.Id)]);
                    return written.Exception?.InnerException?.Message ?? "the task journal could not be written";
                }

                DeliverFinished();
                Pump();
                return (string?)null;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            System.Threading.Tasks.TaskScheduler.Default);
    }

    /// <summary>The farm's view of a journaled task's owner, which may since have left the registry.</summary>
    private TaskOwner OwnerOf(string capabilityId) =>
        owners.TryGetValue(capabilityId, out var owner) ? owner
        : findCapability(capabilityId) is { } record ? OwnerOf(record)
        : owners[capabilityId] = new TaskOwner([new CapabilityRecord(capabilityId, CapabilityInterfaces.Task, null, default, null, "", "", Revoked: true, ParentId: "(unknown)")]);
}
