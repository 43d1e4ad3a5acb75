using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

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
    private readonly Dictionary<long, TaskEntry> tasks = [];
    private readonly LinkedList<TaskEntry> ready = new();
    private readonly Dictionary<long, List<TaskEntry>> dependents = [];
    private readonly Queue<long> finishedOrder = new();

    // Results finished under the lock, for their owners' streams; delivered after it (see DeliverFinished).
    private readonly List<(TaskSubscriber Owner, TaskResult Result)> toDeliver = [];
    private readonly Dictionary<int, EngineLoad> loads = [];
    private readonly Dictionary<string, long> submittedPerCapability = [];
    private readonly AssemblyStore assemblies = new();
    private long nextId;
    private long succeeded;
    private long failed;
    private long aborted;

    // Tasks on an engine now; every accepted task that is neither finished nor running is queued.
    private long running;

    public TaskFarm(EngineRegistry registry, TaskFarmOptions options, TimeProvider time)
    {
        this.registry = registry;
        this.options = options;
        this.time = time;
        registry.Changed += Pump;
    }

    public QueueStatusReply Status()
    {
        lock (sync)
        {
            var reply = new QueueStatusReply
            {
                Queued = nextId - succeeded - failed - aborted - running,
                Running = running,
                Succeeded = succeeded,
                Failed = failed,
                Aborted = aborted,
                Engines = registry.Ids().Count,
            };
            foreach (var (engine, load) in loads.Where(l => l.Value.Tasks > 0))
            {
                reply.RunningPerEngine[engine] = load.Tasks;
            }

            return reply;
        }
    }

    /// <summary>Accepts a batch of submissions; each gets an id, or a refusal saying why.</summary>
    public IReadOnlyList<TaskAccepted> Submit(IReadOnlyList<SubmitTask> batch, TaskSubscriber owner, CapabilityRecord? capability)
    {
        var now = UnixMicroseconds();
        var accepted = new List<TaskAccepted>(batch.Count);
        lock (sync)
        {
            var refusals = Validate(batch);
            var quotaLeft = QuotaLeft(capability);
            var idsByRef = new Dictionary<long, long>();
            foreach (var submission in batch)
            {
                if (refusals.TryGetValue(submission.ClientRef, out var refusal))
                {
                    accepted.Add(new TaskAccepted { ClientRef = submission.ClientRef, Refused = refusal });
                    continue;
                }

                if (quotaLeft <= 0)
                {
                    accepted.Add(new TaskAccepted { ClientRef = submission.ClientRef, Refused = $"capability {capability!.Id} allows at most {capability.MaxTasks} tasks, and they are used up" });
                    continue;
                }

                quotaLeft--;
                if (capability is not null)
                {
                    submittedPerCapability[capability.Id] = submittedPerCapability.GetValueOrDefault(capability.Id) + 1;
                }

                var entry = new TaskEntry(++nextId, assemblies.Strip(submission.Spec), owner, now);
                idsByRef[submission.ClientRef] = entry.Id;
                tasks[entry.Id] = entry;
                accepted.Add(new TaskAccepted { ClientRef = submission.ClientRef, TaskId = entry.Id });
            }

            foreach (var submission in batch.Where(s => idsByRef.ContainsKey(s.ClientRef)))
            {
                Admit(tasks[idsByRef[submission.ClientRef]], submission.Spec.After.Select(a => a < 0 ? idsByRef[-a] : a));
            }
        }

        Pump();
        return accepted;
    }

    /// <summary>Results by id: finished ones at once; unfinished ones after waiting at most <paramref name="wait"/>.</summary>
    public async Task<IReadOnlyList<TaskResult>> GetResultsAsync(IReadOnlyList<long> ids, TimeSpan wait, CancellationToken cancellationToken)
    {
        var entries = new List<TaskEntry>(ids.Count);
        Task finished;
        lock (sync)
        {
            foreach (var id in ids)
            {
                entries.Add(tasks.GetValueOrDefault(id) ?? throw Unknown(id));
            }

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

    /// <summary>Aborts tasks: queued ones never run; running ones are reported aborted when they end.</summary>
    public IReadOnlyList<long> Abort(IReadOnlyList<long> ids)
    {
        var done = new List<long>();
        lock (sync)
        {
            foreach (var id in ids)
            {
                var entry = tasks.GetValueOrDefault(id) ?? throw Unknown(id);
                if (entry.IsFinished)
                {
                    continue;
                }

                entry.AbortRequested = true;
                done.Add(id);
                if (entry.State == TaskState.Queued)
                {
                    ready.Remove(entry);
                    Finish(entry, TaskState.Aborted, null, "aborted before it ran");
                }
            }
        }

        DeliverFinished();
        return done;
    }

    /// <summary>Forgets finished results (all of them when <paramref name="ids"/> is empty).</summary>
    public int Clear(IReadOnlyList<long> ids)
    {
        lock (sync)
        {
            var chosen = ids.Count == 0 ? tasks.Values.Where(t => t.IsFinished).Select(t => t.Id).ToList() : [.. ids];
            return chosen.Count(id => tasks.TryGetValue(id, out var t) && t.IsFinished && tasks.Remove(id));
        }
    }

    private void Admit(TaskEntry entry, IEnumerable<long> after)
    {
        foreach (var dependency in after.Distinct())
        {
            var required = tasks[dependency];
            if (required.State == TaskState.Succeeded)
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

    private long QuotaLeft(CapabilityRecord? capability) =>
        capability?.MaxTasks is long max ? max - submittedPerCapability.GetValueOrDefault(capability.Id) : long.MaxValue;

    private RpcException Unknown(long id) => new(new Status(
        StatusCode.NotFound,
        id > 0 && id <= nextId
            ? $"task {id} is no longer held: its result was cleared, or evicted (the controller keeps the last {options.MaxFinishedResults} finished results)"
            : $"no task {id} was submitted to this controller"));

    private static string Describe(TaskResult result) =>
        result.Error is { } e ? $"{e.Type}: {e.Message}" : result.Failure;

    private long UnixMicroseconds() => Protocol.UnixMicroseconds.Of(time.GetUtcNow());

    private sealed class EngineLoad
    {
        public int Batches { get; set; }

        public int Tasks { get; set; }

        public HashSet<string> Assemblies { get; } = [];
    }
}
