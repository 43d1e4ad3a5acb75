using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// One task the controller knows: its spec, where it is, and (once finished) its result. The farm keeps up
/// to <see cref="TaskFarmOptions.MaxFinishedResults"/> finished entries, so a finished entry is kept small:
/// its spec is dropped, its result is held as its encoded bytes (a fraction of the message's object graph),
/// and the completion signal is created only if somebody waits for it. Touched only under the farm's lock.
/// </summary>
internal sealed class TaskEntry(long id, TaskSpec spec, TaskOwner owner, TaskSubscriber? subscriber, long submittedUnixUs)
{
    private static readonly TaskSpec FinishedSpec = new();
    private static readonly TaskSpec SpilledSpec = new();

    private TaskCompletionSource? finished;
    private byte[]? result;

    public long Id { get; } = id;

    /// <summary>A queued task whose spec waits in the journal, as a run of the <see cref="ReadyQueue"/> hands it out.</summary>
    public static TaskEntry Spilled(long id, TaskOwner owner, TaskSubscriber? subscriber, long submittedUnixUs) =>
        new(id, SpilledSpec, owner, subscriber, submittedUnixUs);

    /// <summary>What the task runs; dropped once it finished (only the result is kept), or while it waits in the journal.</summary>
    public TaskSpec Spec { get; private set; } = spec;

    /// <summary>Its spec waits in the journal (see <see cref="Spill"/>), to be read back before it runs.</summary>
    public bool IsSpilled => ReferenceEquals(Spec, SpilledSpec);

    /// <summary>Whether its spec may wait in the journal: nothing the farm reads before dispatch (requirements, a recovery task) is in it.</summary>
    public bool CanSpill => !IsFinished && !IsSpilled && !RunningRecovery && Spec.Requires.Count == 0 && Spec.Recovery is null;

    /// <summary>Drops the spec from memory; the journal holds it (call only once it is durable).</summary>
    public void Spill() => Spec = SpilledSpec;

    /// <summary>Takes the spec back, read from the journal.</summary>
    public void Unspill(TaskSpec spec) => Spec = spec;

    /// <summary>Its node in the farm's <see cref="ReadyQueue"/> while it waits there to run, else null.</summary>
    public LinkedListNode<object>? ReadyNode { get; set; }

    /// <summary>What its spec counts for in <see cref="ReadyQueue.SpecBytes"/> while it waits there (0 when spilled).</summary>
    public long QueuedSpecBytes { get; set; }

    /// <summary>Somebody waits for it to finish (<see cref="Finished"/> was asked for).</summary>
    public bool IsWatched => finished is not null;

    /// <summary>The capability that submitted it: who may see it, and whose counts it is in.</summary>
    public TaskOwner Owner { get; } = owner;

    /// <summary>The submitting client's stream; let go once the task finished.</summary>
    public TaskSubscriber? Subscriber { get; private set; } = subscriber;

    public long SubmittedUnixUs { get; } = submittedUnixUs;

    public TaskState State { get; set; } = TaskState.Queued;

    /// <summary>Dependencies not yet succeeded.</summary>
    public int Waiting { get; set; }

    public int Attempts { get; set; }

    /// <summary>How many times an engine was lost while it ran this task (see <see cref="TaskFarmOptions.MaxEngineLosses"/>).</summary>
    public int EngineLosses { get; set; }

    public bool AbortRequested { get; set; }

    public bool RunningRecovery { get; set; }

    public int? Engine { get; set; }

    /// <summary>The result (decoded afresh on each call: fetching by id is the rare path), or null while unfinished.</summary>
    public TaskResult? Result => result is null ? null : TaskResult.Parser.ParseFrom(result);

    public bool IsFinished => result is not null;

    /// <summary>
    /// The size of its spec as submitted, charged to its owner until it finishes
    /// (<see cref="TaskFarmOptions.MaxQueuedBytesPerCapability"/>); -1 while not known (an entry a run made, whose spec
    /// waits in the journal).
    /// </summary>
    public long SpecBytes { get; set; } = -1;

    /// <summary>The size of the result held, encoded; 0 while unfinished.</summary>
    public long ResultBytes => result?.LongLength ?? 0;

    /// <summary>Completes when the task finishes.</summary>
    public Task Finished => IsFinished
        ? Task.CompletedTask
        : (finished ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Holds the result (as its encoded bytes, which it returns) and wakes whoever waits.</summary>
    public byte[] Finish(TaskResult outcome)
    {
        result = MessageBytes.Of(outcome);
        State = outcome.State;
        Spec = FinishedSpec;
        Subscriber = null;
        finished?.TrySetResult();
        finished = null;
        return result;
    }
}
