using System.Threading.Channels;
using CapCluster.Controller.Internal;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Tests.Infrastructure;

/// <summary>
/// An engine registered with a real <see cref="EngineRegistry"/> whose stream is an in-memory outbox: the test reads
/// the work the controller sends it and answers each item by hand (or never, or by going away).
/// </summary>
internal sealed class FakeEngine : IAsyncDisposable
{
    private readonly Channel<ControllerMessage> sent = Channel.CreateUnbounded<ControllerMessage>();
    private readonly CancellationTokenSource stop = new();
    private readonly EngineRegistry registry;
    private readonly Task pump;

    // Messages read while the test waited for another kind, in the order they came.
    private readonly List<ControllerMessage> readPast = [];

    /// <param name="serves">The task capability whose tasks alone it runs, as an engine capability made with <c>--serves</c> says; null for a shared engine.</param>
    public FakeEngine(EngineRegistry registry, IReadOnlyDictionary<string, string>? properties = null, string? serves = null)
    {
        this.registry = registry;
        var info = new RegisterEngine { Host = "fake-host", Pid = 4242, Version = "test", Cores = 1 };
        foreach (var (key, value) in properties ?? new Dictionary<string, string>())
        {
            info.Properties[key] = value;
        }

        Registered = registry.Register(info, "ipv4:127.0.0.1:1", [], serves);
        pump = Registered.PumpAsync(new Outbox(sent.Writer), stop.Token);
    }

    public RegisteredEngine Registered { get; }

    public int Id => Registered.Id;

    /// <summary>The next work item the controller sent this engine.</summary>
    public async Task<Work> NextWorkAsync() => (await NextAsync(ControllerMessage.KindOneofCase.Work)).Work;

    /// <summary>The next task ids the controller told this engine it aborted (ahead of its queue).</summary>
    public async Task<AbortTasks> NextAbortAsync() => (await NextAsync(ControllerMessage.KindOneofCase.AbortTasks)).AbortTasks;

    /// <summary>Work the controller has already sent, without waiting for any.</summary>
    public bool TryTakeSentWork(out Work work)
    {
        work = null!;
        if (Take(ControllerMessage.KindOneofCase.Work) is { } kept)
        {
            work = kept.Work;
            return true;
        }

        while (sent.Reader.TryRead(out var message))
        {
            if (message.KindCase == ControllerMessage.KindOneofCase.Work)
            {
                work = message.Work;
                return true;
            }

            Keep(message);
        }

        return false;
    }

    /// <summary>The next work item, which must be a task batch; its tasks' code, in order (a task sent as the same as the one before it, as an engine reads it).</summary>
    public async Task<(Work Work, IReadOnlyList<string> Code)> NextBatchAsync()
    {
        var work = await NextWorkAsync();
        Assert.Equal(EngineRequest.KindOneofCase.Tasks, work.Request.KindCase);
        var code = new List<string>();
        foreach (var task in work.Request.Tasks.Tasks)
        {
            Assert.False(task.SameAsPrevious && code.Count == 0, "the first task of a batch was sent as the same as the one before it");
            code.Add(task.SameAsPrevious ? code[^1] : task.Code);
        }

        return (work, code);
    }

    /// <summary>Answers a task batch with one reply per task, in order.</summary>
    public void Answer(Work work, params TaskReply[] replies) =>
        Registered.CompleteWork(new WorkResult { WorkId = work.WorkId, Reply = new EngineReply { Tasks = new TaskBatchReply { Replies = { replies } } } }, RelayedBlobs.None);

    /// <summary>Takes task batches and answers each task with its own code as stdout, until <paramref name="count"/> tasks ran; returns their code, in order.</summary>
    public async Task<List<string>> RunTasksAsync(int count)
    {
        var sent = new List<string>();
        while (sent.Count < count)
        {
            var (work, code) = await NextBatchAsync();
            sent.AddRange(code);
            Answer(work, [.. code.Select(c => Ok(c))]);
        }

        return sent;
    }

    /// <summary>
    /// Takes task batches, however the farm sizes them, and answers the tasks in the order they were sent with
    /// <paramref name="replies"/>, one each, until every reply was used; returns the tasks' code, in order.
    /// </summary>
    public async Task<List<string>> RunTasksAsync(params TaskReply[] replies)
    {
        var sent = new List<string>();
        while (sent.Count < replies.Length)
        {
            var (work, code) = await NextBatchAsync();
            Assert.True(sent.Count + code.Count <= replies.Length, $"engine {Id} was sent {sent.Count + code.Count} tasks, more than the {replies.Length} replies given");
            Answer(work, replies[sent.Count..(sent.Count + code.Count)]);
            sent.AddRange(code);
        }

        return sent;
    }

    /// <summary>
    /// The next message of <paramref name="kind"/> the controller sent; work and aborts read past on the way are kept for
    /// whoever asks for them, other control messages dropped.
    /// </summary>
    private async Task<ControllerMessage> NextAsync(ControllerMessage.KindOneofCase kind)
    {
        if (Take(kind) is { } kept)
        {
            return kept;
        }

        while (true)
        {
            var read = sent.Reader.ReadAsync().AsTask();
            if (await Task.WhenAny(read, pump).Within() != read)
            {
                await pump; // its failure, if it failed
                throw new InvalidOperationException($"engine {Id}'s stream ended before the controller sent it {kind}");
            }

            var message = await read;
            if (message.KindCase == kind)
            {
                return message;
            }

            Keep(message);
        }
    }

    private ControllerMessage? Take(ControllerMessage.KindOneofCase kind)
    {
        var at = readPast.FindIndex(m => m.KindCase == kind);
        if (at < 0)
        {
            return null;
        }

        var message = readPast[at];
        readPast.RemoveAt(at);
        return message;
    }

    private void Keep(ControllerMessage message)
    {
        if (message.KindCase is ControllerMessage.KindOneofCase.Work or ControllerMessage.KindOneofCase.AbortTasks)
        {
            readPast.Add(message);
        }
    }

    /// <summary>The engine goes away as the controller sees a lost engine: unregistered, its work failed.</summary>
    public void Lose(string reason = "its stream ended") => registry.Unregister(Registered, reason);

    public static TaskReply Ok(string stdout = "") => new() { Stdout = stdout };

    public static TaskReply Raised(string type, string message = "boom") => new() { Error = new RemoteError { Type = type, Message = message } };

    public async ValueTask DisposeAsync()
    {
        registry.Unregister(Registered, "the test ended");
        await stop.CancelAsync();
        await pump.Within();
        stop.Dispose();
    }

    private sealed class Outbox(ChannelWriter<ControllerMessage> writer) : IServerStreamWriter<ControllerMessage>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(ControllerMessage message) => WriteAsync(message, CancellationToken.None);

        // The session writes with a token; the interface's default for this overload refuses one that can be cancelled.
        public Task WriteAsync(ControllerMessage message, CancellationToken cancellationToken) => writer.WriteAsync(message, cancellationToken).AsTask();
    }
}
