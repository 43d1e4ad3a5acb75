using CapCluster.Protocol.V1;

namespace CapCluster.Client.Internal;

/// <summary>
/// One message of submissions as it is put together: a run of tasks that share one spec object (a delegate's, see
/// <c>DelegateTask</c>) sends it with the first of them, and the others name that task (<c>same_spec_as</c>), so a
/// burst of one function sends its spec once a message rather than once a task.
/// </summary>
internal sealed class SubmissionMessage
{
    private TaskSpec? runSpec;
    private long runRef;

    public SubmitTasks Tasks { get; } = new();

    /// <summary>Adds <paramref name="task"/> to be sent with <paramref name="spec"/> (its own, or the copy listing its closure on this stream).</summary>
    public void Add(SubmitTask task, TaskSpec spec)
    {
        if (ReferenceEquals(spec, runSpec))
        {
            // A task of its own on the wire: the unit's keeps its spec, for a resend on another stream.
            Tasks.Tasks.Add(new SubmitTask { ClientRef = task.ClientRef, SameSpecAs = runRef });
            return;
        }

        task.Spec = spec;
        Tasks.Tasks.Add(task);
        (runSpec, runRef) = (spec, task.ClientRef);
    }
}
