using System.Text.Json.Nodes;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

/// <summary>
/// The live log sealed into segments past its size: one chain across them, a start that reads the live file only,
/// a stop between sealing and anchoring, and what <c>furlgen audit --verify</c> finds in the segments.
/// </summary>
public sealed class AuditSegmentTests : IDisposable
{
    private const long SegmentBytes = 2000;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string LogPath => _folder.File(Path.Combine("log", "audit.jsonl"));

    private string LogFolder => Path.GetDirectoryName(LogPath)!;

    private string Security => _folder.File("security");

    private AuditLog Open(long segmentBytes = SegmentBytes) =>
        AuditLog.Open(LogPath, Security, options: new AuditLogOptions { SegmentBytes = segmentBytes, AggregationInterval = TimeSpan.Zero });

    private void Write(int from, int to, long segmentBytes = SegmentBytes)
    {
        using var log = Open(segmentBytes);
        for (var i = from; i <= to; i++)
            log.Append(AuditLogTests.Record(i));
    }

    private string[] Sealed() => [.. Directory.GetFiles(LogFolder, "audit.0*.jsonl").Order(StringComparer.Ordinal)];

    private static long Seq(string line) => (long)JsonNode.Parse(line)!["seq"]!;

    [Fact]
    public void PastItsSize_TheLogIsSealedIntoReadOnlySegments_ThatVerifyAndReadAsOneChain()
    {
        Write(1, 30);

        var sealedFiles = Sealed();
        Assert.True(sealedFiles.Length >= 3, string.Join(", ", sealedFiles));
        Assert.Matches(@"audit\.000000000001-0000000000\d\d\.jsonl$", sealedFiles[0]);
        Assert.All(sealedFiles, f =>
        {
            Assert.InRange(new FileInfo(f).Length, SegmentBytes, SegmentBytes + 1000);
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(f));
        });
        Assert.Equal(Enumerable.Range(1, 30).Select(i => "cap_" + i), AuditLog.ReadAll(LogPath).Select(r => r.CapabilityId));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), AuditLog.ReadLines(LogPath).Select(Seq));
        var result = AuditLog.Verify(LogPath, Security);
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(30, result.RecordCount);
        Assert.Equal(30, result.LastSeq);
    }

    [Fact]
    public void AStart_ChecksTheLiveFileOnly_AndContinues_WhileVerifyFindsAnEditedSegmentNamingIt()
    {
        Write(1, 30);
        var first = Sealed()[0];
        var lines = File.ReadAllLines(first);
        lines[1] = lines[1].Replace("cap_2", "cap_X", StringComparison.Ordinal);
        File.SetUnixFileMode(first, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllLines(first, lines);

        Write(31, 31);

        Assert.Equal(31L, Seq(File.ReadAllLines(LogPath)[^1]));
        Assert.DoesNotContain(AuditLog.ReadAll(LogPath), r => r.Outcome == AuditRecord.Notice);
        var result = AuditLog.Verify(LogPath, Security);
        Assert.Equal(AuditFinding.Damaged, result.Finding);
        Assert.StartsWith($"DAMAGED: line 2 of {Path.GetFileName(first)} (seq 2)", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARemovedSegmentBetweenOthers_IsACut_TheOldestRemoved_IsRetention()
    {
        Write(1, 30);
        var sealedFiles = Sealed();
        var middle = sealedFiles[1];
        var away = middle + ".away";
        File.Move(middle, away);

        var cut = AuditLog.Verify(LogPath, Security);
        Assert.Equal(AuditFinding.Cut, cut.Finding);
        Assert.Contains("a sealed segment was removed", cut.Message, StringComparison.Ordinal);

        File.Move(away, middle);
        File.Delete(sealedFiles[0]);
        var kept = AuditLog.Verify(LogPath, Security);
        Assert.True(kept.IsIntact, kept.Message);
        Assert.Contains("(the segments before it are no longer kept)", kept.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStopBetweenSealingAndAnchoringTheNextFile_IsContinuedFromTheSealedSegment()
    {
        Write(1, 10, segmentBytes: 0);
        // As a seal leaves it before the new live file is anchored: renamed (same inode), the anchor still naming it.
        File.Move(LogPath, Path.Combine(LogFolder, "audit.000000000001-000000000010.jsonl"));

        Write(11, 12, segmentBytes: 0);

        Assert.Equal([11L, 12L], File.ReadAllLines(LogPath).Select(Seq));
        var result = AuditLog.Verify(LogPath, Security);
        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(12, result.RecordCount);
    }

    [Fact]
    public void ALiveFileThatDoesNotVerify_IsSetAside_AndTheChainContinuesFromTheLastSealedRecord()
    {
        Write(1, 30);
        var lastSealed = Seq(File.ReadAllLines(Sealed()[^1])[^1]);
        File.AppendAllText(LogPath, "{\"seq\":999}\n");

        Write(31, 31);

        var records = AuditLog.ReadAll(LogPath);
        var notice = Assert.Single(records, r => r.Outcome == AuditRecord.Notice);
        Assert.Contains("moved aside", notice.Reason, StringComparison.Ordinal);
        Assert.Equal(lastSealed + 1, Seq(File.ReadAllLines(LogPath)[0]));
        var result = AuditLog.Verify(LogPath, Security);
        Assert.True(result.IsIntact, result.Message);
    }

    [Fact]
    public void TheLiveFileAfterASeal_ReplacedByAnotherFile_IsFound()
    {
        Write(1, 30);
        var copy = LogPath + ".copy";
        File.Copy(LogPath, copy);
        File.Delete(LogPath);
        File.Move(copy, LogPath);

        Assert.Equal(AuditFinding.Replaced, AuditLog.Verify(LogPath, Security).Finding);
    }
}
