using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using CapCluster.Tests.Shared;

namespace CapCluster.Integration.Tests;

/// <summary>
/// The audit log of a real controller: what <c>furlgen audit --verify</c> finds after the log was cut, rewritten
/// without the key or swapped for an older copy; one writer per log folder; calls failing with UNAVAILABLE while the
/// log folder (a tiny tmpfs) is full, and a chain that verifies once space returns; refusals and a holder's reconnections aggregated.
/// </summary>
public sealed class AuditTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly ClusterDirectory cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task Verify_OnARealControllersLog_ReportsACutTail_AChainRewrittenWithSha256_AndAnOlderCopy_AndTheControllerSetsSuchALogAside()
    {
        await cluster.StartControllerAsync();
        var paths = cluster.Paths();
        var path = paths.AuditLogFile;
        var owner = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        await CallWith(owner, CapClusterMethods.Ping, new PingRequest());
        var older = Path.Combine(cluster.BaseFolder, "older.jsonl");
        File.Copy(path, older);

        // A privileged call is audited every time, not only as its connection's first.
        using (var channel = Channel(owner))
        {
            for (var i = 0; i < 3; i++)
            {
                await channel.UnaryAsync(CapClusterMethods.ClearQueue, new ClearQueueRequest(), Options());
            }
        }

        // An admin action by furlgen reaches the running controller's log, naming the uid.
        var attenuate = await Furlgen("attenuate", cluster.CapFile(CapabilityInterfaces.Task), "--label", "bob", "-o", Path.Combine(cluster.BaseFolder, "bob.cap"));
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        await DataPortProbe.WaitUntilAsync(() => AuditLog.ReadAll(path).Any(r => r.Service == AuditRecord.AdminService && r.Method == "attenuate"), Timeout);
        var bob = CapabilityFile.Read(Path.Combine(cluster.BaseFolder, "bob.cap")).CapabilityId;
        var revoke = await Furlgen("revoke", bob);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        await DataPortProbe.WaitUntilAsync(() => AuditLog.ReadAll(path).Any(r => r.Method == "revoke" && r.CapabilityId == bob), Timeout);
        await Stop();

        var records = AuditLog.ReadAll(path);
        Assert.Equal(3, records.Where(r => r.Method == "ClearQueue" && r.Outcome == AuditRecord.Accepted).Sum(r => r.Count));
        Assert.Equal(CapabilityInterfaces.All.Count, records.Count(r => r.Service == "capcontroller" && r.Method == "issue"));
        var admin = Assert.Single(records, r => r.Method == "attenuate");
        Assert.Equal("bob", admin.Label);
        Assert.Matches(@"^local uid \d+ pid \d+$", admin.RemoteAddress);
        var intact = await Furlgen("audit", "--verify");
        Assert.True(intact.ExitCode == 0, intact.ToString());
        Assert.Contains("intact", intact.Output);
        var original = await File.ReadAllLinesAsync(path);

        await File.WriteAllLinesAsync(path, original[..^1]);
        var cut = await Furlgen("audit", "--verify");
        Assert.Equal(1, cut.ExitCode);
        Assert.Contains($"CUT: the log ends at seq {original.Length - 1}", cut.Output);

        await File.WriteAllLinesAsync(path, AuditForgery.RewriteWithSha256(original, drop: 1));
        var rewritten = await Furlgen("audit", "--verify");
        Assert.Equal(1, rewritten.ExitCode);
        Assert.Contains("REWRITTEN: line 1", rewritten.Output);
        Assert.Contains("without the audit key", rewritten.Output);

        await File.WriteAllLinesAsync(path, original);
        Assert.Equal(0, (await Furlgen("audit", "--verify")).ExitCode);
        File.Move(older, path, overwrite: true);
        var replaced = await Furlgen("audit", "--verify");
        Assert.Equal(1, replaced.ExitCode);
        Assert.Contains("REPLACED", replaced.Output);

        // Started on the swapped file, the controller does not continue it: aside, with a notice, a new chain.
        await cluster.StartControllerAsync();
        await CallWith(CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine)), CapClusterMethods.Ping, new PingRequest());
        await Stop();
        var aside = Assert.Single(Directory.GetFiles(paths.LogFolder, "audit.*.rejected.jsonl"));
        var fresh = AuditLog.ReadAll(path);
        Assert.Equal(AuditRecord.Notice, fresh[0].Outcome);
        Assert.Contains("REPLACED", fresh[0].Reason);
        Assert.Contains(aside, fresh[0].Reason);
        Assert.Equal(0, (await Furlgen("audit", "--verify")).ExitCode);
    }

    [Fact]
    public async Task SecondController_OnTheSameLogFolder_IsRefusedAtStartNamingTheFirstsPid()
    {
        await cluster.StartControllerAsync();
        var first = ControllerState.TryRead(cluster.Paths().SecurityFolder)!.Pid;

        var second = await cluster.RunAsync("capcontroller", "--security-folder", Path.Combine(cluster.BaseFolder, "other-security"),
            "--log-folder", cluster.Paths().LogFolder);

        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains($"pid {first}", second.Output + second.Error);
        Assert.Contains("audit log", second.Output + second.Error);
        Assert.DoesNotContain("   at ", second.Output + second.Error);
    }

    [RootFact]
    public async Task FullLogFolder_FailsCallsWithFailedPreconditionNamingTheAuditLog_AndAfterSpaceReturnsTheChainVerifies()
    {
        var disk = await cluster.MountTinyDiskAsync("tiny-log", "2m");
        var logFolder = disk.Folder;
        // Every call below is a new connection of one holder from one address: after the first, each is counted until the
        // interval ends, and the record with their count is the write that finds the disk full.
        await cluster.StartControllerAsync("--log-folder", logFolder, "--audit-interval", "0.5");
        var owner = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        await CallWith(owner, CapClusterMethods.Ping, new PingRequest());
        var logPath = Path.Combine(logFolder, "audit.jsonl");

        disk.Fill();
        // tmpfs hands out whole pages: the log's last page may still hold a few records.
        RpcException? refused = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && refused is null)
        {
            var count = AuditLog.ReadAll(logPath).Count;
            try
            {
                await CallWith(owner, CapClusterMethods.Ping, new PingRequest());
            }
            catch (RpcException e)
            {
                refused = e;
                // The refused call left no record of itself. (The aggregation timer may have written a count meanwhile: a
                // small record can fit in the page's last bytes where the call's did not, as a fresh-clone CI once saw.)
                Assert.DoesNotContain(AuditLog.ReadAll(logPath).Skip(count),
                    r => r.Outcome == AuditRecord.Accepted && r.Reason?.Contains(" more from ", StringComparison.Ordinal) != true);
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"audit log not writable: {logPath}", refused.Status.Detail);
        using (var channel = Channel(owner))
        {
            var privileged = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(CapClusterMethods.ClearQueue, new ClearQueueRequest(), Options()));
            Assert.Equal(StatusCode.FailedPrecondition, privileged.StatusCode);
        }

        // A client is told at once what the controller cannot do, not that it cannot reach it (nor after two minutes of trying).
        var told = await Assert.ThrowsAsync<ControllerCallException>(() => MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("is running but cannot serve this call until something on its host is mended", told.Message, StringComparison.Ordinal);
        Assert.Contains($"audit log not writable: {logPath}", told.Message, StringComparison.Ordinal);

        var before = AuditLog.ReadAll(logPath).Count;
        disk.Free();
        await CallWith(owner, CapClusterMethods.Ping, new PingRequest());
        await Stop();

        var result = AuditLog.Verify(logPath, cluster.Paths().SecurityFolder);
        Assert.True(result.IsIntact, result.Message);
        Assert.True(result.RecordCount > before, result.Message);
        var seqs = File.ReadAllLines(logPath).Select(l => (long)JsonNode.Parse(l)!["seq"]!).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
    }

    [Fact]
    public async Task ThousandRefusedConnections_GiveAFewAggregatedRecordsCountingThemAll()
    {
        await cluster.StartControllerAsync("--audit-interval", "2");
        var owner = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        var location = owner.Url.Locations[0];
        var path = cluster.Paths().AuditLogFile;
        using var throttle = new SemaphoreSlim(16);
        var clock = Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ =>
        {
            await throttle.WaitAsync();
            try
            {
                return await Attempt(owner, location.Host, location.Port);
            }
            finally
            {
                throttle.Release();
            }
        })).WaitAsync(TimeSpan.FromMinutes(5));
        Assert.All(outcomes, refusedAtGate => Assert.True(refusedAtGate));

        long Counted() => AuditLog.ReadAll(path).Where(r => r.Outcome == AuditRecord.Refused).Sum(r => r.Count);
        await DataPortProbe.WaitUntilAsync(() => Counted() == 1000, Timeout);
        var refusals = AuditLog.ReadAll(path).Where(r => r.Outcome == AuditRecord.Refused).ToList();
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.True(refusals.Count <= 2 + (2 * ((int)(seconds / 2) + 1)), $"{refusals.Count} records for 1000 refusals in {seconds:0.0} s");
        Assert.Contains(refusals, r => r.Count > 1 && r.RemoteAddress == "ipv4:127.0.0.1");
        Assert.True(AuditLog.Verify(path, cluster.Paths().SecurityFolder).IsIntact);
    }

    [Fact]
    public async Task AHolderReconnectingInALoop_WritesAFewRecordsCountingEveryConnection_AndAnotherHoldersFirstCallIsWrittenAtOnce()
    {
        // An interval longer than the loop, so that the counts are written when the controller stops.
        await cluster.StartControllerAsync("--audit-interval", "300");
        var owner = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        var other = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.Task));
        var path = cluster.Paths().AuditLogFile;
        for (var i = 0; i < 100; i++)
        {
            await CallWith(owner, CapClusterMethods.Ping, new PingRequest());
        }

        List<AuditRecord> Of(CapabilityFile file) =>
            [.. AuditLog.ReadAll(path).Where(r => r.CapabilityId == file.CapabilityId && r.Service != AuditRecord.ControllerService)];
        Assert.Single(Of(owner));
        await CallWith(other, CapClusterMethods.TaskFarmCheck, new CheckRequest());
        Assert.Single(Of(other));
        await Stop();

        // capcluster stop connects with multiengine.cap too.
        var counted = Of(owner).Where(r => r.Method == "Ping").ToList();
        Assert.Equal(100, counted.Sum(r => r.Count));
        Assert.Equal(2, counted.Count);
        Assert.Equal("accepted 99 times more from ipv4:127.0.0.1 within 300 s", counted[1].Reason);
        Assert.True(AuditLog.Verify(path, cluster.Paths().SecurityFolder).IsIntact);
    }

    private static async Task<bool> Attempt(CapabilityFile owner, string host, int port)
    {
        // No client certificate: refused at the gate, audited.
        using var channel = new GrpcChannel(
            [new DnsEndPoint(host, port)],
            new GrpcChannelOptions { ValidateServerCertificate = ControllerCertificateValidator.For(owner.CaCertificate) });
        try
        {
            await channel.UnaryAsync(CapClusterMethods.GetIds, new GetIdsRequest(), Options());
            return false;
        }
        catch (RpcException e)
        {
            return e.StatusCode == StatusCode.Unauthenticated;
        }
    }

    private async Task Stop()
    {
        var stop = await cluster.RunAsync("capcluster", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    private static CallOptions Options() => new(deadline: DateTime.UtcNow.Add(Timeout));

    private static GrpcChannel Channel(CapabilityFile file) => new(
        [new DnsEndPoint(file.Url.Locations[0].Host, file.Url.Locations[0].Port)],
        new GrpcChannelOptions
        {
            ClientCertificate = file.HolderCertificate,
            ValidateServerCertificate = ControllerCertificateValidator.For(file.CaCertificate),
            DefaultHeaders = [CapabilityMetadata.For(file.Url.Secret)],
        });

    private static async Task<TResponse> CallWith<TRequest, TResponse>(CapabilityFile file, Method<TRequest, TResponse> method, TRequest request)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new()
    {
        using var channel = Channel(file);
        return await channel.UnaryAsync(method, request, Options());
    }

    private Task<ProcessResult> Furlgen(params string[] arguments) => cluster.RunAsync("furlgen", arguments);
}
