using System.Security.Cryptography;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A task sent with <c>same_spec_as</c> runs the spec of the earlier task of its batch that it names, exactly as if it had
/// been sent again: the same dependencies, a journal row of its own, the same refusals. A name that is no earlier task of the
/// batch refuses that task alone, and is audited.
/// </summary>
public sealed class SharedSpecTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(journaled: true);

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    private static SubmitTask Same(long clientRef, long named) => new() { ClientRef = clientRef, SameSpecAs = named };

    [Fact]
    public async Task ARunNamingOneSpec_RunsItForEach_WhetherItNamesTheTaskBeforeOrOneFurtherBack()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        // 2 and 3 name 1 (as a client sends a run), 5 names 4 (the task before), 6 names 1 again, past 4 and 5.
        var ids = await client.SubmitJournaledAsync(Code(1, "one"), Same(2, 1), Same(3, 1), Code(4, "four"), Same(5, 4), Same(6, 1));

        Assert.Equal(["one", "one", "one", "four", "four", "one"], await engine.RunTasksAsync(6));
        Assert.Equal("one", (await client.ResultAsync(ids[5])).Stdout);
    }

    [Fact]
    public async Task ARunSharingOneSpec_GoesToTheEngine_AsItsFirstTaskThenTheSameAgain()
    {
        var engine = await harness.AddAnsweredEngineAsync(); // else its first batches hold one task each
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        client.SubmitAccepted(Code(1, "one"), Same(2, 1), Same(3, 1), Code(4, "four"), Same(5, 4), Code(6, "four"));

        var tasks = (await engine.NextWorkAsync()).Request.Tasks.Tasks;
        Assert.Equal([false, true, true, false, true, false], tasks.Select(t => t.SameAsPrevious));
        Assert.Equal(["one", "", "", "four", "", "four"], tasks.Select(t => t.Code)); // 6 is equal to 4's, not the same object
    }

    [Fact]
    public async Task TheRequestThatListsAClosuresImagesToAnEngine_IsNotSentAgain_TheNextIs()
    {
        var engine = await harness.AddAnsweredEngineAsync(); // else its first batches hold one task each
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var image = RandomNumberGenerator.GetBytes(64);
        var call = new DelegateCall { DeclaringType = "Work", MethodToken = 1, IsStatic = true };
        call.Assemblies.Add(new AssemblyRef { Hash = Convert.ToHexStringLower(SHA256.HashData(image)), Name = "A", Image = ByteString.CopyFrom(image) });
        var shipping = new SubmitTask { ClientRef = 1, Spec = new TaskSpec { Function = new ApplyRequest { Function = call } } };

        client.SubmitAccepted(shipping, Same(2, 1), Same(3, 1), Same(4, 1));

        // Run again, the first would have the engine hash the images again for each task.
        var tasks = (await engine.NextWorkAsync()).Request.Tasks.Tasks;
        Assert.Equal([false, false, true, true], tasks.Select(t => t.SameAsPrevious));
        Assert.Single(tasks[0].Function.Function.Assemblies);
        Assert.Empty(tasks[1].Function.Function.Assemblies);
        Assert.Equal(tasks[0].Function.Function.Closure, tasks[1].Function.Function.Closure);
    }

    [Fact]
    public async Task ATaskSentAsTheSameAgain_KeepsItsTimeout()
    {
        var engine = await harness.AddAnsweredEngineAsync(); // else its first batches hold one task each
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "slow", timeout: TimeSpan.FromSeconds(5)), Same(2, 1));
        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["slow", "slow"], code);
        Assert.True(work.Request.Tasks.Tasks[1].SameAsPrevious);

        harness.Time.Advance(TimeSpan.FromSeconds(5));

        foreach (var id in ids)
        {
            Assert.Contains("timed out after 5 s", (await client.ResultAsync(id)).Failure, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ANameThatIsNoEarlierTaskWithASpec_RefusesThatTaskAlone_AndIsAudited()
    {
        harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        var both = Code(5, "both");
        both.SameSpecAs = 1;
        var outcome = harness.Farm.Submit([Code(1, "one"), Same(2, 3), Same(3, 1), Same(4, 4), both, Same(6, 99), Same(7, 2)], client.Subscriber, client.Capability);

        var refused = outcome.Accepted.Where(a => a.Refused.Length > 0).ToDictionary(a => a.ClientRef, a => a.Refused);
        Assert.Equal([2L, 4, 5, 6, 7], refused.Keys.Order());
        Assert.Contains("same_spec_as names client reference 3, which is no earlier task of this batch", refused[2], StringComparison.Ordinal); // a later one
        Assert.Contains("client reference 4", refused[4], StringComparison.Ordinal); // itself
        Assert.Contains("both a spec and same_spec_as", refused[5], StringComparison.Ordinal);
        Assert.Contains("client reference 99", refused[6], StringComparison.Ordinal); // none
        Assert.Contains("client reference 2", refused[7], StringComparison.Ordinal); // one whose own name failed
        Assert.Equal(5, outcome.AuditedRefusals.Count(r => r.Contains("same_spec_as", StringComparison.Ordinal)));
        Assert.All(outcome.Accepted.Where(a => a.ClientRef is 1 or 3), a => Assert.True(a.TaskId > 0));
    }

    [Fact]
    public async Task SharingASpecThatNamesDependencies_EachTaskWaitsForThem_ResolvedToTheBatchsIds()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        // 3 and 4 share 2's spec, which follows 1: each follows 1, and none follows another.
        var ids = client.SubmitAccepted(Code(1, "first"), Code(2, "then", after: -1), Same(3, 2), Same(4, 3));
        var (first, code) = await engine.NextBatchAsync();
        Assert.Equal(["first"], code);
        foreach (var id in ids.Skip(1))
        {
            Assert.Equal(TaskState.Queued, (await client.StatusAsync(id)).State);
        }

        engine.Answer(first, FakeEngine.Ok());

        Assert.Equal(["then", "then", "then"], await engine.RunTasksAsync(3));
        foreach (var id in ids.Skip(1))
        {
            Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(id)).State);
        }
    }

    [Fact]
    public void AFollowerOfATaskRefusedForItsAssemblies_IsRefusedTheSame()
    {
        harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var image = RandomNumberGenerator.GetBytes(64);
        var call = new DelegateCall { DeclaringType = "Work", MethodToken = 1, IsStatic = true };
        call.Assemblies.Add(new AssemblyRef { Hash = new string('0', 64), Name = "A", Image = ByteString.CopyFrom(image) }); // not its hash
        var forged = new SubmitTask { ClientRef = 1, Spec = new TaskSpec { Function = new ApplyRequest { Function = call } } };

        var answers = client.Submit(forged, Same(2, 1), Same(3, 2));

        Assert.All(answers, a => Assert.Contains("hashes to", a.Refused, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SharedSpecs_AreJournaledForEachTask_AndRunAfterARestart()
    {
        harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        await client.SubmitJournaledAsync(Code(1, "one"), Same(2, 1), Same(3, 2), Code(4, "four"), Same(5, 4));

        harness.NewFarm(new TaskFarmOptions()).Restore();
        var engine = harness.AddEngine();

        Assert.Equal(["one", "one", "one", "four", "four"], await engine.RunTasksAsync(5));
    }
}
