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
            log.FlushRefusals();
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

    [Fact]
    public void Refusals_ForAnotherReasonOrPeer_AreCountedApart_AndAcceptedRecordsAreNeverAggregated()
    {
        using (var log = AuditLog.Open(LogPath, Security))
        {
            for (var i = 0; i < 3; i++)
            {
                log.Append(Refusal("ipv4:10.0.0.1:1"));
                log.Append(Refusal("ipv4:10.0.0.1:2", "the capability secret does not match"));
                log.Append(Refusal("ipv6:[::1]:3"));
                log.Append(Refusal("ipv4:10.0.0.1:4") with { Outcome = AuditRecord.Accepted, Reason = null });
            }

            log.FlushRefusals();
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(3 + 3 + 3, records.Count);
        Assert.Equal(3, records.Count(r => r.Outcome == AuditRecord.Accepted));
        Assert.Equal([2, 2, 2], records.Where(r => r.Count > 1).Select(r => r.Count));
    }

    [Fact]
    public void RefusalsFromMorePeersThanTheKeyLimit_ShareOneOverflowRecord()
    {
        using (var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { MaxRefusalKeys = 10 }))
        {
            for (var peer = 0; peer < 500; peer++)
                log.Append(Refusal($"ipv4:10.0.{peer / 250}.{peer % 250}:999"));
            log.FlushRefusals();
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
        using var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { RefusalInterval = TimeSpan.FromMilliseconds(200) });
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
        using (var log = AuditLog.Open(LogPath, Security, options: new AuditLogOptions { RefusalInterval = TimeSpan.Zero }))
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
        Assert.Equal(expected, RefusalAggregator.PeerAddress(peer));

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
