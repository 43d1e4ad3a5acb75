using CapCluster.Controller.Internal;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TaskFarm = CapCluster.Controller.Internal.Tasks.TaskFarm;

namespace CapCluster.Controller.Tests.Infrastructure;

/// <summary>
/// A task farm in process: a real <see cref="EngineRegistry"/> of <see cref="FakeEngine"/>s, a task ledger in a
/// folder of its own, a task journal there if the test asks for one, capabilities made in memory, and a fake clock
/// the test moves.
/// </summary>
internal sealed class FarmHarness : IAsyncDisposable
{
    private readonly TempFolder folder = new();
    private readonly Dictionary<string, CapabilityRecord> capabilities = new(StringComparer.Ordinal);
    private readonly List<FakeEngine> engines = [];
    private readonly TaskJournal? journal;

    public FarmHarness(TaskFarmOptions? options = null, bool journaled = false)
    {
        journal = journaled ? TaskJournal.Open(JournalFolder, new TaskJournalOptions(), NullLogger.Instance) : null;
        Farm = NewFarm(options ?? new TaskFarmOptions());
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public EngineRegistry Engines { get; private set; } = null!;

    public TaskFarm Farm { get; private set; }

    /// <summary>The journal's folder (a journaled harness's).</summary>
    public string JournalFolder => System.IO.Path.Combine(folder.Path, "journal");

    /// <summary>Waits until what the journal writes behind (results, forgetting) is written.</summary>
    public Task FlushJournalAsync() => journal!.Flush();

    /// <summary>
    /// A farm as a restarted controller makes it: the same ledger file and journal, read afresh, and a registry of its
    /// own (engines added before it registered with the farm before; the old farm keeps them).
    /// </summary>
    public TaskFarm NewFarm(TaskFarmOptions options)
    {
        Engines = new EngineRegistry(Time, NullLogger.Instance);
        return Farm = new TaskFarm(Engines, options, TaskLedger.Open(folder.Path), journal, id => capabilities.GetValueOrDefault(id), Time, NullLogger.Instance);
    }

    public FakeEngine AddEngine(IReadOnlyDictionary<string, string>? properties = null, string? serves = null)
    {
        var engine = new FakeEngine(Engines, properties, serves);
        engines.Add(engine);
        return engine;
    }

    /// <summary>
    /// An engine that has answered a batch. A fresh engine gets one task a batch until it answered one; this one ran a
    /// task of a capability of its own (<c>w</c>), so its next batches are as large as the options say. Add it while no
    /// other engine could take that task.
    /// </summary>
    public async Task<FakeEngine> AddAnsweredEngineAsync(IReadOnlyDictionary<string, string>? properties = null)
    {
        var engine = AddEngine(properties);
        var client = new FarmClient(Farm, Capability('w'));
        var id = client.SubmitAccepted(Code(1, "warm-up"))[0];
        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["warm-up"], code);
        engine.Answer(work, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(id)).State);
        return engine;
    }

    /// <summary>A task capability known to the farm. Ids are as furlgen makes them: cap_ and 16 base32 letters.</summary>
    public CapabilityRecord Capability(char letter, long? maxTasks = null, CapabilityRecord? parent = null, bool ownEngines = false)
    {
        var record = new CapabilityRecord(
            "cap_" + new string(letter, 16), CapabilityInterfaces.Task, null, Time.GetUtcNow(), null, new string('0', 64), "01", false,
            ParentId: parent?.Id, MaxTasks: maxTasks, OwnEngines: ownEngines);
        capabilities[record.Id] = record;
        return record;
    }

    /// <summary>Changes a capability's registry record, as furlgen's revoke (or an expiry set at issue) would.</summary>
    public CapabilityRecord Update(CapabilityRecord record, Func<CapabilityRecord, CapabilityRecord> change) =>
        capabilities[record.Id] = change(record);

    public static SubmitTask Code(long clientRef, string code, int retries = 0, TimeSpan? timeout = null, TaskSpec? recovery = null, params long[] after)
    {
        var spec = new TaskSpec { Code = new CodeTaskSpec { Code = code }, Retries = retries, Recovery = recovery, After = { after } };
        spec.TimeoutMs = (long)(timeout?.TotalMilliseconds ?? 0);
        return new SubmitTask { ClientRef = clientRef, Spec = spec };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in engines)
        {
            await engine.DisposeAsync();
        }

        journal?.Dispose();
        folder.Dispose();
    }
}
