using System.Collections.ObjectModel;
using Google.Protobuf;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;

namespace CapCluster.Client;

/// <summary>Where a task stands.</summary>
public enum TaskStatus
{
    /// <summary>Waiting for its dependencies or an engine.</summary>
    Queued,

    /// <summary>On an engine.</summary>
    Running,

    /// <summary>Finished well.</summary>
    Succeeded,

    /// <summary>Failed after its retries (and recovery), or a dependency failed.</summary>
    Failed,

    /// <summary>Aborted.</summary>
    Aborted,
}

/// <summary>
/// A task's result: its values (the pulled names of a code task; "result" for a delegate task), the engine,
/// the times, stdout and stderr, or why it failed.
/// </summary>
public sealed class TaskOutcome
{
    private static readonly IReadOnlyDictionary<string, object?> NoValues = ReadOnlyDictionary<string, object?>.Empty;
    private ByteString? encoded;
    private TaskResult? result;
    private IReadOnlyDictionary<string, object?>? values;
    private RemoteException? error;

    internal TaskOutcome(TaskResult result)
    {
        this.result = result;
        TaskId = result.TaskId;
    }

    /// <summary>A result as it came, encoded: decoded when first read (a barrier over many results decodes none of them).</summary>
    internal TaskOutcome(long taskId, ByteString encoded)
    {
        this.encoded = encoded;
        TaskId = taskId;
    }

    /// <summary>The task's id.</summary>
    public long TaskId { get; }

    /// <summary>Where it stands.</summary>
    public TaskStatus Status => Result.State switch
    {
        TaskState.Running => TaskStatus.Running,
        TaskState.Succeeded => TaskStatus.Succeeded,
        TaskState.Failed => TaskStatus.Failed,
        TaskState.Aborted => TaskStatus.Aborted,
        _ => TaskStatus.Queued,
    };

    /// <summary>True once it succeeded, failed or was aborted.</summary>
    public bool IsFinished => Status is TaskStatus.Succeeded or TaskStatus.Failed or TaskStatus.Aborted;

    /// <summary>The engine that ran it last (-1 when none did).</summary>
    public int EngineId => Result.EngineId;

    /// <summary>How many times it was sent to an engine.</summary>
    public int Attempts => Result.Attempts;

    /// <summary>True when this is the result of its recovery task.</summary>
    public bool Recovered => Result.Recovered;

    /// <summary>
    /// The values it returned, by name: decoded when first read, so waiting for many results (a barrier, a status) costs
    /// no decoding of values nobody reads. Every read returns the same objects.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Values =>
        values ?? Interlocked.CompareExchange(ref values, Result.Values.Count == 0 ? NoValues : DecodeValues(Result.Values), null) ?? values!;

    /// <summary>A delegate task's return value.</summary>
    public object? Value => Values.GetValueOrDefault("result");

    /// <summary>The engine's error, when the task's code threw.</summary>
    public RemoteException? Error => error ?? (Result.Error is { } e
        ? Interlocked.CompareExchange(ref error, new RemoteException(e.EngineId, e.Type, e.Message, e.StackTrace, e.CompileError, e.Line > 0 ? e.Line : null, e.Column > 0 ? e.Column : null), null) ?? error
        : null);

    /// <summary>Why it failed when no engine error says it (a failed dependency, a lost engine, a timeout, an abort).</summary>
    public string? Failure => Result.Failure.Length > 0 ? Result.Failure : null;

    /// <summary>What it printed.</summary>
    public string Stdout => Result.Stdout;

    /// <summary>What it printed to stderr.</summary>
    public string Stderr => Result.Stderr;

    /// <summary>When the controller accepted it.</summary>
    public DateTimeOffset Submitted => Protocol.UnixMicroseconds.ToTime(Result.SubmittedUnixUs)!.Value;

    /// <summary>When its last run started.</summary>
    public DateTimeOffset? Started => Protocol.UnixMicroseconds.ToTime(Result.StartedUnixUs);

    /// <summary>When it finished.</summary>
    public DateTimeOffset? Completed => Protocol.UnixMicroseconds.ToTime(Result.CompletedUnixUs);

    /// <summary>The value named <paramref name="name"/> converted to <typeparamref name="T"/>.</summary>
    /// <exception cref="TaskFailedException">The task failed or was aborted: it returned no values.</exception>
    /// <exception cref="InvalidOperationException">The task has not finished yet.</exception>
    /// <exception cref="KeyNotFoundException">The task succeeded without returning a value of that name.</exception>
    public T Get<T>(string name = "result")
    {
        if (Status is TaskStatus.Failed or TaskStatus.Aborted)
        {
            throw new TaskFailedException(this);
        }

        if (!IsFinished)
        {
            throw new InvalidOperationException($"task {TaskId} is {Status.ToString().ToLowerInvariant()}: it has no values yet (wait for it with GetResultAsync)");
        }

        return Values.TryGetValue(name, out var value)
            ? (T)ValueCodec.ConvertTo(value, typeof(T))!
            : throw new KeyNotFoundException($"task {TaskId} returned no value named '{name}'" +
                (Values.Count == 0 ? " (it returned none)" : $" (it returned {string.Join(", ", Values.Keys.Order(StringComparer.Ordinal).Select(k => $"'{k}'"))})"));
    }

    /// <inheritdoc />
    public override string ToString() => Status switch
    {
        TaskStatus.Succeeded => $"task {TaskId} succeeded on engine {EngineId}",
        TaskStatus.Failed or TaskStatus.Aborted => $"task {TaskId} {Status.ToString().ToLowerInvariant()}: {Error?.Message ?? Failure}",
        _ => $"task {TaskId} {Status.ToString().ToLowerInvariant()}",
    };

    /// <summary>The result, decoded from what came the first time it is read; its encoding is then let go.</summary>
    private TaskResult Result
    {
        get
        {
            if (Volatile.Read(ref result) is { } decoded)
            {
                return decoded;
            }

            // Only set to null after the result was published, so null here means it has been decoded meanwhile.
            var bytes = Volatile.Read(ref encoded);
            if (bytes is null)
            {
                return Volatile.Read(ref result)!;
            }

            TaskResult parsed;
            try
            {
                parsed = TaskResult.Parser.ParseFrom(bytes.Span);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new InvalidDataException($"the controller sent the result of task {TaskId} malformed: {e.Message}", e);
            }

            var kept = Interlocked.CompareExchange(ref result, parsed, null) ?? parsed;
            Volatile.Write(ref encoded, null);
            return kept;
        }
    }

    private static Dictionary<string, object?> DecodeValues(IReadOnlyList<NamedValue> named)
    {
        var values = new Dictionary<string, object?>(named.Count);
        for (var i = 0; i < named.Count; i++)
        {
            // Parsed from the span: a ByteString parses through a stream object of its own.
            values.Add(named[i].Name, ValueCodec.Decode(CapCluster.Protocol.V1.Value.Parser.ParseFrom(named[i].Tree.Span)));
        }

        return values;
    }
}
