using System.Text.Json;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class AuditLogTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string LogPath => _folder.File(Path.Combine("log", "audit.jsonl"));

    private static AuditRecord Record(int i, string outcome = AuditRecord.Accepted) => new(
        new DateTimeOffset(2026, 3, 1, 12, 0, i, TimeSpan.Zero), "10.0.0." + i, new string('f', 64), "cap_" + i,
        i % 2 == 0 ? "label \"quoted\" ünïcode" : null, "capcluster.v1.TaskFarm", "Submit", outcome,
        outcome == AuditRecord.Refused ? "the capability secret does not match" : null);

    private void WriteRecords(int count)
    {
        using var log = AuditLog.Open(LogPath);
        for (var i = 1; i <= count; i++)
            log.Append(Record(i, i % 3 == 0 ? AuditRecord.Refused : AuditRecord.Accepted));
    }

    private string[] Lines() => File.ReadAllLines(LogPath);

    [Fact]
    public void Append_ThenReadAll_ReturnsRecordsInOrderAndFileIsOwnerOnly()
    {
        WriteRecords(5);

        var records = AuditLog.ReadAll(LogPath);

        Assert.Equal(Enumerable.Range(1, 5).Select(i => Record(i, i % 3 == 0 ? AuditRecord.Refused : AuditRecord.Accepted)), records);
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(LogPath, FileModes.OwnerReadWrite));
    }

    [Fact]
    public void Append_WritesCamelCaseLinesWithSeqPrevAndHash()
    {
        WriteRecords(2);
        var lines = Lines();
        Assert.Equal(2, lines.Length);

        using var first = JsonDocument.Parse(lines[0]);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(1, first.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal(new string('0', 64), first.RootElement.GetProperty("prev").GetString());
        Assert.Equal("cap_1", first.RootElement.GetProperty("capabilityId").GetString());
        Assert.Equal("accepted", first.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(2, second.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal(first.RootElement.GetProperty("hash").GetString(), second.RootElement.GetProperty("prev").GetString());
        Assert.Matches("^[0-9a-f]{64}$", second.RootElement.GetProperty("hash").GetString());
    }

    [Fact]
    public void Verify_UntouchedLog_IsIntact()
    {
        WriteRecords(6);
        var result = AuditLog.Verify(LogPath);
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(6, result.RecordCount);
        Assert.Null(result.FirstBadLine);
    }

    [Fact]
    public void Verify_EditedRecord_BreaksAtThatLine()
    {
        WriteRecords(5);
        var lines = Lines();
        lines[2] = lines[2].Replace("\"refused\"", "\"accepted\"");
        File.WriteAllLines(LogPath, lines);

        var result = AuditLog.Verify(LogPath);

        Assert.False(result.IsIntact);
        Assert.Equal(3, result.FirstBadLine);
        Assert.Equal(2, result.RecordCount);
        Assert.Contains("line 3", result.Message);
        Assert.Contains("edited", result.Message);
    }

    [Fact]
    public void Verify_EditedRecordWithRecomputedLookingHash_BreaksAtNextLine()
    {
        WriteRecords(4);
        var lines = Lines();
        // A forger who rebuilds line 2 with a correct hash (same line 1, edited record 2) still breaks line 3's link.
        using (var forged = AuditLog.Open(_folder.File("forged.jsonl")))
        {
            forged.Append(Record(1));
            forged.Append(Record(2, AuditRecord.Refused));
        }
        lines[1] = File.ReadAllLines(_folder.File("forged.jsonl"))[1];
        File.WriteAllLines(LogPath, lines);

        var result = AuditLog.Verify(LogPath);

        Assert.False(result.IsIntact);
        Assert.Equal(3, result.FirstBadLine);
        Assert.Contains("does not continue the chain", result.Message);
    }

    [Fact]
    public void Verify_DeletedRecord_BreaksAtTheGap()
    {
        WriteRecords(5);
        var lines = Lines().ToList();
        lines.RemoveAt(1);
        File.WriteAllLines(LogPath, lines);

        var result = AuditLog.Verify(LogPath);

        Assert.False(result.IsIntact);
        Assert.Equal(2, result.FirstBadLine);
        Assert.Contains("seq 3 where seq 2 belongs", result.Message);
    }

    [Fact]
    public void Verify_SwappedRecords_BreaksAtTheFirstSwappedLine()
    {
        WriteRecords(5);
        var lines = Lines();
        (lines[3], lines[2]) = (lines[2], lines[3]);
        File.WriteAllLines(LogPath, lines);

        var result = AuditLog.Verify(LogPath);

        Assert.False(result.IsIntact);
        Assert.Equal(3, result.FirstBadLine);
    }

    [Fact]
    public void Verify_GarbageLine_IsReported()
    {
        WriteRecords(2);
        File.AppendAllText(LogPath, "{\"seq\": 3\n");

        var result = AuditLog.Verify(LogPath);

        Assert.False(result.IsIntact);
        Assert.Equal(3, result.FirstBadLine);
        Assert.Contains("not an audit record", result.Message);
    }

    [Fact]
    public void Open_ExistingLog_ContinuesTheChain()
    {
        WriteRecords(3);
        using (var reopened = AuditLog.Open(LogPath))
        {
            Assert.Equal(3, reopened.LastSeq);
            reopened.Append(Record(4));
        }

        var result = AuditLog.Verify(LogPath);
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(4, result.RecordCount);
        using var last = JsonDocument.Parse(Lines()[3]);
        Assert.Equal(4, last.RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public void Open_LogWithEditedLastLine_Refuses()
    {
        WriteRecords(2);
        var lines = Lines();
        lines[1] = lines[1].Replace("cap_2", "cap_9");
        File.WriteAllLines(LogPath, lines);

        var error = Assert.Throws<CapClusterException>(() => AuditLog.Open(LogPath));
        Assert.Contains("line 2", error.Message);
    }

    [Fact]
    public async Task Append_FromManyThreads_KeepsTheChainIntact()
    {
        using (var log = AuditLog.Open(LogPath))
        {
            var writers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 25; i++)
                    log.Append(Record(i % 60));
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        }

        var result = AuditLog.Verify(LogPath);
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(100, result.RecordCount);
    }

    [Fact]
    public void Verify_MissingFile_IsNotIntact()
    {
        var result = AuditLog.Verify(_folder.File("absent.jsonl"));
        Assert.False(result.IsIntact);
        Assert.Contains("does not exist", result.Message);
    }
}
