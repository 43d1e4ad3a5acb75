using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CapCluster.Security.Tests.Infrastructure;
using CapCluster.Tests.Shared;

namespace CapCluster.Security.Tests;

public sealed class AuditLogTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string LogPath => _folder.File(Path.Combine("log", "audit.jsonl"));

    private string Security => _folder.File("security");

    internal static AuditRecord Record(int i, string outcome = AuditRecord.Accepted) => new(
        new DateTimeOffset(2026, 3, 1, 12, 0, i % 60, TimeSpan.Zero), "10.0.0." + i, new string('f', 64), "cap_" + i,
        i % 2 == 0 ? "label \"quoted\" ünïcode" : null, "capcluster.v1.TaskFarm", "Submit", outcome,
        outcome == AuditRecord.Refused ? "the capability secret does not match " + i : null);

    private AuditLog Open(AuditLogOptions? options = null) => AuditLog.Open(LogPath, Security, options: options);

    private void WriteRecords(int count)
    {
        using var log = Open();
        for (var i = 1; i <= count; i++)
            log.Append(Record(i, i % 3 == 0 ? AuditRecord.Refused : AuditRecord.Accepted));
    }

    private string[] Lines() => File.ReadAllLines(LogPath);

    private AuditVerification Verify() => AuditLog.Verify(LogPath, Security);

    [Fact]
    public void Append_ThenReadAll_ReturnsRecordsInOrder_LogKeyAndAnchorAreOwnerOnly()
    {
        WriteRecords(5);

        var records = AuditLog.ReadAll(LogPath);

        Assert.Equal(Enumerable.Range(1, 5).Select(i => Record(i, i % 3 == 0 ? AuditRecord.Refused : AuditRecord.Accepted)), records);
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(LogPath, FileModes.OwnerReadWrite));
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(AuditKey.PathIn(Security), FileModes.OwnerReadWrite));
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(AuditAnchor.PathIn(Security), FileModes.OwnerReadWrite));
    }

    [Fact]
    public void Append_WritesSeqPrevAndAMacKeyedWithTheSecurityFoldersKey_AndMovesTheAnchor()
    {
        WriteRecords(2);
        var lines = Lines();
        Assert.Equal(2, lines.Length);

        var first = JsonNode.Parse(lines[0])!.AsObject();
        var second = JsonNode.Parse(lines[1])!.AsObject();
        Assert.Equal(1, (long)first["seq"]!);
        Assert.Equal(new string('0', 64), (string?)first["prev"]);
        Assert.Equal(2, (long)second["seq"]!);
        Assert.Equal((string?)first["mac"], (string?)second["prev"]);

        var key = Convert.FromHexString(File.ReadAllText(AuditKey.PathIn(Security)).Trim());
        var mac = (string)second["mac"]!;
        second.Remove("prev");
        second.Remove("mac");
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes((string)first["mac"]! + second.ToJsonString())));
        Assert.Equal(expected, mac);

        var anchor = AuditAnchor.TryRead(Security)!;
        Assert.Equal(2, anchor.Seq);
        Assert.Equal(mac, anchor.Mac);
        Assert.Equal(Path.GetFullPath(LogPath), anchor.LogPath);
    }

    [Fact]
    public void Verify_UntouchedLog_IsIntact()
    {
        WriteRecords(6);
        var result = Verify();
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(AuditFinding.Intact, result.Finding);
        Assert.Equal(6, result.RecordCount);
        Assert.Null(result.FirstBadLine);
    }

    [Fact]
    public void Verify_EditedRecord_IsDamagedAtThatLine()
    {
        WriteRecords(5);
        var lines = Lines();
        lines[2] = lines[2].Replace("\"refused\"", "\"accepted\"", StringComparison.Ordinal);
        File.WriteAllLines(LogPath, lines);

        var result = Verify();

        Assert.Equal(AuditFinding.Damaged, result.Finding);
        Assert.Equal(3, result.FirstBadLine);
        Assert.Equal(2, result.RecordCount);
        Assert.StartsWith("DAMAGED: line 3", result.Message, StringComparison.Ordinal);
        Assert.Contains("edited", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ChainRecomputedWithPlainSha256_IsRewrittenAtLineOne()
    {
        WriteRecords(4);
        File.WriteAllLines(LogPath, AuditForgery.RewriteWithSha256(Lines(), drop: 2));

        var result = Verify();

        Assert.Equal(AuditFinding.Rewritten, result.Finding);
        Assert.Equal(1, result.FirstBadLine);
        Assert.Contains("without the audit key", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ChainWrittenWithAnotherKey_IsDamagedAtLineOne()
    {
        WriteRecords(3);
        File.Move(AuditKey.PathIn(Security), AuditKey.PathIn(Security) + ".old");
        AuditKey.LoadOrCreate(Security);

        var result = Verify();

        Assert.Equal(AuditFinding.Damaged, result.Finding);
        Assert.Equal(1, result.FirstBadLine);
    }

    [Fact]
    public void Verify_DeletedRecord_IsReorderedAtTheGap()
    {
        WriteRecords(5);
        var lines = Lines().ToList();
        lines.RemoveAt(1);
        File.WriteAllLines(LogPath, lines);

        var result = Verify();

        Assert.Equal(AuditFinding.Reordered, result.Finding);
        Assert.Equal(2, result.FirstBadLine);
        Assert.Contains("seq 3 where seq 2 belongs", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RepeatedAndSwappedRecords_AreReordered()
    {
        WriteRecords(5);
        var lines = Lines();
        File.WriteAllLines(LogPath, [.. lines[..3], lines[2], .. lines[3..]]);
        var repeated = Verify();
        (lines[3], lines[2]) = (lines[2], lines[3]);
        File.WriteAllLines(LogPath, lines);
        var swapped = Verify();

        Assert.Equal((AuditFinding.Reordered, 4), (repeated.Finding, repeated.FirstBadLine));
        Assert.Equal((AuditFinding.Reordered, 3), (swapped.Finding, swapped.FirstBadLine));
    }

    [Fact]
    public void Verify_LastLineCut_IsCutNamingTheSeqs()
    {
        WriteRecords(5);
        File.WriteAllLines(LogPath, Lines()[..4]);

        var result = Verify();

        Assert.Equal(AuditFinding.Cut, result.Finding);
        Assert.Contains("ends at seq 4", result.Message, StringComparison.Ordinal);
        Assert.Contains("up to seq 5", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_FileReplacedByAnOlderCopy_IsReplaced()
    {
        WriteRecords(3);
        File.Copy(LogPath, _folder.File("older.jsonl"));
        using (var log = Open())
            log.Append(Record(4));
        File.Move(_folder.File("older.jsonl"), LogPath, overwrite: true);

        var result = Verify();

        Assert.Equal(AuditFinding.Replaced, result.Finding);
        Assert.Contains("not the file the controller wrote", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AnotherChainUnderTheSameKeyCopiedInPlace_IsReplacedAtTheAnchoredSeq()
    {
        WriteRecords(4);
        var other = _folder.File("other-security");
        Directory.CreateDirectory(other);
        File.Copy(AuditKey.PathIn(Security), AuditKey.PathIn(other));
        var otherLog = _folder.File(Path.Combine("other-log", "audit.jsonl"));
        using (var log = AuditLog.Open(otherLog, other))
        {
            for (var i = 11; i <= 15; i++)
                log.Append(Record(i));
        }

        File.WriteAllBytes(LogPath, File.ReadAllBytes(otherLog));

        var result = Verify();

        Assert.Equal((AuditFinding.Replaced, 4), (result.Finding, result.FirstBadLine));
        Assert.Contains("not the record the controller wrote with that seq", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AFileTheAnchorDoesNotName_ChecksTheKeyedChainAndSaysWhatItCannotCheck()
    {
        WriteRecords(3);
        var copy = _folder.File("copy.jsonl");
        File.Copy(LogPath, copy);

        var result = AuditLog.Verify(copy, Security);

        Assert.True(result.IsIntact, result.Message);
        Assert.Contains("no anchor names this file", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WithoutTheKey_SaysNoKey()
    {
        WriteRecords(2);
        File.Delete(AuditKey.PathIn(Security));

        var result = Verify();

        Assert.Equal(AuditFinding.NoKey, result.Finding);
        Assert.StartsWith("NO KEY", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IncompleteOrGarbageLastLine_IsDamaged()
    {
        WriteRecords(2);
        File.AppendAllText(LogPath, "{\"seq\": 3");

        var result = Verify();

        Assert.Equal((AuditFinding.Damaged, 3), (result.Finding, result.FirstBadLine));
        Assert.Contains("incomplete", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ALineLongerThanAnyRecord_IsDamagedWithoutReadingItWhole()
    {
        WriteRecords(2);
        File.AppendAllText(LogPath, new string('x', 1 << 20) + "\n");

        var result = Verify();

        Assert.Equal((AuditFinding.Damaged, 3), (result.Finding, result.FirstBadLine));
        Assert.Contains("longer than any record", result.Message, StringComparison.Ordinal);
        Assert.Equal(2, result.LastSeq);
    }

    [Fact]
    public void Open_ExistingLog_ContinuesTheChain()
    {
        WriteRecords(3);
        using (var reopened = Open())
        {
            Assert.Equal(3, reopened.LastSeq);
            reopened.Append(Record(4));
        }

        var result = Verify();
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(4, result.RecordCount);
    }

    [Fact]
    public void Open_LogThatDoesNotVerify_IsMovedAsideAndTheNewChainStartsWithANotice()
    {
        WriteRecords(3);
        File.WriteAllLines(LogPath, Lines()[..2]);

        using (var log = Open())
        {
            Assert.Equal(1, log.LastSeq);
        }

        var rejected = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(LogPath)!, "audit.*.rejected.jsonl"));
        Assert.Equal(2, File.ReadAllLines(rejected).Length);
        var notice = Assert.Single(AuditLog.ReadAll(LogPath));
        Assert.Equal(AuditRecord.Notice, notice.Outcome);
        Assert.Contains("CUT", notice.Reason, StringComparison.Ordinal);
        Assert.Contains(rejected, notice.Reason, StringComparison.Ordinal);
        Assert.True(Verify().IsIntact);
    }

    [Fact]
    public void Open_LogEndingInARecordCutShortByACrash_RemovesItWithANoticeAndContinuesTheChain()
    {
        WriteRecords(3);
        File.AppendAllText(LogPath, "{\"seq\":4,\"time\":\"2026-03-01T12:");

        using (var log = Open())
        {
            Assert.Equal(4, log.LastSeq);
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(4, records.Count);
        Assert.Equal(AuditRecord.Notice, records[3].Outcome);
        Assert.Contains("line 4 was a record cut short", records[3].Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(LogPath)!, "*.rejected.jsonl"));
        Assert.True(Verify().IsIntact, Verify().Message);
    }

    [Fact]
    public void Open_AnotherLogFolderThanLastTime_SaysTheAnchorMovedFromTheOldLog()
    {
        WriteRecords(2);
        var moved = _folder.File(Path.Combine("log2", "audit.jsonl"));

        using (var log = AuditLog.Open(moved, Security))
        {
            Assert.Equal(1, log.LastSeq);
        }

        var notice = Assert.Single(AuditLog.ReadAll(moved));
        Assert.Equal(AuditRecord.Notice, notice.Outcome);
        Assert.Contains($"the anchor moves here from {Path.GetFullPath(LogPath)} (seq 2)", notice.Reason, StringComparison.Ordinal);
        Assert.True(AuditLog.Verify(moved, Security).IsIntact);
    }

    [Fact]
    public void Open_SecondWriterOfTheFolder_IsRefusedNamingTheHoldersPid()
    {
        using var first = Open();

        var error = Assert.Throws<CapClusterException>(() => AuditLog.Open(LogPath, _folder.File("other-security")));

        Assert.Contains($"pid {Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetDirectoryName(LogPath)!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AfterTheWriterClosed_Succeeds()
    {
        Open().Dispose();
        using var second = Open();
        Assert.Equal(0, second.LastSeq);
    }

    [Fact]
    public async Task Append_FromManyThreads_KeepsTheChainIntact()
    {
        using (var log = Open(new AuditLogOptions { AggregationInterval = TimeSpan.Zero }))
        {
            var writers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 25; i++)
                    log.Append(Record(i));
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        }

        var result = Verify();
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(100, result.RecordCount);
    }

    [Fact]
    public void Append_PeerChosenControlCharactersAndLongFields_AreStoredEscapedAndCapped()
    {
        using (var log = Open())
            log.Append(Record(1) with { Label = "\u001b[2J\u001b]0;owned\u0007", Reason = new string('x', 5000) });

        var text = File.ReadAllText(LogPath);
        var record = AuditLog.ReadAll(LogPath)[0];
        Assert.DoesNotContain("\\u001b", text.Replace("\\\\u001b", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("\\u001b[2J\\u001b]0;owned\\u0007", record.Label);
        Assert.Equal(AuditText.MaxFieldLength + "...(+4488)".Length, record.Reason!.Length);
        Assert.True(Verify().IsIntact);
    }

    [Fact]
    public void Append_ThatCannotBeWritten_ThrowsNamingTheLog_LeavesNothing_AndTheNextRecordTakesTheNextSeq()
    {
        using (var log = Open())
        {
            log.Append(Record(1));
            log.Append(Record(2));
            var length = new FileInfo(LogPath).Length;
            // The anchor cannot be replaced: the record reached the log but must not stay there.
            Directory.Move(Security, Security + ".away");
            File.WriteAllText(Security, "not a folder");

            var error = Assert.Throws<AuditWriteException>(() => log.Append(Record(3)));

            Assert.StartsWith($"audit log not writable: {Path.GetFullPath(LogPath)}", error.Message, StringComparison.Ordinal);
            Assert.Equal(length, new FileInfo(LogPath).Length);
            Assert.Equal(2, log.LastSeq);
            File.Delete(Security);
            Directory.Move(Security + ".away", Security);
            log.Append(Record(4));
        }

        Assert.Equal([1L, 2L, 3L], File.ReadAllLines(LogPath).Select(l => (long)JsonNode.Parse(l)!["seq"]!));
        Assert.Equal("cap_4", AuditLog.ReadAll(LogPath)[2].CapabilityId);
        Assert.True(Verify().IsIntact, Verify().Message);
    }

    [Fact]
    public void Refusal_ThatCannotBeWritten_DoesNotThrow_AndIsCountedInANoticeOnceTheLogTakesRecordsAgain()
    {
        using (var log = Open(new AuditLogOptions { AggregationInterval = TimeSpan.Zero }))
        {
            log.Append(Record(1));
            Directory.Move(Security, Security + ".away");
            File.WriteAllText(Security, "not a folder");
            log.Append(Record(2, AuditRecord.Refused));
            log.Append(Record(3, AuditRecord.Refused));
            File.Delete(Security);
            Directory.Move(Security + ".away", Security);
            log.Append(Record(4));
        }

        var records = AuditLog.ReadAll(LogPath);
        Assert.Equal(3, records.Count);
        Assert.Equal((AuditRecord.Notice, 2L), (records[1].Outcome, records[1].Count));
        Assert.Contains("2 refusal record(s) were lost", records[1].Reason, StringComparison.Ordinal);
        Assert.True(Verify().IsIntact, Verify().Message);
    }

    [Fact]
    public void ReadAll_LeavesOutALastLineStillBeingWritten_ButNotADamagedWholeLine()
    {
        WriteRecords(2);
        File.AppendAllText(LogPath, "{\"seq\":3,\"time\":\"2026-");

        Assert.Equal(2, AuditLog.ReadAll(LogPath).Count);
        Assert.Equal(2, AuditLog.ReadLines(LogPath).Count());
        File.AppendAllText(LogPath, "\n");
        Assert.Throws<CapClusterException>(() => AuditLog.ReadAll(LogPath));
    }

    [Fact]
    public void Verify_MissingFile_IsMissing()
    {
        AuditKey.LoadOrCreate(Security);
        var result = AuditLog.Verify(_folder.File("absent.jsonl"), Security);
        Assert.Equal(AuditFinding.Missing, result.Finding);
        Assert.Contains("does not exist", result.Message, StringComparison.Ordinal);
    }
}
