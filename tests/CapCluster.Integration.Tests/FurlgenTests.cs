using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// furlgen against real controllers and engines: attenuated capabilities for collaborators, their quota and
/// method limits, revocation within a second, rotation, expiry, and the audit log.
/// </summary>
public sealed class FurlgenTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly ClusterDirectory cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task Collaborator_AttenuatedTaskCap_RunsTasks_HitsItsQuota_IsRevokedWithinASecond_AndIsAudited()
    {
        await cluster.StartControllerAsync();
        cluster.Start("capengine");
        var alicePath = Path.Combine(cluster.BaseFolder, "alice.cap");

        var attenuate = await Furlgen("attenuate", cluster.CapFile(CapabilityInterfaces.Task), "--label", "alice", "--expires", "1h", "--max-tasks", "100", "-o", alicePath);

        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(alicePath));
        var alice = CapabilityFile.Read(alicePath);
        var owner = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.Task));
        Assert.Equal(owner.Url.Locations, alice.Url.Locations);
        var record = CapabilityRegistry.LoadOrCreate(cluster.Paths().SecurityFolder).Find(alice.CapabilityId)!;
        Assert.Equal(owner.CapabilityId, record.ParentId);
        Assert.Equal(100, record.MaxTasks);
        Assert.InRange(record.Expires!.Value, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));

        await using var tasks = await TaskClient.ConnectAsync(alicePath).WaitAsync(Timeout);
        var batch = Enumerable.Range(0, 100)
            .Select(i => (TaskDefinition)new CodeTask("var y = x * 2;") { Push = new Dictionary<string, object?> { ["x"] = i }, Pull = ["y"] })
            .ToList();
        var ids = await tasks.RunAsync(batch).WaitAsync(Timeout);
        var results = await tasks.BarrierAsync(ids).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 2), results.Select(r => r.Get<int>("y")));
        Assert.Equal(84, (await tasks.GetResultAsync(ids[42]).WaitAsync(Timeout)).Get<int>("y"));

        var quota = await Assert.ThrowsAsync<TaskRefusedException>(() => tasks.RunAsync(new CodeTask("1")).WaitAsync(Timeout));
        Assert.Contains($"capability {alice.CapabilityId} allows at most 100 tasks", quota.Message);

        // Alice's file cannot drive engines: the gate refuses it on MultiEngine, saying why.
        var denied = await Assert.ThrowsAsync<RpcException>(() => CallWith(alice, CapClusterMethods.GetIds, new GetIdsRequest()));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("task capability", denied.Status.Detail);

        var online = await Furlgen("verify", alicePath, "--online");
        Assert.True(online.ExitCode == 0, online.ToString());
        Assert.Contains("accepted by the controller", online.Output);
        Assert.Contains("label alice", online.Output);

        // Her open task stream: its results feed ends when the controller closes her connection.
        var feed = Task.Run(async () =>
        {
            await foreach (var _ in tasks.ResultsAsync())
            {
            }
        });

        var revoke = await Furlgen("revoke", alicePath);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        var clock = Stopwatch.StartNew();
        CapabilityRefusedException? refused = null;
        while (refused is null && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            try
            {
                await tasks.QueueStatusAsync().WaitAsync(Timeout);
            }
            catch (CapabilityRefusedException e)
            {
                refused = e;
            }
            catch (ControllerUnreachableException)
            {
                // The call that was in flight when the controller closed her connection.
            }
        }

        var elapsed = clock.Elapsed;
        Assert.NotNull(refused);
        Assert.True(elapsed < TimeSpan.FromSeconds(1.5), $"refused only after {elapsed}");
        Assert.Contains($"capability {alice.CapabilityId} was revoked", refused.Reason);
        await Assert.ThrowsAnyAsync<CapClusterException>(() => feed.WaitAsync(TimeSpan.FromSeconds(1.5)));

        var offline = await Furlgen("verify", alicePath, "--online");
        Assert.Equal(1, offline.ExitCode);
        Assert.Contains("was revoked", offline.Output);

        var json = await Furlgen("audit", "--label", "alice", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var records = json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(AuditLog.ParseLine).ToList();
        Assert.All(records, r => Assert.Equal("alice", r.Label));
        Assert.Contains(records, r => r.Outcome == AuditRecord.Accepted && r.Service == CapClusterMethods.TaskFarmService);
        Assert.Contains(records, r => r.Outcome == AuditRecord.Refused && r.Service == CapClusterMethods.MultiEngineService);
        Assert.Contains(records, r => r.Outcome == AuditRecord.Refused && r.Reason!.Contains("was revoked", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == AuditRecord.Closed);

        var table = await Furlgen("audit", "--label", "alice");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains($"{records.Count} record(s)", table.Output);
        Assert.Contains(table.Output.Split('\n'), l => l.Contains("alice", StringComparison.Ordinal) && l.Contains("accepted", StringComparison.Ordinal));
        Assert.Contains(table.Output.Split('\n'), l => l.Contains("alice", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));

        var list = await Furlgen("list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var aliceRow = list.Output.Split('\n').Single(l => l.Contains(alice.CapabilityId, StringComparison.Ordinal));
        Assert.Contains("alice", aliceRow);
        Assert.Contains(owner.CapabilityId, aliceRow);
        Assert.Contains(DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), aliceRow);
    }

    [RootFact]
    public async Task Revoked_WhileItsRunAsyncAwaitsTheAcknowledgement_TheHolderIsToldItWasRevoked_NotThatTheTaskWasLost()
    {
        // The controller acknowledges a submission once its task journal holds it: with the journal's disk frozen, her
        // submission waits unacknowledged while her capability is revoked.
        await using var disk = await FreezableDisk.MountAsync(Path.Combine(cluster.BaseFolder, "journal-disk"), 32);
        await cluster.StartControllerAsync("--journal-folder", Path.Combine(disk.Folder, "tasks"));
        var alicePath = Path.Combine(cluster.BaseFolder, "alice.cap");
        Assert.Equal(0, (await Furlgen("attenuate", cluster.CapFile(CapabilityInterfaces.Task), "--label", "alice", "-o", alicePath)).ExitCode);
        var alice = CapabilityFile.Read(alicePath);
        await using var owner = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        await using var tasks = await TaskClient.ConnectAsync(alicePath).WaitAsync(Timeout);
        // Her task stream is open; no engine runs her tasks, so they stay queued.
        var earlier = await tasks.RunAsync(new CodeTask("var x = 1;")).WaitAsync(Timeout);
        var waiting = tasks.GetResultAsync(earlier, timeout: Timeout);

        await disk.FreezeAsync();
        try
        {
            var pending = tasks.RunAsync(new CodeTask("var y = 2;"));
            using var admitted = new CancellationTokenSource(Timeout);
            while ((await owner.QueueStatusAsync().WaitAsync(Timeout)).Cluster!.Queued < 2)
            {
                await Task.Delay(20, admitted.Token); // until the controller holds it, queued
            }

            Assert.False(pending.IsCompleted, "the submission was acknowledged while the journal's disk was frozen");
            Assert.Equal(0, (await Furlgen("revoke", alicePath)).ExitCode);

            var refused = await Assert.ThrowsAsync<CapabilityRefusedException>(() => pending.WaitAsync(Timeout));
            Assert.Contains($"capability {alice.CapabilityId} was revoked", refused.Reason, StringComparison.Ordinal);
            Assert.Contains($"the controller refused {alicePath}: capability {alice.CapabilityId} was revoked", refused.Message, StringComparison.Ordinal);
            Assert.Contains("not acknowledged", refused.Message, StringComparison.Ordinal);
            var stillWaiting = await Assert.ThrowsAsync<CapabilityRefusedException>(() => waiting.WaitAsync(Timeout));
            Assert.Contains($"capability {alice.CapabilityId} was revoked", stillWaiting.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await disk.ThawAsync();
        }

        var audit = await Furlgen("audit", "--label", "alice", "--json");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var records = audit.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(AuditLog.ParseLine).ToList();
        Assert.Contains(records, r => r.Outcome == AuditRecord.Closed);
        Assert.Contains(records, r => r.Outcome == AuditRecord.Refused && r.Reason!.Contains("was revoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_OneCapabilitysUrlWithAnothersCertificate_IsRefusedNamingBoth_AndListInAPipe_IsPlainAndSaysNeverUsed()
    {
        cluster.Environment["TERM"] = "xterm-256color";
        await cluster.StartControllerAsync();
        var alicePath = Path.Combine(cluster.BaseFolder, "alice.cap");
        var bobPath = Path.Combine(cluster.BaseFolder, "bob.cap");
        foreach (var (who, path) in new[] { ("alice", alicePath), ("bob", bobPath) })
        {
            var attenuate = await Furlgen("attenuate", cluster.CapFile(CapabilityInterfaces.Task), "--label", who, "-o", path);
            Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        }

        var alice = CapabilityFile.Read(alicePath);
        var bob = CapabilityFile.Read(bobPath);
        var joinedPath = Path.Combine(cluster.BaseFolder, "joined.cap");
        new CapabilityFile(alice.Url, bob.HolderCertificate, bob.CaCertificate).Write(joinedPath);

        var joined = await Furlgen("verify", joinedPath);
        Assert.True(joined.ExitCode == 1, joined.ToString());
        Assert.Contains($"the URL is capability {alice.CapabilityId} (alice)'s but the holder certificate is {bob.CapabilityId} (bob)'s", joined.Output);
        var own = await Furlgen("verify", alicePath);
        Assert.True(own.ExitCode == 0 && own.Output.Contains(": OK - ", StringComparison.Ordinal), own.ToString());

        Assert.Equal(0, (await Furlgen("revoke", bobPath)).ExitCode);
        var list = await Furlgen("list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain('\u001b', list.Output);
        var aliceCells = list.Output.Split('\n').Single(l => l.Contains(alice.CapabilityId, StringComparison.Ordinal))
            .Split('│', '|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("never", aliceCells[^1]);
        var audit = await Furlgen("audit");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        Assert.DoesNotContain('\u001b', audit.Output);
    }

    [Fact]
    public async Task Attenuate_WiderThanTheParent_IsRefusedSayingWhatIsWider_AndRevokingTheParentRevokesTheChild()
    {
        var paths = cluster.Paths();
        paths.EnsureCreated();
        var parentPath = Path.Combine(cluster.BaseFolder, "parent.cap");
        string parentId;
        using (var authority = CertificateAuthority.LoadOrCreate(paths.SecurityFolder))
        {
            var registry = CapabilityRegistry.LoadOrCreate(paths.SecurityFolder);
            var parent = registry.Issue(authority, CapabilityInterfaces.Task, [new CapabilityLocation("127.0.0.1", 1)], "team",
                allowedMethods: ["Tasks", "GetResults", "QueueStatus"], maxTasks: 100);
            parent.File.Write(parentPath);
            parentId = parent.Record.Id;
        }

        var child = Path.Combine(cluster.BaseFolder, "child.cap");
        var quota = await Furlgen("attenuate", parentPath, "--label", "bob", "--max-tasks", "200", "-o", child);
        Assert.NotEqual(0, quota.ExitCode);
        Assert.Contains($"a derived capability cannot have a task quota above {parentId}'s 100", quota.Error);

        var methods = await Furlgen("attenuate", parentPath, "--label", "bob", "--methods", "Tasks,Abort", "-o", child);
        Assert.NotEqual(0, methods.ExitCode);
        Assert.Contains($"capability {parentId} does not allow method Abort", methods.Error);

        var unknown = await Furlgen("attenuate", parentPath, "--label", "bob", "--methods", "Execute", "-o", child);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("task has no method Execute", unknown.Error);
        foreach (var farAhead in new[] { "99999999d", "9999-12-31" })
        {
            var tooLong = await Furlgen("attenuate", parentPath, "--label", "bob", "--expires", farAhead, "-o", child);
            Assert.Equal(2, tooLong.ExitCode);
            Assert.Equal($"furlgen attenuate: --expires {farAhead} is too far ahead: a capability lasts at most 100 years", tooLong.Error.Trim());
        }
        Assert.False(File.Exists(child));

        var narrower = await Furlgen("attenuate", parentPath, "--label", "bob", "--methods", "Tasks,GetResults", "--max-tasks", "10", "-o", child);
        Assert.True(narrower.ExitCode == 0, narrower.ToString());
        var childId = CapabilityFile.Read(child).CapabilityId;

        var revoke = await Furlgen("revoke", parentId);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Contains($"revoked {childId}", revoke.Output);
        var after = CapabilityRegistry.LoadOrCreate(paths.SecurityFolder);
        Assert.True(after.Find(childId)!.Revoked);
        Assert.Equal(parentId, after.Find(childId)!.ParentId);
    }

    [Fact]
    public async Task ReadOnlyMultiEngineCap_PullsKeysAndIds_ButExecuteAndPushAreRefused()
    {
        await cluster.StartControllerAsync();
        cluster.Start("capengine");
        await using var owner = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(owner, 1, Timeout);
        await owner.ExecuteAsync("var answer = 42;").GetAsync(Timeout);
        var readerPath = Path.Combine(cluster.BaseFolder, "reader.cap");

        var attenuate = await Furlgen("attenuate", cluster.CapFile(CapabilityInterfaces.MultiEngine), "--label", "reader",
            "--methods", "GetIds,Pull,Keys,QueueStatus", "-o", readerPath);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());

        await using var reader = await MultiEngineClient.ConnectAsync(readerPath).WaitAsync(Timeout);
        Assert.Equal([0], await reader.GetIdsAsync().WaitAsync(Timeout));
        Assert.Equal([42], await reader.PullAsync<int>("answer").GetAsync(Timeout));
        Assert.Contains("answer", (await reader.KeysAsync().GetAsync(Timeout))[0]);
        Assert.Single(await reader.QueueStatusAsync().WaitAsync(Timeout));

        var execute = await Assert.ThrowsAsync<CapabilityRefusedException>(() => reader.ExecuteAsync("answer = 0;").GetAsync(Timeout));
        Assert.Contains($"does not allow Execute", execute.Message);
        Assert.Contains("(label reader)", execute.Message);
        Assert.Equal(CapCluster.Protocol.V1.RefusalKind.NotAllowed, execute.Kind);
        var push = await Assert.ThrowsAsync<CapabilityRefusedException>(() => reader.PushAsync("answer", new byte[100_000]).GetAsync(Timeout));
        Assert.Contains("does not allow Push", push.Message);
        var kill = await Assert.ThrowsAsync<CapabilityRefusedException>(() => reader.KillAsync().WaitAsync(Timeout));
        Assert.Contains("does not allow method Kill", kill.Reason);
        Assert.Equal(CapCluster.Protocol.V1.RefusalKind.NotAllowed, kill.Kind);

        // The session survives refused operations, and nothing changed on the engine.
        Assert.Equal([42], await reader.PullAsync<int>("answer").GetAsync(Timeout));
        var audit = AuditLog.ReadAll(cluster.Paths().AuditLogFile);
        Assert.Contains(audit, r => r.Label == "reader" && r.Outcome == AuditRecord.Refused && r.Method == "Execute");
        Assert.Contains(audit, r => r.Label == "reader" && r.Outcome == AuditRecord.Refused && r.Method == "Push");
    }

    [Fact]
    public async Task ExpiredCapability_IsRefusedSayingItExpiredAndWhen()
    {
        var paths = cluster.Paths();
        paths.EnsureCreated();
        var expiredPath = Path.Combine(cluster.BaseFolder, "expired.cap");
        var expires = DateTimeOffset.UtcNow.AddMinutes(-2);
        using (var authority = CertificateAuthority.LoadOrCreate(paths.SecurityFolder))
        {
            var registry = CapabilityRegistry.LoadOrCreate(paths.SecurityFolder);
            var issued = registry.Issue(authority, CapabilityInterfaces.Task, [new CapabilityLocation("127.0.0.1", 1)], "late", expires);
            issued.File.Write(expiredPath);
        }

        await cluster.StartControllerAsync();
        var state = ControllerState.TryRead(paths.SecurityFolder)!;
        var file = CapabilityFile.Read(expiredPath).WithLocations([new CapabilityLocation("127.0.0.1", state.ClientPort)]);
        file.Write(expiredPath);

        var error = await Assert.ThrowsAsync<CapabilityRefusedException>(() => TaskClient.ConnectAsync(expiredPath).WaitAsync(Timeout));

        Assert.Contains("expired at " + expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture), error.Reason);
        Assert.Equal(CapCluster.Protocol.V1.RefusalKind.Certificate, error.Kind); // its holder certificate expires with it
        Assert.Contains(AuditLog.ReadAll(paths.AuditLogFile), r => r.Label is null or "late" && r.Outcome == AuditRecord.Refused && r.Reason!.Contains("expired at", StringComparison.Ordinal));
        var verify = await Furlgen("verify", expiredPath, "--online");
        Assert.Equal(1, verify.ExitCode);
    }

    [Fact]
    public async Task AuditVerify_FindsAnEditedRecordAndADeletedRecord_AtThatLine()
    {
        var path = cluster.Paths().AuditLogFile;
        cluster.Paths().EnsureCreated();
        using (var log = AuditLog.Open(path, cluster.Paths().SecurityFolder))
        {
            for (var i = 1; i <= 5; i++)
            {
                log.Append(new AuditRecord(DateTimeOffset.UtcNow, "ipv4:127.0.0." + i + ":5000", null, "cap_aaaaaaaaaaaaaaaa", "alice",
                    CapClusterMethods.TaskFarmService, "Tasks", i == 4 ? AuditRecord.Refused : AuditRecord.Accepted, i == 4 ? "revoked" : null));
            }
        }

        var intact = await Furlgen("audit", "--verify");
        Assert.True(intact.ExitCode == 0, intact.ToString());
        Assert.Contains("intact: 5 record(s)", intact.Output);
        var original = await File.ReadAllLinesAsync(path);

        var edited = original.ToArray();
        edited[2] = edited[2].Replace("alice", "mallory", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(path, edited);
        var afterEdit = await Furlgen("audit", "--verify");
        Assert.Equal(1, afterEdit.ExitCode);
        Assert.Contains("DAMAGED: line 3", afterEdit.Output);

        await File.WriteAllLinesAsync(path, original.Where((_, i) => i != 3));
        var afterDelete = await Furlgen("audit", "--verify");
        Assert.Equal(1, afterDelete.ExitCode);
        Assert.Contains("REORDERED: line 4", afterDelete.Output);
        Assert.Contains("deleted", afterDelete.Output);

        await File.WriteAllLinesAsync(path, original);
        var denied = await Furlgen("audit", "--denied", "--json");
        Assert.Single(denied.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task AuditFollow_PrintsEachRecordAsItIsAppended_WithControlCharactersEscaped()
    {
        var path = cluster.Paths().AuditLogFile;
        cluster.Paths().EnsureCreated();
        using var log = AuditLog.Open(path, cluster.Paths().SecurityFolder);
        log.Append(new AuditRecord(DateTimeOffset.UtcNow, "ipv4:10.0.0.1:1", null, "cap_aaaaaaaaaaaaaaaa", "alice", CapClusterMethods.TaskFarmService, "Tasks", AuditRecord.Accepted, null));
        var follow = cluster.Start("furlgen", "audit", "--follow", "--label", "alice");
        await follow.WaitForLineAsync("10.0.0.1", Timeout);

        log.Append(new AuditRecord(DateTimeOffset.UtcNow, "ipv4:10.0.0.2:2", null, "cap_bbbbbbbbbbbbbbbb", "bob", CapClusterMethods.TaskFarmService, "Tasks", AuditRecord.Accepted, null));
        log.Append(new AuditRecord(DateTimeOffset.UtcNow, "ipv4:10.0.0.3:3", null, "cap_aaaaaaaaaaaaaaaa", "alice", CapClusterMethods.TaskFarmService, "Tasks\u001b[2J", AuditRecord.Refused, "was revoked\u001b]0;pwned\u0007"));
        var line = await follow.WaitForLineAsync("10.0.0.3", Timeout);

        Assert.Contains("refused", line);
        Assert.Contains("was revoked\\u001b]0;pwned\\u0007", line);
        // A line written by something other than the controller may carry raw control characters: printed escaped too.
        var forged = File.ReadLines(path).Last().Replace("\"ipv4:10.0.0.3:3\"", "\"ipv4:10.0.0.4\\u001b[2J:4\"", StringComparison.Ordinal);
        await File.AppendAllTextAsync(path, forged + "\n");
        var forgedLine = await follow.WaitForLineAsync("10.0.0.4", Timeout);
        Assert.Contains("10.0.0.4\\u001b[2J:4", forgedLine);
        Assert.DoesNotContain('\u001b', follow.Output);
        Assert.DoesNotContain('\u0007', follow.Output);
        var table = await Furlgen("audit");
        Assert.Contains("10.0.0.4\\u001b[2J:4", table.Output);
        Assert.DoesNotContain('\u001b', table.Output);
        Assert.DoesNotContain("10.0.0.2", follow.Output);
        Assert.False(follow.Process.HasExited);
    }

    [Fact]
    public async Task Audit_OnASealedLog_FollowsAcrossSeals_ListsAndVerifiesEverySegment_AndAControllerContinuesIt()
    {
        var path = cluster.Paths().AuditLogFile;
        cluster.Paths().EnsureCreated();
        var options = new AuditLogOptions { SegmentBytes = 1500, AggregationInterval = TimeSpan.Zero };
        AuditRecord Record(int i) => new(DateTimeOffset.UtcNow, $"ipv4:10.0.{i / 250}.{i % 250}:1", null, "cap_aaaaaaaaaaaaaaaa", "alice",
            CapClusterMethods.TaskFarmService, "Tasks", AuditRecord.Accepted, $"record {i}.");
        using (var log = AuditLog.Open(path, cluster.Paths().SecurityFolder, options: options))
        {
            log.Append(Record(1));
            var follow = cluster.Start("furlgen", "audit", "--follow", "--json");
            await follow.WaitForLineAsync("record 1.", Timeout);
            for (var i = 2; i <= 40; i++)
            {
                log.Append(Record(i));
                if (i % 7 == 0)
                {
                    await follow.WaitForLineAsync($"record {i}.", Timeout);
                }
            }

            await follow.WaitForLineAsync("record 40.", Timeout);
            var followed = follow.Output.Split('\n').Where(l => l.Contains("\"seq\"", StringComparison.Ordinal)).Select(l => (long)JsonNode.Parse(l)!["seq"]!);
            Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), followed);
        }

        Assert.True(Directory.GetFiles(cluster.Paths().LogFolder, "audit.0*.jsonl").Length >= 5);
        var json = await Furlgen("audit", "--json");
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (long)JsonNode.Parse(l)!["seq"]!));
        var verify = await Furlgen("audit", "--verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("intact: 40 record(s)", verify.Output);

        // A controller on this log continues its chain from the live file, and seals as it was told.
        await cluster.StartControllerAsync("--audit-segment-bytes", "1500", "--audit-interval", "0");
        await using (var owner = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            for (var i = 0; i < 5; i++)
            {
                await owner.GetIdsAsync().WaitAsync(Timeout);
            }
        }

        var stop = await cluster.RunAsync("capcluster", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        var after = await Furlgen("audit", "--verify");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.DoesNotContain(AuditLog.ReadAll(path), r => r.Outcome == AuditRecord.Notice);
        Assert.True(AuditLog.ReadAll(path).Count > 40);
    }

    [Fact]
    public async Task RotateEngine_AnEngineWithTheNewFileRegisters_OneWithTheOldFileIsRefused()
    {
        await cluster.StartControllerAsync();
        await using var owner = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        var enginePath = cluster.CapFile(CapabilityInterfaces.Engine);
        var oldPath = Path.Combine(cluster.BaseFolder, "old-engine.cap");
        File.Copy(enginePath, oldPath);
        var oldId = CapabilityFile.Read(oldPath).CapabilityId;

        var rotate = await Furlgen("rotate", "engine");

        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        var newId = CapabilityFile.Read(enginePath).CapabilityId;
        Assert.NotEqual(oldId, newId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(enginePath));
        cluster.Start("capengine", "--cap-file", enginePath);
        await ClusterDirectory.WaitForEnginesAsync(owner, 1, Timeout);

        var old = cluster.Start("capengine", "--cap-file", oldPath);
        var line = await old.WaitForLineAsync("revoked", Timeout);
        Assert.Contains(oldId, line);
        Assert.True(old.Process.WaitForExit(Timeout), "the engine with the revoked file kept running");
        Assert.NotEqual(0, old.Process.ExitCode);
        Assert.Single(await owner.GetIdsAsync().WaitAsync(Timeout));
    }

    private Task<ProcessResult> Furlgen(params string[] arguments) => cluster.RunAsync("furlgen", arguments);

    private async Task<TResponse> CallWith<TRequest, TResponse>(CapabilityFile file, Method<TRequest, TResponse> method, TRequest request)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new()
    {
        var location = file.Url.Locations[0];
        using var channel = new GrpcChannel(
            [new DnsEndPoint(location.Host, location.Port)],
            new GrpcChannelOptions
            {
                ClientCertificate = file.HolderCertificate,
                ValidateServerCertificate = ControllerCertificateValidator.For(file.CaCertificate),
                DefaultHeaders = [CapabilityMetadata.For(file.Url.Secret)],
            });
        return await channel.UnaryAsync(method, request, new CallOptions(deadline: DateTime.UtcNow.Add(Timeout)));
    }
}
