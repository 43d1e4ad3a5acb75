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
