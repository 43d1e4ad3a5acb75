using System.Runtime.InteropServices;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// The load-balanced task farm. A task waits until its dependencies have succeeded, then goes to the
/// least-loaded engine whose properties satisfy its requirements, in a batch through that engine's
/// FIFO queue (so task work and MultiEngine work share engines in arrival order). A task that fails,
/// or whose engine dies, is retried while it has retries, then its recovery task runs once, then it
/// fails; its dependents fail with an error naming it. Every state change happens under one lock.
/// </summary>
internal sealed partial class TaskFarm
{
    private readonly Lock sync = new();
    private readonly EngineRegistry registry;
    private readonly TaskFarmOptions options;
    private readonly TimeProvider time;
    private readonly MemoryGiveBack giveBack;
    private readonly ILogger logger;
    private readonly Dictionary<long, TaskEntry> tasks = [];
    private readonly ReadyQueue ready = new();
    private readonly Dictionary<long, List<TaskEntry>> dependents = [];
    private readonly FinishedResults held;
    private readonly Func<long, long?> heldResultBytes;

    // Bytes of the specs of each capability's unfinished tasks (see TaskFarmOptions.MaxQueuedBytesPerCapability).
    private readonly Dictionary<string, long> unfinishedBytes = new(StringComparer.Ordinal);

    // Results finished under the lock, for their submitters' streams; delivered after it (see DeliverFinished).
    private readonly List<(TaskSubscriber Subscriber, TaskResult Result)> toDeliver = [];
    private readonly Dictionary<int, EngineLoad> loads = [];
    private readonly AssemblyStore assemblies;
    private readonly TaskLedger ledger;
    private readonly TaskJournal? journal;
    private readonly Func<string, CapabilityRecord?> findCapability;
    private readonly Dictionary<string, TaskOwner> owners = new(StringComparer.Ordinal);

    // Every task of the cluster, whoever submitted it.
    private readonly TaskCounts totals = new();

    // Whether a finished result was evicted yet: the first eviction is logged, the rest only at debug level.
    private bool evicting;

    // The last id handed out; ids continue after the ledger's last reserved block, so none is ever reused.
    private long nextId;

    public TaskFarm(EngineRegistry registry, TaskFarmOptions options, TaskLedger ledger, TaskJournal? journal, Func<string, CapabilityRecord?> findCapability, TimeProvider time, ILogger logger)
    {
        this.registry = registry;
        this.options = options.Copy();
        assemblies = new AssemblyStore(this.options.MaxAssemblyBytesPerCapability);
        this.ledger = ledger;
        this.journal = journal;
        this.findCapability = findCapability;
        this.time = time;
        giveBack = new MemoryGiveBack(time);
        held = new FinishedResults(this.options.MaxFinishedResults, this.options.MaxResultBytesPerCapability);
        heldResultBytes = HeldResultBytes; // made once: a method group is a new delegate each time it is passed
        this.logger = logger;
        nextId = ledger.ReservedThrough;
        registry.Changed += Pump;
    }

    /// <summary>
    /// The caller's tasks (its own and its descendants') by state, and the engines that may run them; for a capability
    /// that is not derived, the cluster's totals and the tasks running on each engine as well.
    /// </summary>
    public QueueStatusReply Status(CapabilityRecord caller)
    {
        lock (sync)
        {
            var owner = OwnerOf(caller);
            var family = new TaskCounts();
            foreach (var other in owners.Values.Where(owner.CanSee))
            {
                family.Add(other.Counts);
            }

            var reply = new QueueStatusReply
            {
                Queued = family.Queued,
                Running = family.Running,
                Succeeded = family.Succeeded,
                Failed = family.Failed,
                Aborted = family.Aborted,
                Engines = registry.Snapshot().Count(e => owner.RunsOn(e.Serves)),
            };
            if (!owner.IsDerived)
            {
                reply.Cluster = new QueueTotals
                {
                    Queued = totals.Queued,
                    Running = totals.Running,
                    Succeeded = totals.Succeeded,
                    Failed = totals.Failed,
                    Aborted = totals.Aborted,
                };
                foreach (var (engine, load) in loads.Where(l => l.Value.Tasks > 0))
                {
                    reply.RunningPerEngine[engine] = load.Tasks;
                }
            }

            return reply;
        }
    }

    /// <summary>
    /// Accepts a batch of submissions from <paramref name="caller"/>; each gets an id, or a refusal saying why. The
    /// ids and the quota charges are durable in the ledger before any id is handed out.
    /// </summary>
    public SubmitOutcome Submit(IReadOnlyList<SubmitTask> batch, TaskSubscriber subscriber, CapabilityRecord caller)
    {
        var now = UnixMicroseconds();
        var accepted = new List<TaskAccepted>(batch.Count);
        var audited = new List<string>();
        Task<string?> durable;

        // Refusals found before the batch is validated, all audited: a spec named by a reference that is no earlier task,
        // an assembly that is not what it claims or was never sent (a client out of step with its stream, or probing).
        var early = new Dictionary<long, string>();
        ShareSpecs(batch, early);

        // Hashing shipped images (megabytes each) is done before the lock, not while every dispatch waits for it.
        var checks = new SpecRun<string?>();
        foreach (var submission in batch)
        {
            if (submission.Spec is not { } spec)
            {
                continue;
            }

            if (checks.StartsWith(spec))
            {
                checks.Value = AssemblyStore.Check(spec);
            }

            if (checks.Value is { } wrong)
            {
                early.TryAdd(submission.ClientRef, wrong);
            }
        }

        lock (sync)
        {
            // Every submission's closures are taken in, in order, whatever else refuses it: the stream names them by id
            // from now on.
            var added = journal is null ? null : new AssemblyRecords();
            var takes = new SpecRun<string?>();
            foreach (var submission in batch)
            {
                if (submission.Spec is not { } spec || early.ContainsKey(submission.ClientRef))
                {
                    continue;
                }

                if (takes.StartsWith(spec))
                {
                    takes.Value = assemblies.Take(spec, added, caller.Id);
                }

                if (takes.Value is { } unknown)
                {
                    early.TryAdd(submission.ClientRef, unknown);
                }
            }

            var owner = OwnerOf(caller);
            var refusals = Validate(batch, owner, early, audited);
            var sizes = RefuseOverUnfinishedBytes(batch, owner, refusals, audited);
            ChargeQuotas(batch, owner, refusals, audited);
            var admitted = new List<TaskEntry>(batch.Count);
            var namesItsBatch = false;
            for (var i = 0; i < batch.Count; i++)
            {
                var submission = batch[i];
                if (refusals.TryGetValue(submission.ClientRef, out var refusal))
                {
                    accepted.Add(new TaskAccepted { ClientRef = submission.ClientRef, Refused = refusal });
                    continue;
                }

                var entry = new TaskEntry(++nextId, submission.Spec, owner, subscriber, now);
                ChargeUnfinished(entry, sizes[i]);
                Tally(entry, static c => c.Submitted++);
                tasks[entry.Id] = entry;
                accepted.Add(new TaskAccepted { ClientRef = submission.ClientRef, TaskId = entry.Id });
                admitted.Add(entry);
                namesItsBatch |= NamesItsBatch(entry.Spec);
            }

            if (namesItsBatch)
            {
                NameBatchDependenciesByIds(admitted, accepted);
            }

            // Tasks run while the journal writes them; only the answer to the client waits for it. The journal takes
            // them before Admit may finish one (a failed dependency), so a result follows its task's spec; what follows
            // the write is attached after Admit, so it finds them queued even when the write is already done (attached
            // then, it runs at once, on this thread).
            var written = journal is null || (admitted.Count == 0 && added!.IsEmpty) ? null : WriteToJournal(admitted, added!);
            Admit(admitted);
            durable = written is null ? Task.FromResult<string?>(null) : Journaled(written, admitted);
        }

        try
        {
            Pump();
        }
        finally
        {
            journal?.WriteNow();
        }

        return new SubmitOutcome(accepted, audited, durable);
    }

    /// <summary>
    /// Results by id: finished ones at once; unfinished ones after waiting at most <paramref name="wait"/>, or
    /// <see cref="TaskFarmOptions.MaxResultWait"/> if that is shorter.
    /// </summary>
    /// <exception cref="TaskNotHeldException">An id is not one of the caller's tasks held here.</exception>
    public async Task<IReadOnlyList<TaskResult>> GetResultsAsync(CapabilityRecord caller, IReadOnlyList<long> ids, TimeSpan wait, CancellationToken cancellationToken)
    {
        wait = wait > options.MaxResultWait ? options.MaxResultWait : wait;
        List<TaskEntry> entries;
        Task finished;
        lock (sync)
        {
            entries = Visible(OwnerOf(caller), ids);
            finished = wait > TimeSpan.Zero ? Task.WhenAll(entries.Select(e => e.Finished)) : Task.CompletedTask;
        }

        if (wait > TimeSpan.Zero)
        {
            try
            {
                await finished.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Answer with what is known; unfinished tasks say so.
            }
        }

        lock (sync)
        {
            return [.. entries.Select(e => e.Result ?? new TaskResult { TaskId = e.Id, State = e.State, SubmittedUnixUs = e.SubmittedUnixUs, Attempts = e.Attempts })];
        }
    }

    /// <summary>
    /// Aborts tasks: queued ones never run; those already sent to an engine are reported aborted, and the engine is told to
    /// skip them: one still waiting behind others of its batch never runs, one it started runs to its end there (an engine
    /// cannot stop running code), its result discarded. Which of the two it was, the engine's answer says. Answers once
    /// the journal holds the aborts, so that a restarted controller does not run them again.
    /// </summary>
    /// <exception cref="TaskNotHeldException">An id is not one of the caller's tasks held here; nothing was aborted.</exception>
    /// <exception cref="RpcException">FAILED_PRECONDITION: aborted, but the journal could not record it.</exception>
    public async Task<IReadOnlyList<long>> AbortAsync(CapabilityRecord caller, IReadOnlyList<long> ids)
    {
        var done = Abort(caller, ids);
        await Recorded("aborted").ConfigureAwait(false);
        return done;
    }

    private IReadOnlyList<long> Abort(CapabilityRecord caller, IReadOnlyList<long> ids)
    {
        var done = new List<long>();
        Dictionary<int, AbortTasks>? toEngines = null;
        lock (sync)
        {
            foreach (var entry in Visible(OwnerOf(caller), ids).Where(e => !e.IsFinished))
            {
                var first = !entry.AbortRequested;
                entry.AbortRequested = true;
                done.Add(entry.Id);
                if (entry.State == TaskState.Queued)
                {
                    ready.Remove(entry);
                    Finish(entry, TaskState.Aborted, null, NotRunAborted);
                    continue;
                }

                // Journaled as aborted now, so that a controller restarted before the engine answers does not run it again.
                var aborted = NewResult(entry, TaskState.Aborted);
                aborted.Failure = "aborted after it was sent to an engine, which was told to skip it unless it had started (an engine cannot stop " +
                    "running code); the controller stopped before the engine answered, so whether it ran is not known";
                journal?.Finish(entry.Id, aborted.ToByteArray());
                if (first && entry.Engine is { } engine)
                {
                    toEngines ??= [];
                    if (!toEngines.TryGetValue(engine, out var abort))
                    {
                        toEngines[engine] = abort = new AbortTasks();
                    }

                    abort.TaskIds.Add(entry.Id);
                }
            }
        }

        // Ahead of the engine's queue: a task waiting behind others of its batch is skipped; its answer finishes it.
        foreach (var (engine, abort) in toEngines ?? [])
        {
            registry.Find(engine)?.Send(new ControllerMessage { AbortTasks = abort });
        }

        DeliverFinished();
        return done;
    }

    /// <summary>
    /// Forgets finished results: those named (the caller's or its descendants'), or with no ids every finished
    /// result the caller itself submitted. Unfinished tasks named are left alone.
    /// </summary>
    /// <exception cref="TaskNotHeldException">An id is not one of the caller's tasks held here; nothing was cleared.</exception>
    /// <exception cref="RpcException">FAILED_PRECONDITION: cleared, but the journal could not record it.</exception>
    public async Task<int> ClearAsync(CapabilityRecord caller, IReadOnlyList<long> ids)
    {
        var cleared = Clear(caller, ids);
        await Recorded("cleared").ConfigureAwait(false);
        giveBack.After(cleared);
        if (cleared >= MemoryGiveBack.Threshold)
        {
            // The journal's pages too, behind, now that the clear is written.
            _ = journal?.GiveBackSpace();
        }

        return cleared;
    }

    private int Clear(CapabilityRecord caller, IReadOnlyList<long> ids)
    {
        lock (sync)
        {
            var owner = OwnerOf(caller);
            // One pass, no list of the chosen entries (a clear of a burst's 100,000 results made and grew four).
            var cleared = new List<long>(ids.Count == 0 ? tasks.Count : ids.Count);
            var byHolder = new Dictionary<string, (int Count, long Bytes)>(StringComparer.Ordinal);
            if (ids.Count == 0)
            {
                foreach (var entry in tasks.Values)
                {
                    if (entry.IsFinished && ReferenceEquals(entry.Owner, owner))
                    {
                        Remove(entry, cleared, byHolder); // removing while enumerating is allowed since .NET Core 3.0
                    }
                }
            }
            else
            {
                foreach (var entry in Visible(owner, ids))
                {
                    if (entry.IsFinished)
                    {
                        Remove(entry, cleared, byHolder);
                    }
                }
            }

            foreach (var (holder, (count, bytes)) in byHolder)
            {
                held.Cleared(holder, count, bytes, heldResultBytes);
            }

            ForgetInJournal(cleared);
            var slots = tasks.EnsureCapacity(0);
            if (tasks.Count < slots / 4 && slots > KeptTaskSlots)
            {
                // A million tasks done and cleared should not keep a million slots; a burst's 100,000 (3.5 MiB of slots) are
                // kept, or the next burst grows them again, a larger array each time, each a full collection's cost.
                tasks.TrimExcess(Math.Max(tasks.Count, KeptTaskSlots));
            }

            return cleared.Count;
        }
    }

    /// <summary>
    /// Gives each task sent with <c>same_spec_as</c> the spec of the earlier task of its batch that it names: the same
    /// object, checked, taken in, sized and encoded once for a run of them (<see cref="SpecRun{T}"/>). (Its dependencies on tasks of
    /// the batch become the same ids for each, in place: nothing else changes a spec once it is admitted.) A name that is
    /// no earlier task of the batch with a spec refuses the task.
    /// </summary>
    private static void ShareSpecs(IReadOnlyList<SubmitTask> batch, Dictionary<long, string> refusals)
    {
        Dictionary<long, int>? positions = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var submission = batch[i];
            var named = submission.SameSpecAs;
            if (named == 0)
            {
                continue;
            }

            if (submission.Spec is not null)
            {
                refusals.TryAdd(submission.ClientRef, "the task has both a spec and same_spec_as: send one of them");
                continue;
            }

            // A run of one function names the task before it, or the one that task named.
            var source = i > 0 && (batch[i - 1].ClientRef == named || batch[i - 1].SameSpecAs == named) ? batch[i - 1] : null;
            if (source is null)
            {
                positions ??= FirstPositions(batch);
                source = positions.TryGetValue(named, out var at) && at < i ? batch[at] : null;
            }

            if (source?.Spec is not { } shared)
            {
                refusals.TryAdd(submission.ClientRef, $"same_spec_as names client reference {named}, which is no earlier task of this batch with a spec");
                continue;
            }

            submission.Spec = shared;
        }
    }

    private static Dictionary<long, int> FirstPositions(IReadOnlyList<SubmitTask> batch)
    {
        var positions = new Dictionary<long, int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            positions.TryAdd(batch[i].ClientRef, i);
        }

        return positions;
    }

    private static bool NamesItsBatch(TaskSpec spec)
    {
        var after = spec.After;
        for (var i = 0; i < after.Count; i++)
        {
            if (after[i] < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Dependencies on tasks of the same batch (a negative client reference) become their ids, as the journal keeps them.
    /// Built only for a batch that has such a task: a batch of thousands that has none makes no map of them.
    /// </summary>
    private static void NameBatchDependenciesByIds(List<TaskEntry> admitted, List<TaskAccepted> accepted)
    {
        var idsByRef = new Dictionary<long, long>(admitted.Count);
        foreach (var answer in accepted)
        {
            if (answer.TaskId != 0)
            {
                idsByRef[answer.ClientRef] = answer.TaskId;
            }
        }

        foreach (var entry in admitted)
        {
            var after = entry.Spec.After;
            for (var i = 0; i < after.Count; i++)
            {
                after[i] = after[i] < 0 ? idsByRef[-after[i]] : after[i];
            }
        }
    }

    // The failure of an aborted task that never started, queued here or skipped by its engine.
    private const string NotRunAborted = "aborted before it ran";

    // Slots of the task table a clear leaves, however few tasks remain (see Clear).
    private const int KeptTaskSlots = 1 << 17;

    /// <summary>Forgets a finished task, counting it for its holder's share of the clear.</summary>
    private void Remove(TaskEntry entry, List<long> cleared, Dictionary<string, (int Count, long Bytes)> byHolder)
    {
        if (!tasks.Remove(entry.Id))
        {
            return; // an id named twice
        }

        cleared.Add(entry.Id);
        ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(byHolder, entry.Owner.CapabilityId, out _);
        sum = (sum.Count + 1, sum.Bytes + entry.ResultBytes);
    }

    /// <summary>Admits accepted tasks in order (under the lock).</summary>
    private void Admit(List<TaskEntry> admitted)
    {
        foreach (var entry in admitted)
        {
            Admit(entry);
        }
    }

    /// <summary>Queues a task to run once its dependencies (ids by now) have succeeded, or fails it if one did not.</summary>
    private void Admit(TaskEntry entry)
    {
        // Most tasks name none or one; only those that name more need telling apart, each waited for once.
        var after = entry.Spec.After;
        IEnumerable<long> dependencies = after.Count switch { 0 => [], 1 => [after[0]], _ => after.Distinct() };
        foreach (var dependency in dependencies)
        {
            // A dependency cleared since it was checked had finished, and succeeded, or this task would have failed.
            if (Find(dependency) is not { } required || required.State == TaskState.Succeeded)
            {
                continue;
            }

            if (required.IsFinished)
            {
                Finish(entry, TaskState.Failed, null, $"dependency {dependency} did not succeed ({required.State.ToString().ToLowerInvariant()}: {Describe(required.Result!)})");
                return;
            }

            entry.Waiting++;
            if (!dependents.TryGetValue(dependency, out var list))
            {
                dependents[dependency] = list = [];
            }

            list.Add(entry);
        }

        if (entry.Waiting == 0)
        {
            ready.AddLast(entry);
        }
    }

    /// <summary>The entry of task <paramref name="id"/> held here, made (and held) from its run if it waits in one; null if none is.</summary>
    private TaskEntry? Find(long id)
    {
        if (tasks.TryGetValue(id, out var entry))
        {
            return entry;
        }

        if (ready.Materialize(id) is { } made)
        {
            tasks[id] = made;
            return made;
        }

        return null;
    }

    /// <summary>The entries of <paramref name="ids"/>, each of which the caller may see.</summary>
    private List<TaskEntry> Visible(TaskOwner caller, IReadOnlyList<long> ids)
    {
        var entries = new List<TaskEntry>(ids.Count);
        foreach (var id in ids)
        {
            entries.Add(Find(id) is { } entry && caller.CanSee(entry.Owner) ? entry : throw NotHeld(id, caller));
        }

        return entries;
    }

    /// <summary>
    /// The one answer for an id the caller may not use, whether it is another holder's, cleared, evicted or never
    /// issued: the caller learns nothing of other holders' tasks. The audit record says which it was.
    /// </summary>
    private TaskNotHeldException NotHeld(long id, TaskOwner caller)
    {
        var why = Find(id) is { } other
            ? $"it belongs to capability {other.Owner.CapabilityId}"
            : id > 0 && id <= nextId ? "it was cleared, evicted or held by an earlier run" : "no such id was issued";
        return new TaskNotHeldException(
            $"task {id} is not one of this capability's tasks held by the controller: {NotHeldHint}",
            $"task {id} refused to capability {caller.CapabilityId}: {why}");
    }

    private string NotHeldHint =>
        $"it was not submitted with this capability or one derived from it, or its result was cleared or evicted (the controller keeps {options.MaxFinishedResults} finished results in all and {options.MaxResultBytesPerCapability} bytes of them per capability; beyond them the oldest of the capability holding the most are evicted)";

    /// <summary>The farm's view of a capability, made once per capability from its chain of parents in the registry.</summary>
    private TaskOwner OwnerOf(CapabilityRecord capability)
    {
        if (owners.TryGetValue(capability.Id, out var owner))
        {
            return owner;
        }

        var chain = new List<CapabilityRecord> { capability };
        while (chain[^1].ParentId is { } parent && findCapability(parent) is { } record && chain.Count < 64)
        {
            chain.Add(record);
        }

        return owners[capability.Id] = new TaskOwner(chain);
    }

    private static string Describe(TaskResult result) =>
        result.Error is { } e ? $"{e.Type}: {e.Message}" : result.Failure;

    private long UnixMicroseconds() => Protocol.UnixMicroseconds.Of(time.GetUtcNow());

    private sealed class EngineLoad
    {
        public int Batches { get; set; }

        public int Tasks { get; set; }

        public AssemblyStore.Sent Assemblies { get; } = new();

        /// <summary>Microseconds a task takes on it, from its last batches (each half of the estimate); 0 until a task ran.</summary>
        public double TaskMicroseconds { get; private set; }

        /// <summary>Whether it answered a batch yet.</summary>
        public bool Answered { get; private set; }

        /// <summary>
        /// Tasks for its next batch: one until it answered a batch (nothing is known of the tasks yet, and a long task's
        /// result must not wait for the others of its batch, nor a burst go to the one engine registered first: a new
        /// engine, and every engine after the controller restarts); then as many as run in about
        /// <see cref="TaskFarmOptions.BatchTime"/>, at most <see cref="TaskFarmOptions.BatchSize"/> (which it gets when its
        /// tasks told nothing: a burst is shared among the engines).
        /// </summary>
        public int BatchSize(TaskFarmOptions options) =>
            !Answered ? 1
            : TaskMicroseconds <= 0 ? options.BatchSize
            : (int)Math.Clamp(options.BatchTime.TotalMicroseconds / TaskMicroseconds, 1, options.BatchSize);

        /// <summary>
        /// Learns how long its tasks take from a batch's replies: from the first start to the last end, over the tasks, so
        /// that what the engine does between tasks counts. Replies without times (a failed batch) teach nothing.
        /// </summary>
        public void Ran(TaskBatchReply batch)
        {
            Answered = true;
            var (first, last) = (long.MaxValue, 0L);
            for (var i = 0; i < batch.Replies.Count; i++)
            {
                var reply = batch.Replies[i];
                if (reply.StartedUnixUs > 0 && reply.CompletedUnixUs >= reply.StartedUnixUs)
                {
                    (first, last) = (Math.Min(first, reply.StartedUnixUs), Math.Max(last, reply.CompletedUnixUs));
                }
            }

            if (last == 0)
            {
                return;
            }

            var perTask = Math.Max(1, (last - first) / (double)batch.Replies.Count);
            TaskMicroseconds = TaskMicroseconds <= 0 ? perTask : (TaskMicroseconds + perTask) / 2;
        }
    }
}
