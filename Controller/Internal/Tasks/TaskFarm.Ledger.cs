using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Before a batch's tasks get ids, what must survive a restart is written to the ledger: the ids, reserved a block
/// at a time (one write per <see cref="TaskFarmOptions.IdBlock"/> tasks), and the tasks charged to every quota the
/// submitter answers to (its own and each ancestor's), so that neither an id nor a quota is handed out twice.
/// </summary>
internal sealed partial class TaskFarm
{
    /// <summary>
    /// Refuses the submissions that would take the bytes of <paramref name="owner"/>'s unfinished tasks past
    /// <see cref="TaskFarmOptions.MaxQueuedBytesPerCapability"/>, in order: a holder cannot fill the controller's
    /// memory or its journal's disk with queued work, only its own share of them.
    /// </summary>
    private void RefuseOverUnfinishedBytes(IReadOnlyList<SubmitTask> batch, TaskOwner owner, Dictionary<long, string> refusals, List<string> audited)
    {
        var max = options.MaxQueuedBytesPerCapability;
        var total = unfinishedBytes.GetValueOrDefault(owner.CapabilityId);
        var over = 0;
        foreach (var submission in batch)
        {
            if (refusals.ContainsKey(submission.ClientRef))
            {
                continue;
            }

            var bytes = submission.Spec.CalculateSize();
            if (total + bytes > max)
            {
                refusals[submission.ClientRef] = $"capability {owner.CapabilityId} has {total} bytes of unfinished tasks at the controller, and this one " +
                    $"({bytes} bytes) would pass the most allowed, {max} (--max-queued-bytes); wait for some to finish, or abort some";
                over++;
                continue;
            }

            total += bytes;
        }

        if (over > 0)
        {
            audited.Add($"{over} task(s) of capability {owner.CapabilityId} refused: its unfinished tasks would pass {max} bytes (--max-queued-bytes)");
        }
    }

    /// <summary>Bytes of <paramref name="capabilityId"/>'s unfinished tasks, as charged (a test hook).</summary>
    public long UnfinishedBytesOf(string capabilityId)
    {
        lock (sync)
        {
            return unfinishedBytes.GetValueOrDefault(capabilityId);
        }
    }

    /// <summary>Charges <paramref name="entry"/>'s spec, of <paramref name="bytes"/>, to its owner until it finishes.</summary>
    private void ChargeUnfinished(TaskEntry entry, long bytes)
    {
        entry.SpecBytes = bytes;
        unfinishedBytes[entry.Owner.CapabilityId] = unfinishedBytes.GetValueOrDefault(entry.Owner.CapabilityId) + bytes;
    }

    /// <summary>
    /// Learns, in a few reads of the journal, the size of each of <paramref name="entries"/> a run made (a mass abort of
    /// spilled tasks must not cost one read each, under the farm's lock).
    /// </summary>
    private void LearnSpecBytes(List<TaskEntry> entries)
    {
        if (journal is null)
        {
            return;
        }

        foreach (var chunk in entries.Where(e => e.SpecBytes < 0).Chunk(1_000))
        {
            try
            {
                var specs = journal.ReadSpecs([.. chunk.Select(e => e.Id)]);
                foreach (var entry in chunk)
                {
                    entry.SpecBytes = specs.TryGetValue(entry.Id, out var spec) ? spec.CalculateSize() : 0;
                }
            }
            catch (CapClusterException)
            {
                return; // each is tried again, alone, as it finishes
            }
        }
    }

    /// <summary>Gives back what <paramref name="entry"/>, finishing, was charged (read from the journal for one a run made that never ran).</summary>
    private void ReleaseUnfinished(TaskEntry entry)
    {
        var bytes = entry.SpecBytes;
        if (bytes < 0 && journal is not null)
        {
            try
            {
                bytes = journal.ReadSpecs([entry.Id]).TryGetValue(entry.Id, out var spec) ? spec.CalculateSize() : 0;
            }
            catch (CapClusterException)
            {
                bytes = 0; // a journal that cannot be read keeps the charge: the holder's share shrinks, no one else's
            }
        }

        var owner = entry.Owner.CapabilityId;
        var left = unfinishedBytes.GetValueOrDefault(owner) - Math.Max(0, bytes);
        if (left > 0)
        {
            unfinishedBytes[owner] = left;
        }
        else
        {
            unfinishedBytes.Remove(owner);
        }
    }

    private void ChargeQuotas(IReadOnlyList<SubmitTask> batch, TaskOwner owner, Dictionary<long, string> refusals, List<string> audited)
    {
        var wanted = batch.Where(s => !refusals.ContainsKey(s.ClientRef)).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        foreach (var (capability, max) in owner.Quotas)
        {
            var left = Math.Max(0, max - ledger.ChargedTo(capability));
            var over = wanted.Where(s => !refusals.ContainsKey(s.ClientRef)).Skip((int)Math.Min(left, int.MaxValue)).ToList();
            if (over.Count == 0)
            {
                continue;
            }

            var family = capability == owner.CapabilityId ? "" : " for itself and the capabilities derived from it";
            foreach (var submission in over)
            {
                refusals[submission.ClientRef] = $"capability {capability} allows at most {max} tasks{family}, and they are used up";
            }

            audited.Add($"{over.Count} task(s) of capability {owner.CapabilityId} refused: the quota of capability {capability} ({max} tasks) is used up");
        }

        Spread(batch, refusals);
        var count = batch.Count(s => !refusals.ContainsKey(s.ClientRef));
        var reserve = nextId + count > ledger.ReservedThrough ? nextId + count + options.IdBlock : ledger.ReservedThrough;
        if (count == 0 || (owner.Quotas.Count == 0 && reserve == ledger.ReservedThrough))
        {
            return;
        }

        try
        {
            ledger.Commit(reserve, owner.Quotas.Select(q => KeyValuePair.Create(q.CapabilityId, (long)count)));
        }
        catch (CapClusterException e)
        {
            foreach (var submission in batch.Where(s => !refusals.ContainsKey(s.ClientRef)))
            {
                refusals[submission.ClientRef] = "the controller could not record the task durably, so it did not accept it; try again later (the controller's log says why)";
            }

            audited.Add(e.Message);
        }
    }
}
