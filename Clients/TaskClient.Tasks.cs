using System.Runtime.CompilerServices;
using CapCluster.Client.Internal;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Client;

/// <summary>Submitting tasks and getting their results.</summary>
public sealed partial class TaskClient
{
    /// <summary>Independent tasks per submission message. Default 2048, well under the message size limit.</summary>
    private const int SubmissionPart = 2048;

    /// <summary>Ids per GetResults call. 1024, well under the message size limit.</summary>
    private const int AskPart = 1024;

    // The request of a delegate task that captures nothing and takes no arguments, by package, one for each map flag; and
    // the spec of such a task whose options are all at their defaults, by request. Shared requests and specs are never
    // changed once made: ShippedClosures lists assemblies in a copy.
    private readonly ConditionalWeakTable<DelegatePackage, ApplyRequest> bareApplies = new();
    private readonly ConditionalWeakTable<DelegatePackage, ApplyRequest> bareMaps = new();
    private readonly ConditionalWeakTable<ApplyRequest, TaskSpec> bareSpecs = new();

    /// <summary>Submits one task; returns its id. Submissions made together leave in one batch.</summary>
    /// <exception cref="TaskRefusedException">The controller refused it (unknown dependency, quota used up), saying why.</exception>
    /// <exception cref="CapabilityRefusedException">The controller refuses the capability (revoked, expired), also when it
    /// closed the connection while this submission awaited its acknowledgement.</exception>
    /// <exception cref="TaskLostException">The connection was lost before the controller acknowledged it.</exception>
    public async Task<long> RunAsync(TaskDefinition task, CancellationToken cancellationToken = default) =>
        (await RunAsync([task], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Submits several tasks at once; they may depend on each other through <see cref="TaskDefinition.AfterInBatch"/>.
    /// Returns their ids in order. A cycle, or a dependency the controller does not hold, refuses the tasks concerned.
    /// </summary>
    public async Task<IReadOnlyList<long>> RunAsync(IReadOnlyList<TaskDefinition> tasks, CancellationToken cancellationToken = default)
    {
        // The batch's client references are consecutive; a task that depends on another of the batch names it by its
        // reference. Tasks are records (equal by value): the batch tells them apart by reference.
        var first = session.NextReferences(tasks.Count);
        var dependent = tasks.Any(DependsInBatch);
        var references = new Dictionary<TaskDefinition, long>(dependent ? tasks.Count : 0, ReferenceEqualityComparer.Instance);
        for (var i = 0; dependent && i < tasks.Count; i++)
        {
            references.TryAdd(tasks[i], first + i);
        }

        var specs = tasks.Select((t, i) => new SubmitTask { ClientRef = first + i, Spec = ToSpec(t, references) }).ToList();

        // Tasks that refer to each other must travel in one message; independent ones go in parts that fit a message.
        var parts = dependent ? [specs] : specs.Chunk(SubmissionPart).Select(p => (IReadOnlyList<SubmitTask>)p).ToList();
        var submissions = parts.Select(session.Submit).ToList();
        var accepted = (await Task.WhenAll(submissions).WaitAsync(cancellationToken).ConfigureAwait(false)).SelectMany(a => a).ToArray();
        var refused = accepted.Where(a => a.Refused.Length > 0).ToList();
        if (refused.Count > 0)
        {
            throw new TaskRefusedException(string.Join("; ", refused.Select(r => $"task #{Array.IndexOf(accepted, r) + 1} refused: {r.Refused}")));
        }

        return [.. accepted.Select(a => a.TaskId)];
    }

    /// <summary>
    /// The result of task <paramref name="taskId"/> (submitted by any client with this capability or one derived from it), waiting
    /// for it at most <paramref name="timeout"/> (default: until it finishes). With <paramref name="block"/> false it
    /// answers at once, possibly with a queued or running task.
    /// </summary>
    /// <exception cref="TimeoutException">It did not finish in time.</exception>
    /// <exception cref="ControllerCallException">NOT_FOUND: not one of this capability's tasks, or its result was cleared or evicted
    /// (another holder's task gets the same answer as one that never existed).</exception>
    public async Task<TaskOutcome> GetResultAsync(long taskId, bool block = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (session.Owns(taskId) && (block || session.HasEnded(taskId)))
        {
            return await WithinAsync(session.ResultOf(taskId), [taskId], timeout, cancellationToken).ConfigureAwait(false);
        }

        return (await AskAsync([taskId], block, timeout, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>
    /// Waits until every task in <paramref name="taskIds"/> has finished, and returns their outcomes in order. Tasks this
    /// client did not submit are waited for with one call to the controller for many of them, not one each.
    /// </summary>
    /// <exception cref="TimeoutException">Some did not finish in time.</exception>
    public async Task<IReadOnlyList<TaskOutcome>> BarrierAsync(IEnumerable<long> taskIds, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var ids = taskIds.ToArray();
        // All this stream's own, their results on their way here: one wait for them all, not one per task.
        return Array.TrueForAll(ids, session.Owns)
            ? await WithinAsync(session.AllOf(ids), ids, timeout, cancellationToken).ConfigureAwait(false)
            : await AskAsync(ids, true, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for results coming to this client's stream, at most <paramref name="timeout"/>.</summary>
    private async Task<T> WithinAsync<T>(Task<T> results, long[] ids, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await (timeout is { } t ? results.WaitAsync(t, connection.Time, cancellationToken) : results.WaitAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw ClientErrors.NotFinished(ids, timeout!.Value, null);
        }
    }

    /// <summary>
    /// Asks the controller for results by id, a part of <see cref="AskPart"/> ids a call; blocking, it asks again for the
    /// unfinished ones, each call waiting on the controller at most a minute, until all finished or <paramref name="timeout"/>
    /// (default an hour) passed.
    /// </summary>
    private async Task<TaskOutcome[]> AskAsync(long[] ids, bool block, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var outcomes = new TaskOutcome[ids.Length];
        var limit = block ? timeout ?? TimeSpan.FromHours(1) : TimeSpan.Zero;
        var started = connection.Time.GetTimestamp();
        IEnumerable<int> left = Enumerable.Range(0, ids.Length);
        while (true)
        {
            var unfinished = new List<int>();
            foreach (var part in left.Chunk(AskPart))
            {
                var remaining = limit - connection.Time.GetElapsedTime(started);
                var wait = remaining > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : remaining;
                var request = new GetResultsRequest { TaskIds = { part.Select(i => ids[i]) }, WaitMs = (long)Math.Max(0, wait.TotalMilliseconds) };
                var reply = await connection.CallAsync(o => connection.TaskFarm.GetResultsAsync(request, o), cancellationToken, idempotent: true).ConfigureAwait(false);
                for (var k = 0; k < part.Length; k++)
                {
                    outcomes[part[k]] = new TaskOutcome(reply.Results[k]);
                    if (!outcomes[part[k]].IsFinished)
                    {
                        unfinished.Add(part[k]);
                    }
                }
            }

            if (unfinished.Count == 0 || !block)
            {
                return outcomes;
            }

            if (connection.Time.GetElapsedTime(started) >= limit)
            {
                throw ClientErrors.NotFinished(ids, limit, outcomes);
            }

            left = unfinished;
        }
    }

    /// <summary>
    /// Aborts a task: queued, it never runs; already sent to an engine in a batch, it is skipped there if it has not
    /// started (its result says "aborted before it ran"), and runs to its end if it has (an engine cannot stop running code:
    /// kill the engine to stop it), reported aborted, its result discarded. True when it was not finished yet.
    /// </summary>
    /// <exception cref="ControllerCallException">NOT_FOUND: not one of this capability's tasks held by the controller.</exception>
    public async Task<bool> AbortAsync(long taskId, CancellationToken cancellationToken = default)
    {
        var reply = await connection.CallAsync(o => connection.TaskFarm.AbortAsync(new AbortRequest { TaskIds = { taskId } }, o), cancellationToken).ConfigureAwait(false);
        return reply.Aborted.Contains(taskId);
    }

    /// <summary>
    /// Forgets finished results: those named (this capability's or its descendants'), or when <paramref name="taskIds"/> is
    /// null every finished result submitted with this capability itself; returns how many.
    /// </summary>
    /// <exception cref="ControllerCallException">NOT_FOUND: a named id is not one of this capability's tasks; nothing was cleared.</exception>
    public async Task<int> ClearAsync(IEnumerable<long>? taskIds = null, CancellationToken cancellationToken = default)
    {
        var ids = taskIds?.ToList() ?? [];
        var request = new ClearRequest { TaskIds = { ids } };
        var cleared = (await connection.CallAsync(o => connection.TaskFarm.ClearAsync(request, o), cancellationToken).ConfigureAwait(false)).Cleared;
        session.Forget(ids);
        return cleared;
    }

    /// <summary>
    /// How many finished results <see cref="ResultsAsync"/> holds unread, at most (default 100,000). Read when the feed
    /// starts (the first <see cref="ResultsAsync"/>). Results that finish while it is full are not in the feed; they
    /// stay fetchable with <see cref="GetResultAsync"/> and are counted in <see cref="ResultsDropped"/>.
    /// </summary>
    public int ResultsFeedCapacity { get; set; } = 100_000;

    /// <summary>Results that finished while the feed of <see cref="ResultsAsync"/> was full, and so are not in it.</summary>
    public long ResultsDropped => session.Feed.Dropped;

    /// <summary>
    /// The results of this client's tasks as they finish, in completion order, from the first call on: a client that
    /// never calls it keeps nothing for it. At most <see cref="ResultsFeedCapacity"/> wait unread.
    /// </summary>
    public async IAsyncEnumerable<TaskOutcome> ResultsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var outcome in session.Feed.Open(ResultsFeedCapacity).ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return outcome;
        }
    }

    /// <summary>
    /// Maps <paramref name="function"/> over <paramref name="sequence"/> as tasks of <paramref name="chunkSize"/> items
    /// each, load-balanced over the engines; the results come back in input order.
    /// </summary>
    /// <exception cref="TaskFailedException">A chunk failed after its retries.</exception>
    public Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(Func<T, TResult> function, IEnumerable<T> sequence, int chunkSize = 64, int retries = 0, CancellationToken cancellationToken = default) =>
        MapDelegateAsync<T, TResult>(function, sequence, chunkSize, retries, cancellationToken);

    /// <summary>
    /// Maps the async <paramref name="function"/> over <paramref name="sequence"/> as tasks of <paramref name="chunkSize"/>
    /// items each: the engine awaits each call, and the results are the awaited values, in input order.
    /// </summary>
    /// <exception cref="TaskFailedException">A chunk failed after its retries.</exception>
    public Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(Func<T, Task<TResult>> function, IEnumerable<T> sequence, int chunkSize = 64, int retries = 0, CancellationToken cancellationToken = default) =>
        MapDelegateAsync<T, TResult>(function, sequence, chunkSize, retries, cancellationToken);

    private async Task<IReadOnlyList<TResult>> MapDelegateAsync<T, TResult>(Delegate function, IEnumerable<T> sequence, int chunkSize, int retries, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var chunks = sequence.Chunk(chunkSize).ToList();
        var ids = await RunAsync([.. chunks.Select(c => (TaskDefinition)new DelegateTask(function, [c]) { Retries = retries, MapOverFirstArgument = true })], cancellationToken).ConfigureAwait(false);
        var outcomes = await BarrierAsync(ids, cancellationToken: cancellationToken).ConfigureAwait(false);
        var results = new List<TResult>();
        foreach (var outcome in outcomes)
        {
            results.AddRange(outcome.Status == TaskStatus.Succeeded ? outcome.Get<List<TResult>>() : throw new TaskFailedException(outcome));
        }

        return results;
    }

    /// <summary>
    /// Maps the C# expression <paramref name="expression"/> (over the element <c>x</c>) across <paramref name="sequence"/>
    /// as code tasks of <paramref name="chunkSize"/> items; results in input order.
    /// </summary>
    public async Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(string expression, IEnumerable<T> sequence, int chunkSize = 64, CancellationToken cancellationToken = default)
    {
        var code = $"var __map = new System.Collections.Generic.List<object?>(); foreach (var x in __items) {{ __map.Add({expression}); }}";
        var chunks = sequence.Chunk(chunkSize).ToList();
        var ids = await RunAsync([.. chunks.Select(c => (TaskDefinition)new CodeTask(code) { Push = new Dictionary<string, object?> { ["__items"] = c }, Pull = ["__map"] })], cancellationToken).ConfigureAwait(false);
        var results = new List<TResult>();
        foreach (var outcome in await BarrierAsync(ids, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            results.AddRange(outcome.Status == TaskStatus.Succeeded ? outcome.Get<List<TResult>>("__map") : throw new TaskFailedException(outcome));
        }

        return results;
    }

    /// <summary>Whether <paramref name="task"/> or its recovery task waits for another task of its batch.</summary>
    private static bool DependsInBatch(TaskDefinition task) =>
        task.AfterInBatch.Count > 0 || (task.RecoveryTask is { } recovery && DependsInBatch(recovery));

    private TaskSpec ToSpec(TaskDefinition task, IReadOnlyDictionary<TaskDefinition, long> references)
    {
        var shared = false;
        var apply = task is DelegateTask function ? ToApply(function, out shared) : null;
        if (shared && task.Retries == 0 && !task.ClearBefore && !task.ClearAfter
            && task.Timeout is null && task.Requires.Count == 0 && task.After.Count == 0 && task.AfterInBatch.Count == 0 && task.RecoveryTask is null)
        {
            // A delegate task with nothing of its own and every option at its default: one spec for all of them, as its
            // request is (a burst of 100,000 otherwise made 100,000 specs and their repeated fields).
            return bareSpecs.GetValue(apply!, static a => new TaskSpec { Function = a });
        }

        var spec = new TaskSpec
        {
            Retries = task.Retries,
            ClearBefore = task.ClearBefore,
            ClearAfter = task.ClearAfter,
            TimeoutMs = (long)(task.Timeout?.TotalMilliseconds ?? 0),
        };
        foreach (var (name, value) in task.Requires)
        {
            spec.Requires.Add(new Requirement { Name = name, Value = value });
        }

        if (task.After.Count > 0)
        {
            spec.After.AddRange(task.After);
        }

        foreach (var other in task.AfterInBatch)
        {
            spec.After.Add(references.TryGetValue(other, out var reference)
                ? -reference
                : throw new ArgumentException("a task's AfterInBatch names a task that is not in the same RunAsync batch"));
        }

        switch (task)
        {
            case CodeTask code:
                spec.Code = new CodeTaskSpec { Code = code.Code, Pull = { code.Pull } };
                spec.Code.Push.AddRange(code.Push.Select(p => OutgoingValues.Inline(p.Key, p.Value)));
                break;
            case DelegateTask:
                spec.Function = apply;
                break;
            default:
                throw new ArgumentException($"unknown task kind {task.GetType()}");
        }

        if (task.RecoveryTask is { } recovery)
        {
            spec.Recovery = ToSpec(recovery, references);
        }

        return spec;
    }

    /// <summary>The request of <paramref name="task"/>; <paramref name="shared"/> when it is the one every task of its delegate shares.</summary>
    private ApplyRequest ToApply(DelegateTask task, out bool shared)
    {
        var package = DelegatePackager.Package(task.Function);
        shared = package.Captured.Count == 0 && package.Delegates.Count == 0 && task.Arguments.Count == 0;
        // Nothing of its own: the same request as every other task of this delegate (and map flag), made once.
        return shared
            ? (task.MapOverFirstArgument ? bareMaps : bareApplies).GetValue(package, p => NewApply(p, task))
            : NewApply(package, task);
    }

    private ApplyRequest NewApply(DelegatePackage package, DelegateTask task)
    {
        // The assemblies go by their closure id; the stream lists them with the first task that names it (see ShippedClosures).
        var call = new DelegateCall { Closure = session.Closures.Name(package), DeclaringType = package.DeclaringTypeName, MethodToken = package.MethodToken, IsStatic = package.IsStatic };
        foreach (var c in package.Captured)
        {
            call.Captured.Add(OutgoingValues.Inline(c.FieldName, c.Value, $"captured variable '{c.VariableName}'"));
        }

        call.Delegates.Add(package.DelegateMessages());

        var apply = new ApplyRequest { Function = call, Map = task.MapOverFirstArgument };
        for (var i = 0; i < task.Arguments.Count; i++)
        {
            apply.Arguments.Add(OutgoingValues.Inline($"arg{i}", task.Arguments[i], $"argument {i + 1}"));
        }

        return apply;
    }
}
