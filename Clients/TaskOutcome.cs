using System.Collections.ObjectModel;
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
    private readonly TaskResult result;
    private IReadOnlyDictionary<string, object?>? values;

    internal TaskOutcome(TaskResult result)
    {
        this.result = result;
        if (result.Error is { } e)
        {
            Error = new RemoteException(e.EngineId, e.Type, e.Message, e.StackTrace, e.CompileError, e.Line > 0 ? e.Line : null, e.Column > 0 ? e.Column : null);
        }
    }

    /// <summary>The task's id.</summary>
    public long TaskId => result.TaskId;

    /// <summary>Where it stands.</summary>
    public TaskStatus Status => result.State switch
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
    public int EngineId => result.EngineId;

    /// <summary>How many times it was sent to an engine.</summary>
    public int Attempts => result.Attempts;

    /// <summary>True when this is the result of its recovery task.</summary>
    public bool Recovered => result.Recovered;

    /// <summary>
    /// The values it returned, by name: decoded when first read, so waiting for many results (a barrier, a status) costs
    /// no decoding of values nobody reads. Every read returns the same objects.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Values =>
        values ?? Interlocked.CompareExchange(ref values, result.Values.Count == 0 ? NoValues : DecodeValues(result.Values), null) ?? values!;

    /// <summary>A delegate task's return value.</summary>
    public object? Value => Values.GetValueOrDefault("result");

    /// <summary>The engine's error, when the task's code threw.</summary>
    public RemoteException? Error { get; }

    /// <summary>Why it failed when no engine error says it (a failed dependency, a lost engine, a timeout, an abort).</summary>
    public string? Failure => result.Failure.Length > 0 ? result.Failure : null;

    /// <summary>What it printed.</summary>
    public string Stdout => result.Stdout;

    /// <summary>What it printed to stderr.</summary>
    public string Stderr => result.Stderr;

    /// <summary>When the controller accepted it.</summary>
    public DateTimeOffset Submitted => Protocol.UnixMicroseconds.ToTime(result.SubmittedUnixUs)!.Value;

    /// <summary>When its last run started.</summary>
    public DateTimeOffset? Started => Protocol.UnixMicroseconds.ToTime(result.StartedUnixUs);

    /// <summary>When it finished.</summary>
    public DateTimeOffset? Completed => Protocol.UnixMicroseconds.ToTime(result.CompletedUnixUs);

    /// <summary>The value named <paramref name="name"/> converted to <typeparamref name="T"/>.</summary>
    public T Get<T>(string name = "result") => (T)ValueCodec.ConvertTo(Values[name], typeof(T))!;

    /// <inheritdoc />
    public override string ToString() => Status switch
    {
        TaskStatus.Succeeded => $"task {TaskId} succeeded on engine {EngineId}",
        TaskStatus.Failed or TaskStatus.Aborted => $"task {TaskId} {Status.ToString().ToLowerInvariant()}: {Error?.Message ?? Failure}",
        _ => $"task {TaskId} {Status.ToString().ToLowerInvariant()}",
    };

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
