using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Dependencies are checked at submission: an id must name a task this controller holds that the
/// submitter may see (its own or a descendant's), a negative number names another task of the same batch
/// by its client reference, and a cycle among a batch's tasks is refused. A task depending on a refused
/// one is refused too.
/// </summary>
internal sealed partial class TaskFarm
{
    /// <summary>The batch's refusals by client reference: those found before (<paramref name="early"/>, audited), then its own.</summary>
    private Dictionary<long, string> Validate(IReadOnlyList<SubmitTask> batch, TaskOwner owner, IReadOnlyDictionary<long, string> early, List<string> audited)
    {
        var refusals = new Dictionary<long, string>();
        var byRef = new Dictionary<long, SubmitTask>(batch.Count);
        foreach (var submission in batch)
        {
            if (!byRef.TryAdd(submission.ClientRef, submission))
            {
                refusals[submission.ClientRef] = $"client reference {submission.ClientRef} is used twice in one batch";
            }
            else if (early.TryGetValue(submission.ClientRef, out var wrong))
            {
                // Kept under the hash it claims, an image would be sent to engines for every holder who names that hash;
                // a closure or image never sent, or a spec named by a reference that is no earlier task, is a client out
                // of step with its stream, or probing.
                refusals[submission.ClientRef] = wrong;
                audited.Add(wrong);
            }
            else if (submission.Spec is null || submission.Spec.BodyCase == TaskSpec.BodyOneofCase.None)
            {
                refusals[submission.ClientRef] = "the task has neither code nor a function to run";
            }
        }

        var inBatch = false;
        foreach (var submission in batch)
        {
            if (submission.Spec is not { After: { Count: > 0 } dependencies })
            {
                continue;
            }

            for (var i = 0; i < dependencies.Count; i++)
            {
                var after = dependencies[i];
                inBatch |= after < 0;
                if (after > 0 && !(Find(after) is { } required && owner.CanSee(required.Owner)))
                {
                    var notHeld = NotHeld(after, owner);
                    refusals.TryAdd(submission.ClientRef, $"dependency {notHeld.Message}");
                    audited.Add(notHeld.AuditReason);
                }
                else if (after < 0 && !byRef.ContainsKey(-after))
                {
                    refusals.TryAdd(submission.ClientRef, $"dependency on client reference {-after}, which is not in this batch");
                }
                else if (after == 0)
                {
                    refusals.TryAdd(submission.ClientRef, "0 is not a task id");
                }
            }
        }

        if (!inBatch)
        {
            // No task names another of the batch: no cycle, and no refusal to spread.
            return refusals;
        }

        foreach (var cycle in FindCycles(byRef))
        {
            var path = string.Join(" -> ", cycle.Append(cycle[0]).Select(r => $"task #{r}"));
            foreach (var member in cycle)
            {
                refusals.TryAdd(member, $"dependency cycle: {path}");
            }
        }

        Spread(batch, refusals);
        return refusals;
    }

    /// <summary>Refuses everything in the batch that depends on a refused task.</summary>
    private static void Spread(IReadOnlyList<SubmitTask> batch, Dictionary<long, string> refusals)
    {
        bool spread;
        do
        {
            spread = false;
            foreach (var submission in batch.Where(s => !refusals.ContainsKey(s.ClientRef)))
            {
                var refused = submission.Spec.After.FirstOrDefault(a => a < 0 && refusals.ContainsKey(-a));
                if (refused != 0)
                {
                    refusals[submission.ClientRef] = $"it depends on task #{-refused} of the same batch, which was refused";
                    spread = true;
                }
            }
        }
        while (spread);
    }

    private static List<List<long>> FindCycles(Dictionary<long, SubmitTask> byRef)
    {
        var cycles = new List<List<long>>();
        var state = new Dictionary<long, int>();
        var stack = new List<long>();

        void Visit(long node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in byRef[node].Spec?.After.Where(a => a < 0).Select(a => -a) ?? [])
            {
                if (!byRef.ContainsKey(next))
                {
                    continue;
                }

                if (state.GetValueOrDefault(next) == 1)
                {
                    cycles.Add(stack[stack.IndexOf(next)..]);
                }
                else if (state.GetValueOrDefault(next) == 0)
                {
                    Visit(next);
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
        }

        foreach (var node in byRef.Keys.Where(n => state.GetValueOrDefault(n) == 0).ToList())
        {
            Visit(node);
        }

        return cycles;
    }
}
