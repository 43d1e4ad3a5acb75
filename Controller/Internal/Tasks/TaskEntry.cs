using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>One task the controller knows: its spec, where it is, and (once finished) its result.</summary>
internal sealed class TaskEntry(long id, TaskSpec spec, TaskSubscriber? owner, long submittedUnixUs)
{
    private static readonly TaskSpec FinishedSpec = new();

    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Id { get; } = id;

    /// <summary>What the task runs; dropped once it finished (only the result is kept).</summary>
    public TaskSpec Spec { get; private set; } = spec;

    public TaskSubscriber? Owner { get; } = owner;

    public long SubmittedUnixUs { get; } = submittedUnixUs;

    public TaskState State { get; set; } = TaskState.Queued;

    /// <summary>Dependencies not yet succeeded.</summary>
    public int Waiting { get; set; }

    public int Attempts { get; set; }

    public bool AbortRequested { get; set; }

    public bool RunningRecovery { get; set; }

    public int? Engine { get; set; }

    public TaskResult? Result { get; private set; }

    public Task Finished => finished.Task;

    public bool IsFinished => Result is not null;

    public void Finish(TaskResult result)
    {
        Result = result;
        State = result.State;
        Spec = FinishedSpec;
        finished.TrySetResult();
    }
}
