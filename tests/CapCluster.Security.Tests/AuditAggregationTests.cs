using CapCluster.Security.Internal;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class AuditAggregationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string LogPath => _folder.File(Path.Combine("log", "audit.jsonl"));

    private string Security => _folder.File("security");

    private static AuditRecord Refusal(string peer, string reason = "no client certificate was presented") =>
        new(DateTimeOffset.UtcNow, peer, null, null, null, "capcluster.v1.MultiEngine", "GetIds", AuditRecord.Refused, reason);

    [Fact]
    public void ThousandRefusalsFromOnePeer_AreOneRecordAtOnceAndOneWithTheCountAtTheIntervalsEnd()
    {
        using (var log = AuditLog.Open(LogPath, Security))
        {
            for (var port = 1; port <= 1000; port++)
                log.Append(Refusal($"ipv4:10.1.2.3:{30000 + port}"));
            Assert.Equal(1, log.LastSeq);
            log.FlushAggregated();
            Assert.Equal(2, log.LastSeq);
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(2, records.Count);
        Assert.Equal(1, records[0].Count);
        Assert.Equal(999, records[1].Count);
        Assert.Equal("ipv4:10.1.2.3", records[1].RemoteAddress);
        Assert.Contains("999 refusals more from ipv4:10.1.2.3", records[1].Reason, StringComparison.Ordinal);
        Assert.True(AuditLog.Verify(LogPath, Security).IsIntact);
    }

    private static AuditRecord Accepted(string peer, string capability, string? reason = null) =>
        new(DateTimeOffset.UtcNow, peer, new string('a', 64) + capability, capability, "alice", "capcluster.v1.MultiEngine", "GetIds", AuditRecord.Accepted, reason);

    [Fact]
    public void Refusals_ForAnotherReasonOrPeer_AreCountedApart()
    {
        using (var log = AuditLog.Open(LogPath, Security))
        {
            for (var i = 0; i < 3; i++)
            {
                log.Append(Refusal("ipv4:10.0.0.1:1"));
                log.Append(Refusal("ipv4:10.0.0.1:2", "the capability secret does not match"));
                log.Append(Refusal("ipv6:[::1]:3"));
            }

            log.FlushAggregated();
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(3 + 3, records.Count);
        Assert.Equal([2, 2, 2], records.Where(r => r.Count > 1).Select(r => r.Count));
    }

    [Fact]
    public void AHolderReconnectingInALoop_WritesOneRecordAtOnceAndOneWithTheCount_AndAnotherHolderIsCountedApart()
    {
        using (var log = AuditLog.Open(LogPath, Security))
        {
            for (var port = 1; port <= 1000; port++)
                log.Append(Accepted($"ipv4:10.0.0.1:{port}", "cap_alice"));
            log.Append(Accepted("ipv4:10.0.0.1:5", "cap_bob"));
            log.Append(Accepted("ipv4:10.0.0.1:6", "cap_alice", "privileged call"));
            log.Append(Accepted("ipv4:10.0.0.1:7", "cap_alice", "privileged call"));
            // What an operator does is never aggregated.
            log.Append(new AuditRecord(DateTimeOffset.UtcNow, "controller pid 1", null, "cap_carol", null, AuditRecord.ControllerService, "issue", AuditRecord.Accepted, "new task capability"));
            log.Append(new AuditRecord(DateTimeOffset.UtcNow, "local uid 0 pid 2", null, "cap_carol", null, AuditRecord.AdminService, "revoke", AuditRecord.Accepted, "revoked"));
            Assert.Equal(5, log.LastSeq);
            log.FlushAggregated();
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(7, records.Count);
        Assert.Equal(["cap_alice", "cap_bob", "cap_alice", "cap_carol", "cap_carol"], records.Take(5).Select(r => r.CapabilityId));
        var counted = records.Skip(5).OrderByDescending(r => r.Count).ToList();
        Assert.Equal((999L, "cap_alice", "ipv4:10.0.0.1", AuditRecord.Accepted), (counted[0].Count, counted[0].CapabilityId, counted[0].RemoteAddress, counted[0].Outcome));
        Assert.Equal("accepted 999 times more from ipv4:10.0.0.1 within 10 s", counted[0].Reason);
        Assert.Equal((1L, "privileged call; accepted once more from ipv4:10.0.0.1 within 10 s"), (counted[1].Count, counted[1].Reason));
        Assert.Equal(1000 + 1 + 2, records.Where(r => r.Service == "capcluster.v1.MultiEngine").Sum(r => r.Count));
        Assert.True(AuditLog.Verify(LogPath, Security).IsIntact);
    }

    [Fact]
    public void RefusalsFromManyAddresses_TakeNoHoldersKeys_AndHoldersBeyondTheirKeysAreCountedEachApart()
    {
        using (var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { MaxAggregationKeys = 4 }))
        {
            for (var peer = 0; peer < 50; peer++)
                log.Append(Refusal($"ipv4:10.9.0.{peer}:1"));
            // A stranger's flood took every refusal key: a holder's first call is still written at once.
            log.Append(Accepted("ipv4:10.0.0.1:1", "cap_carol"));
            Assert.Equal(4 + 1, log.LastSeq);
            for (var peer = 0; peer < 20; peer++)
            {
                log.Append(Accepted($"ipv4:10.1.0.{peer}:1", "cap_alice"));
                log.Append(Accepted($"ipv4:10.2.0.{peer}:1", "cap_bob"));
            }

            log.FlushAggregated();
        }

        var spilled = AuditLog.ReadAll(LogPath).Where(r => r.RemoteAddress is null).ToList();
        Assert.Equal(46, Assert.Single(spilled, r => r.Outcome == AuditRecord.Refused).Count);
        var alice = Assert.Single(spilled, r => r.CapabilityId == "cap_alice");
        var bob = Assert.Single(spilled, r => r.CapabilityId == "cap_bob");
        // carol, alice and bob opened the four accepted keys, and alice's and bob's first calls past them were written
        // at once; the rest of each holder's calls are counted under its own name.
        Assert.Equal(40 - 3 - 2, alice.Count + bob.Count);
        Assert.Equal(4 + 1 + 3 + 2 + 3, AuditLog.ReadAll(LogPath).Count);
        Assert.Contains("of this capability from addresses beyond the 4 tracked", alice.Reason, StringComparison.Ordinal);
        Assert.Equal(new string('a', 64) + "cap_bob", bob.CertificateFingerprint);
    }

    [Fact]
    public void AnAcceptedCall_WhileTheLogTakesNoRecords_IsNeverOnlyCounted_ItFailsUntilTheLogTakesOneAgain()
    {
        using (var log = AuditLog.Open(LogPath, Security))
        {
            log.Append(Accepted("ipv4:10.0.0.1:1", "cap_alice"));
            Directory.Move(Security, Security + ".away");
            File.WriteAllText(Security, "not a folder");

            // The key is open, but the log no longer takes records: each call is written itself, and fails.
            Assert.Throws<AuditWriteException>(() => log.Append(Accepted("ipv4:10.0.0.1:2", "cap_bob")));
            Assert.Throws<AuditWriteException>(() => log.Append(Accepted("ipv4:10.0.0.1:3", "cap_alice")));
            Assert.Throws<AuditWriteException>(() => log.Append(Accepted("ipv4:10.0.0.1:4", "cap_alice")));
            File.Delete(Security);
            Directory.Move(Security + ".away", Security);

            // The first that is written again opens the way; those after it are counted as before.
            log.Append(Accepted("ipv4:10.0.0.1:5", "cap_bob"));
            log.Append(Accepted("ipv4:10.0.0.1:6", "cap_bob"));
            log.Append(Accepted("ipv4:10.0.0.1:7", "cap_alice"));
            Assert.Equal(2, log.LastSeq);
            log.FlushAggregated();
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(["cap_alice", "cap_bob"], records.Take(2).Select(r => r.CapabilityId));
        Assert.Equal([("cap_alice", 1L), ("cap_bob", 1L)], records.Skip(2).Select(r => (r.CapabilityId!, r.Count)).Order());
        Assert.True(AuditLog.Verify(LogPath, Security).IsIntact);
    }

    [Fact]
    public void RefusalsFromMorePeersThanTheKeyLimit_ShareOneOverflowRecord()
    {
        using (var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { MaxAggregationKeys = 10 }))
        {
            for (var peer = 0; peer < 500; peer++)
                log.Append(Refusal($"ipv4:10.0.{peer / 250}.{peer % 250}:999"));
            log.FlushAggregated();
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(11, records.Count);
        Assert.Equal(490, records[^1].Count);
        Assert.Null(records[^1].RemoteAddress);
        Assert.Contains("beyond the 10 peer and reason pairs", records[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheIntervalsEnd_WritesTheCountWithoutBeingAsked()
    {
        using var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { AggregationInterval = TimeSpan.FromMilliseconds(200) });
        for (var i = 0; i < 5; i++)
            log.Append(Refusal("ipv4:10.9.9.9:" + i));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (log.LastSeq < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(20);

        Assert.Equal(2, log.LastSeq);
        Assert.Equal(4, AuditLog.ReadAll(LogPath)[1].Count);
    }

    [Fact]
    public void ZeroInterval_WritesEveryRefusal()
    {
        using (var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { AggregationInterval = TimeSpan.Zero }))
        {
            for (var i = 0; i < 5; i++)
                log.Append(Refusal("ipv4:10.0.0.1:1"));
        }

        Assert.Equal(5, AuditLog.ReadAll(LogPath).Count);
    }

    [Theory]
    [InlineData("ipv4:127.0.0.1:5000", "ipv4:127.0.0.1")]
    [InlineData("ipv6:[::1]:5000", "ipv6:[::1]")]
    [InlineData("127.0.0.1:5000", "127.0.0.1")]
    [InlineData("[fe80::1]:22", "[fe80::1]")]
    [InlineData("fe80::1", "fe80::1")]
    [InlineData("local pid 12 uid 1000", "local pid 12 uid 1000")]
    [InlineData(null, "unknown")]
    public void PeerAddress_DropsOnlyThePort(string? peer, string expected) =>
        Assert.Equal(expected, AuditAggregator.PeerAddress(peer));

    [Fact]
    public void SubmitAdmin_WithoutAWriter_AppendsAtOnceNamingTheUid()
    {
        var written = AuditLog.SubmitAdmin(LogPath, Security, "revoke", AuditRecord.Accepted, "cap_x", "alice", "revoked cap_x");

        Assert.True(written);
        var record = Assert.Single(AuditLog.ReadAll(LogPath));
        Assert.Equal((AuditRecord.AdminService, "revoke", "cap_x"), (record.Service, record.Method, record.CapabilityId));
        Assert.Matches(@"^local uid \d+ pid \d+$", record.RemoteAddress);
        Assert.Empty(Directory.GetFiles(Path.Combine(Security, AuditLog.PendingFolderName)));
    }

    [Fact]
    public void SubmitAdmin_WhileTheControllerWrites_WaitsUntilTheWriterFoldsItIn()
    {
        using var log = AuditLog.Open(LogPath, Security);
        log.Append(Refusal("ipv4:10.0.0.1:1") with { Outcome = AuditRecord.Accepted });

        var written = AuditLog.SubmitAdmin(LogPath, Security, "rotate", AuditRecord.Accepted, "cap_y", null, "rotated task");

        Assert.False(written);
        Assert.Single(AuditLog.ReadAll(LogPath));
        Assert.Equal(1, log.FoldPending());
        Assert.Equal("rotate", AuditLog.ReadAll(LogPath)[1].Method);
        Assert.Equal(0, log.FoldPending());
        Assert.True(AuditLog.Verify(LogPath, Security).IsIntact);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("\u001b[2J", "\\u001b[2J")]
    [InlineData("a\nb\rc\td", "a\\u000ab\\u000dc\\u0009d")]
    [InlineData("evil\u202etxt", "evil\\u202etxt")]
    [InlineData("ok \ud83d\ude00", "ok \ud83d\ude00")]
    public void Clean_EscapesControlAndReorderingCharacters(string text, string expected) =>
        Assert.Equal(expected, AuditText.Clean(text));

    [Fact]
    public void Clean_EscapesALoneSurrogate() =>
        Assert.Equal("lone \\ud83d.", AuditText.Clean("lone " + (char)0xd83d + "."));
}
