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
    // Specs are read back from the journal this many at a time.
    private const int SpecReadBatch = 1_000;

    // Finished entries whose charge waits for their size to be read (see ReleaseUnfinished).
    private readonly Dictionary<long, TaskEntry> unsizedReleases = [];

    /// <summary>
    /// Refuses the submissions that would take the bytes of <paramref name="owner"/>'s unfinished tasks past
    /// <see cref="TaskFarmOptions.MaxQueuedBytesPerCapability"/>, in order: a holder cannot fill the controller's
    /// memory or its journal's disk with queued work, only its own share of them.
    /// </summary>
    /// <returns>Each submission's size, by its place in the batch, which is what an admitted one is charged.</returns>
    private long[] RefuseOverUnfinishedBytes(IReadOnlyList<SubmitTask> batch, TaskOwner owner, Dictionary<long, string> refusals, List<string> audited)
    {
        SettleReleases();
        var max = options.MaxQueuedBytesPerCapability;
        var total = unfinishedBytes.GetValueOrDefault(owner.CapabilityId);
        var over = 0;
        var sizes = new long[batch.Count];
        var sized = new SpecRun<long>();
        for (var i = 0; i < batch.Count; i++)
        {
            var submission = batch[i];
            if (refusals.ContainsKey(submission.ClientRef))
            {
                continue;
            }

            // Each task of a run that shares one spec is charged its size, worked out once.
            if (sized.StartsWith(submission.Spec))
            {
                sized.Value = submission.Spec.CalculateSize();
            }

            var bytes = sizes[i] = sized.Value;
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

        return sizes;
    }

    /// <summary>Bytes of <paramref name="capabilityId"/>'s unfinished tasks, as charged (a test hook).</summary>
    public long UnfinishedBytesOf(string capabilityId)
    {
        lock (sync)
        {
            SettleReleases();
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
    /// Gives back what <paramref name="entry"/>, finishing, was charged. An entry a run made and that never ran does not
    /// know its size, which is in the journal: it waits with others and they are read 1,000 at a time (a mass abort, or
    /// a failure that fails a million spilled dependents, must not cost one read each under the farm's lock), at the
    /// latest before the next charge is checked (<see cref="SettleReleases"/>).
    /// </summary>
    private void ReleaseUnfinished(TaskEntry entry)
    {
        if (entry.SpecBytes >= 0 || journal is null)
        {
            Release(entry.Owner.CapabilityId, Math.Max(0, entry.SpecBytes));
            return;
        }

        unsizedReleases[entry.Id] = entry;
        if (unsizedReleases.Count >= SpecReadBatch)
        {
            SettleReleases();
        }
    }

    /// <summary>Gives back the charges of the finished entries whose sizes were not known, reading their sizes from the journal.</summary>
    private void SettleReleases()
    {
        if (unsizedReleases.Count == 0)
        {
            return;
        }

        foreach (var batch in unsizedReleases.Values.Chunk(SpecReadBatch))
        {
            IReadOnlyDictionary<long, TaskSpec> specs;
            try
            {
                specs = journal!.ReadSpecs([.. batch.Select(e => e.Id)]);
            }
            catch (CapClusterException)
            {
                continue; // a journal that cannot be read keeps these charges: the holder's share shrinks, no one else's
            }

            foreach (var entry in batch)
            {
                Release(entry.Owner.CapabilityId, specs.TryGetValue(entry.Id, out var spec) ? spec.CalculateSize() : 0);
            }
        }

        unsizedReleases.Clear();
    }

    /// <summary>Has the journal forget finished tasks; first settles the charges that wait to read their specs there.</summary>
    private void ForgetInJournal(IReadOnlyList<long> ids)
    {
        if (journal is null)
        {
            return;
        }

        if (unsizedReleases.Count > 0 && ids.Any(unsizedReleases.ContainsKey))
        {
            SettleReleases();
        }

        journal.Forget(ids);
    }

    private void Release(string owner, long bytes)
    {
        var left = unfinishedBytes.GetValueOrDefault(owner) - bytes;
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
