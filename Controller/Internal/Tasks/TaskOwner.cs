using CapCluster.Security;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// A task capability as the farm sees it: the submitter every task records, the tasks a caller may see (its own and
/// those of capabilities derived from it, never its parent's), the quotas its submissions count against (its own and
/// every ancestor's), which engines may run its tasks, and what its tasks are doing. One per capability, shared by all
/// its tasks; touched under the farm's lock.
/// </summary>
internal sealed class TaskOwner
{
    private readonly string[] lineage;

    // The capabilities whose engines (those that serve one: RegisteredEngine.Serves) may run its tasks: its own family's,
    // up to the nearest capability that has engines of its own, or, with none, up to the first.
    private readonly string[] servedBy;

    /// <param name="chain">The capability first, then its parent, and so on to the capability it was derived from first.</param>
    public TaskOwner(IReadOnlyList<CapabilityRecord> chain)
    {
        CapabilityId = chain[0].Id;
        IsDerived = chain[0].ParentId is not null;
        lineage = [.. chain.Select(r => r.Id)];
        Quotas = [.. chain.Where(r => r.MaxTasks is not null).Select(r => (r.Id, r.MaxTasks!.Value))];
        var confined = Array.FindIndex([.. chain], r => r.OwnEngines);
        OwnEnginesOnly = confined >= 0;
        servedBy = OwnEnginesOnly ? lineage[..(confined + 1)] : lineage;
    }

    /// <summary>Its tasks run only on engines that serve it or a capability it was derived from up to the one that has engines of its own, never on shared engines.</summary>
    public bool OwnEnginesOnly { get; }

    public string CapabilityId { get; }

    /// <summary>Derived from another capability: it sees only its own family's counts, not the cluster's.</summary>
    public bool IsDerived { get; }

    /// <summary>The task quotas a submission counts against: this capability's and every ancestor's that has one.</summary>
    public IReadOnlyList<(string CapabilityId, long MaxTasks)> Quotas { get; }

    /// <summary>What the tasks this capability submitted are doing (only its own, not its descendants').</summary>
    public TaskCounts Counts { get; } = new();

    /// <summary>Whether an engine that serves <paramref name="serves"/> (null: a shared engine) may run its tasks.</summary>
    public bool RunsOn(string? serves) => serves is null ? !OwnEnginesOnly : Array.IndexOf(servedBy, serves) >= 0;

    /// <summary>Whether a holder of this capability may see, wait on, abort, clear or depend on a task <paramref name="submitter"/> submitted.</summary>
    public bool CanSee(TaskOwner submitter) => ReferenceEquals(submitter, this) || Array.IndexOf(submitter.lineage, CapabilityId) >= 0;
}

/// <summary>Tasks by where they are; queued is what is neither running nor finished.</summary>
internal sealed class TaskCounts
{
    public long Submitted { get; set; }

    public long Running { get; set; }

    public long Succeeded { get; set; }

    public long Failed { get; set; }

    public long Aborted { get; set; }

    public long Queued => Submitted - Running - Succeeded - Failed - Aborted;

    public void Add(TaskCounts other)
    {
        Submitted += other.Submitted;
        Running += other.Running;
        Succeeded += other.Succeeded;
        Failed += other.Failed;
        Aborted += other.Aborted;
    }
}
