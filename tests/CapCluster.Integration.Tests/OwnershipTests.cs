using System.Globalization;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Tasks belong to the capability that submitted them: a collaborator sees her own tasks and nothing of the owner's,
/// the owner sees hers, ids are never reused across a restart, and a family's task quota holds across one.
/// </summary>
public sealed class OwnershipTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly ClusterDirectory cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task Collaborator_SeesOnlyHerTasks_TheOwnerSeesHers_ForeignIdsAreNotFoundAndAudited_AndNoIdIsReusedAfterARestart()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        cluster.Start("capengine");
        var ownerCap = cluster.CapFile(CapabilityInterfaces.Task);
        var alicePath = await AttenuateAsync(ownerCap, "alice");
        var owner = await TaskClient.ConnectAsync(ownerCap).WaitAsync(Timeout);
        var alice = await TaskClient.ConnectAsync(alicePath).WaitAsync(Timeout);

        var ownersTask = await owner.RunAsync(new CodeTask("var secret = 41;") { Pull = ["secret"] }).WaitAsync(Timeout);
        Assert.Equal(41, (await owner.GetResultAsync(ownersTask).WaitAsync(Timeout)).Get<int>("secret"));
        var alicesTask = await alice.RunAsync(new CodeTask("var mine = 7;") { Pull = ["mine"] }).WaitAsync(Timeout);
        Assert.Equal(7, (await alice.GetResultAsync(alicesTask).WaitAsync(Timeout)).Get<int>("mine"));
        var ownersSlow = await owner.RunAsync(new CodeTask("System.Threading.Thread.Sleep(20000);")).WaitAsync(Timeout);

        // Alice learns nothing of the owner's tasks: each answer is the one for an id that never existed.
        var neverIssued = ownersSlow + 1_000_000;
        var unknown = Masked(await NotFoundAsync(() => alice.GetResultAsync(neverIssued, block: false)), neverIssued);
        Assert.Equal(unknown, Masked(await NotFoundAsync(() => alice.GetResultAsync(ownersTask, block: false)), ownersTask));
        Assert.Equal(unknown, Masked(await NotFoundAsync(() => alice.GetResultAsync(ownersSlow)), ownersSlow));
        await NotFoundAsync(() => alice.AbortAsync(ownersSlow));
        await NotFoundAsync(() => alice.ClearAsync([ownersTask]));
        var dependent = await Assert.ThrowsAsync<TaskRefusedException>(() => alice.RunAsync(new CodeTask("1") { After = [ownersTask] }).WaitAsync(Timeout));
        Assert.Contains($"task {ownersTask} is not one of this capability's tasks", dependent.Message);

        // Her queue status counts her tasks only; the cluster's totals are the owner's to see.
        var hers = await alice.QueueStatusAsync().WaitAsync(Timeout);
        Assert.Equal((1, 0, 0L), (hers.Succeeded, hers.Failed, hers.Running));
        Assert.Null(hers.Cluster);
        var theirs = await owner.QueueStatusAsync().WaitAsync(Timeout);
        Assert.Equal(2, theirs.Succeeded);
        Assert.Equal(2, theirs.Cluster!.Succeeded);
        Assert.Equal(1, theirs.Cluster.Queued + theirs.Cluster.Running);

        // The owner sees Alice's task; Alice's Clear() forgets her results, never the owner's.
        Assert.Equal(7, (await owner.GetResultAsync(alicesTask).WaitAsync(Timeout)).Get<int>("mine"));
        Assert.Equal(1, await alice.ClearAsync().WaitAsync(Timeout));
        Assert.Equal(41, (await owner.GetResultAsync(ownersTask).WaitAsync(Timeout)).Get<int>("secret"));
        Assert.True(await owner.AbortAsync(ownersSlow).WaitAsync(Timeout));

        var audit = await cluster.RunAsync("furlgen", "audit", "--label", "alice", "--json");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var refusals = audit.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(AuditLog.ParseLine)
            .Where(r => r.Outcome == AuditRecord.Refused && r.Service == CapClusterMethods.TaskFarmService).ToList();
        var ownerId = CapabilityFile.Read(ownerCap).CapabilityId;
        Assert.Contains(refusals, r => r.Method == "GetResults" && r.Reason == $"task {ownersTask} refused to capability {CapabilityFile.Read(alicePath).CapabilityId}: it belongs to capability {ownerId}");
        Assert.Contains(refusals, r => r.Method == "Abort" && r.Reason!.Contains($"task {ownersSlow} refused", StringComparison.Ordinal));
        Assert.Contains(refusals, r => r.Method == "GetResults" && r.Reason!.EndsWith("no such id was issued", StringComparison.Ordinal));

        // After a restart on the same folder, old ids name the same tasks (the journal kept them), cleared ones stay
        // gone, and new ids come after every old one.
        await alice.DisposeAsync();
        await owner.DisposeAsync();
        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cluster.Paths().SecurityFolder, TaskLedger.FileName)));
        await cluster.StartControllerAsync(ports);
        await using var again = await TaskClient.ConnectAsync(ownerCap).WaitAsync(Timeout);
        var fresh = await again.RunAsync(new CodeTask("var n = 1;") { Pull = ["n"] }).WaitAsync(Timeout);
        Assert.True(fresh > ownersSlow, $"new id {fresh} is not after the old ones (up to {ownersSlow})");
        Assert.Equal(41, (await again.GetResultAsync(ownersTask).WaitAsync(Timeout)).Get<int>("secret"));
        Assert.Equal(CapCluster.Client.TaskStatus.Aborted, (await again.GetResultAsync(ownersSlow).WaitAsync(Timeout)).Status);
        await NotFoundAsync(() => again.GetResultAsync(alicesTask, block: false));

        Assert.Equal(1, (await again.GetResultAsync(fresh).WaitAsync(Timeout)).Get<int>("n"));
    }

    [Fact]
    public async Task ChildOfAHundredTaskCapability_CannotRunTheFamilysTask101_EvenAfterARestart()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        var teamPath = await AttenuateAsync(cluster.CapFile(CapabilityInterfaces.Task), "team", "--max-tasks", "100");
        var bobPath = await AttenuateAsync(teamPath, "bob");
        var teamId = CapabilityFile.Read(teamPath).CapabilityId;

        await using (var bob = await TaskClient.ConnectAsync(bobPath).WaitAsync(Timeout))
        await using (var team = await TaskClient.ConnectAsync(teamPath).WaitAsync(Timeout))
        {
            await bob.BarrierAsync(await bob.RunAsync([.. Enumerable.Range(0, 60).Select(_ => (TaskDefinition)new CodeTask("1"))]).WaitAsync(Timeout)).WaitAsync(Timeout);
            await team.BarrierAsync(await team.RunAsync([.. Enumerable.Range(0, 40).Select(_ => (TaskDefinition)new CodeTask("1"))]).WaitAsync(Timeout)).WaitAsync(Timeout);
            var over = await Assert.ThrowsAsync<TaskRefusedException>(() => bob.RunAsync(new CodeTask("1")).WaitAsync(Timeout));
            Assert.Contains($"capability {teamId} allows at most 100 tasks for itself and the capabilities derived from it", over.Message);
        }

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        await cluster.StartControllerAsync(ports);
        await using var bobAgain = await TaskClient.ConnectAsync(bobPath).WaitAsync(Timeout);
        await using var teamAgain = await TaskClient.ConnectAsync(teamPath).WaitAsync(Timeout);
        await Assert.ThrowsAsync<TaskRefusedException>(() => bobAgain.RunAsync(new CodeTask("1")).WaitAsync(Timeout));
        var teamOver = await Assert.ThrowsAsync<TaskRefusedException>(() => teamAgain.RunAsync(new CodeTask("1")).WaitAsync(Timeout));
        Assert.Contains($"capability {teamId} allows at most 100 tasks, and they are used up", teamOver.Message);
    }

    [Fact]
    public async Task ACollaboratorWithEnginesOfHerOwn_RunsOnlyThere_AndNobodyElsesTasksOrDataReachThem()
    {
        await cluster.StartControllerAsync();
        cluster.Start("capengine");
        var ownerCap = cluster.CapFile(CapabilityInterfaces.Task);
        var alicePath = await AttenuateAsync(ownerCap, "alice", "--own-engines");
        var aliceId = CapabilityFile.Read(alicePath).CapabilityId;
        var enginesPath = await AttenuateAsync(cluster.CapFile(CapabilityInterfaces.Engine), "alice-engines", "--serves", alicePath);
        cluster.Start("capengine", "--cap-file", enginesPath);
        var misplaced = await cluster.RunAsync("furlgen", "attenuate", cluster.CapFile(CapabilityInterfaces.Engine), "--label", "x", "--own-engines", "-o", Path.Combine(cluster.BaseFolder, "x.cap"));
        Assert.NotEqual(0, misplaced.ExitCode);
        Assert.Contains("only a task capability can have engines of its own, and this one grants engine", misplaced.Error);

        await using var mec = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        IReadOnlyList<EngineStatus> engines = [];
        while (engines.Count < 2)
        {
            engines = await mec.GetEnginesAsync().WaitAsync(Timeout);
        }

        var hers = Assert.Single(engines, e => e.Serves == aliceId).Id;
        var shared = Assert.Single(engines, e => e.Serves is null).Id;

        // MultiEngine calls reach the shared engine only: "all" leaves hers out, and naming hers is refused and audited.
        Assert.Equal([shared], await mec.GetIdsAsync().WaitAsync(Timeout));
        await mec.PushAsync("secret", 42).GetAsync(Timeout);
        var named = await Assert.ThrowsAsync<CapabilityRefusedException>(() => mec.ExecuteAsync("1", [hers]).GetAsync(Timeout));
        Assert.Contains($"engine {hers} runs only the tasks of capability {aliceId}", named.Message);
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile), r => r.Outcome == AuditRecord.Refused && r.Method == "Execute" && r.Reason!.StartsWith($"engine {hers} runs only", StringComparison.Ordinal));

        // Her tasks run on her engine, where the owner's pushed secret is not; the owner's run on the shared one.
        await using var alice = await TaskClient.ConnectAsync(alicePath).WaitAsync(Timeout);
        await using var owner = await TaskClient.ConnectAsync(ownerCap).WaitAsync(Timeout);
        var herIds = await alice.RunAsync([.. Enumerable.Range(0, 6).Select(_ => (TaskDefinition)new CodeTask("var n = 1;"))]).WaitAsync(Timeout);
        var ownerIds = await owner.RunAsync([.. Enumerable.Range(0, 6).Select(_ => (TaskDefinition)new CodeTask("var seen = secret;") { Pull = ["seen"] })]).WaitAsync(Timeout);
        Assert.All(await alice.BarrierAsync(herIds).WaitAsync(Timeout), r => Assert.Equal(hers, r.EngineId));
        Assert.All(await owner.BarrierAsync(ownerIds).WaitAsync(Timeout), r => Assert.Equal((shared, 42), (r.EngineId, r.Get<int>("seen"))));
        var looking = await alice.GetResultAsync(await alice.RunAsync(new CodeTask("var seen = secret;")).WaitAsync(Timeout)).WaitAsync(Timeout);
        Assert.Equal(CapCluster.Client.TaskStatus.Failed, looking.Status);
        Assert.Equal(hers, looking.EngineId);
    }

    [Fact]
    public async Task AnImageSentUnderAHashItDoesNotHaveTo_IsRefusedAndAudited_AndNeverReachesAnEngine()
    {
        await cluster.StartControllerAsync();
        var capFile = cluster.CapFile(CapabilityInterfaces.Task);
        using var connection = ControllerConnection.Open(capFile, CapabilityInterfaces.Task);
        using var call = connection.Channel.DuplexStreaming(CapClusterMethods.Tasks, new CallOptions());
        var claimed = new string('a', 64);
        var function = new Protocol.V1.DelegateCall { DeclaringType = "Evil.T", MethodToken = 0x06000001, IsStatic = true };
        function.Assemblies.Add(new Protocol.V1.AssemblyRef { Hash = claimed, Name = "AliceLib", Image = Google.Protobuf.ByteString.CopyFrom(new byte[] { 1, 2, 3 }) });
        var submit = new Protocol.V1.SubmitTasks();
        submit.Tasks.Add(new Protocol.V1.SubmitTask { ClientRef = 1, Spec = new Protocol.V1.TaskSpec { Function = new Protocol.V1.ApplyRequest { Function = function } } });

        await call.RequestStream.WriteAsync(new Protocol.V1.TaskClientMessage { Submit = submit }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var accepted = Assert.Single(call.ResponseStream.Current.Accepted.Tasks);

        Assert.Equal(0, accepted.TaskId);
        Assert.StartsWith("the image sent as assembly AliceLib hashes to ", accepted.Refused, StringComparison.Ordinal);
        Assert.EndsWith($"not to the {claimed} it claims", accepted.Refused, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile), r => r.Outcome == AuditRecord.Refused && r.Reason!.Contains("hashes to", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AssembliesListedUnderAClosureIdTheyDoNotHashTo_AreRefusedAndAudited_AndTheIdStaysUnknown()
    {
        await cluster.StartControllerAsync();
        byte[] bytes = [4, 5, 6];
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var claimed = new string('b', 64);
        var listed = Function(claimed);
        listed.Assemblies.Add(new Protocol.V1.AssemblyRef { Hash = hash, Name = "BobLib", Image = Google.Protobuf.ByteString.CopyFrom(bytes) });

        var answers = await SubmitRawAsync(listed, Function(claimed));

        Assert.Equal($"the assemblies listed for closure {claimed} hash to closure {AssemblyClosure.Id([hash])}, not to it", answers[0].Refused);
        // Refused, the list did not make the id name Bob's assembly for whoever names it next.
        Assert.StartsWith($"the function names assembly closure {claimed}, which this controller was never sent", answers[1].Refused, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile), r => r.Outcome == AuditRecord.Refused && r.Reason!.Contains("not to it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AClosureOrAnImageTheControllerWasNeverSent_OrAMalformedId_IsRefusedSayingWhich()
    {
        await cluster.StartControllerAsync();
        var unknown = new string('d', 64);
        var unshipped = new string('e', 64);
        var hashOnly = Function("");
        hashOnly.Assemblies.Add(new Protocol.V1.AssemblyRef { Hash = unshipped, Name = "NeverSent" });

        var answers = await SubmitRawAsync(Function(unknown), hashOnly, Function("0123"), Function(""));

        Assert.All(answers, a => Assert.Equal(0, a.TaskId));
        Assert.Equal($"the function names assembly closure {unknown}, which this controller was never sent: a task stream lists a closure's assemblies with the first task that names it", answers[0].Refused);
        Assert.Equal($"assembly NeverSent ({unshipped}) of closure {AssemblyClosure.Id([unshipped])} was never sent to this controller: its image comes with the first task on a stream that needs it", answers[1].Refused);
        Assert.Equal("'0123' is not an assembly closure id (64 hex digits)", answers[2].Refused);
        Assert.Equal("the function names no assemblies: list them, or name their closure", answers[3].Refused);
    }

    private static Protocol.V1.DelegateCall Function(string closure) =>
        new() { Closure = closure, DeclaringType = "Evil.T", MethodToken = 0x06000001, IsStatic = true };

    /// <summary>Submits one task per function, in one message on a raw task stream, and returns the answers in order.</summary>
    private async Task<IReadOnlyList<Protocol.V1.TaskAccepted>> SubmitRawAsync(params Protocol.V1.DelegateCall[] functions)
    {
        using var connection = ControllerConnection.Open(cluster.CapFile(CapabilityInterfaces.Task), CapabilityInterfaces.Task);
        using var call = connection.Channel.DuplexStreaming(CapClusterMethods.Tasks, new CallOptions());
        var submit = new Protocol.V1.SubmitTasks();
        submit.Tasks.AddRange(functions.Select((f, i) => new Protocol.V1.SubmitTask { ClientRef = i + 1, Spec = new Protocol.V1.TaskSpec { Function = new Protocol.V1.ApplyRequest { Function = f } } }));

        await call.RequestStream.WriteAsync(new Protocol.V1.TaskClientMessage { Submit = submit }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        return [.. call.ResponseStream.Current.Accepted.Tasks.OrderBy(a => a.ClientRef)];
    }

    [Fact]
    public async Task ACollaboratorPastHerQueuedBytes_IsRefusedAndAudited_TheOwnerIsNot_AndHerBytesComeBackOnceTheyRan()
    {
        await cluster.StartControllerAsync("--max-queued-bytes", "300000");
        var alicePath = await AttenuateAsync(cluster.CapFile(CapabilityInterfaces.Task), "alice");
        var value = new byte[200_000];
        TaskDefinition Large() => new CodeTask("var n = x.Length;") { Push = new Dictionary<string, object?> { ["x"] = value }, Pull = ["n"] };

        // No engine yet: her first task waits; a second would take her past 300,000 bytes of unfinished tasks.
        await using var alice = await TaskClient.ConnectAsync(alicePath).WaitAsync(Timeout);
        await using var owner = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        var first = await alice.RunAsync(Large()).WaitAsync(Timeout);
        var refused = await Assert.ThrowsAsync<TaskRefusedException>(() => alice.RunAsync(Large()).WaitAsync(Timeout));
        Assert.Contains("--max-queued-bytes", refused.Message, StringComparison.Ordinal);
        var mine = await owner.RunAsync(Large()).WaitAsync(Timeout);
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile),
            r => r.Label == "alice" && r.Outcome == AuditRecord.Refused && r.Reason is { } reason && reason.Contains("--max-queued-bytes", StringComparison.Ordinal));

        cluster.Start("capengine");
        Assert.Equal(200_000, (await alice.GetResultAsync(first).WaitAsync(Timeout)).Get<int>("n"));
        Assert.Equal(200_000, (await owner.GetResultAsync(mine).WaitAsync(Timeout)).Get<int>("n"));
        var again = await alice.RunAsync(Large()).WaitAsync(Timeout);
        Assert.Equal(200_000, (await alice.GetResultAsync(again).WaitAsync(Timeout)).Get<int>("n"));
    }

    private async Task<string> AttenuateAsync(string parent, string label, params string[] more)
    {
        var path = Path.Combine(cluster.BaseFolder, label + ".cap");
        var made = await cluster.RunAsync("furlgen", ["attenuate", parent, "--label", label, "-o", path, .. more]);
        Assert.True(made.ExitCode == 0, made.ToString());
        return path;
    }

    private static string Masked(string message, long id) =>
        message.Replace($"task {id.ToString(CultureInfo.InvariantCulture)} ", "task N ", StringComparison.Ordinal);

    private static async Task<string> NotFoundAsync(Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<ControllerCallException>(() => call().WaitAsync(Timeout));
        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        return refused.Message;
    }
}
