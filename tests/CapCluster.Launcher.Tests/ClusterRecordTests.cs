using System.Text.Json;
using CapCluster.Launcher.Internal;

namespace CapCluster.Launcher.Tests;

/// <summary><c>cluster.json</c> through source-generated metadata: written as the reflection-based serializer wrote it, so <c>stop</c> of either version reads it.</summary>
public sealed class ClusterRecordTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("slurm", "4242")]
    public void Record_IsWrittenAsBefore_AndReadBack(string? scheduler, string? jobId)
    {
        var record = new ClusterRecord(100, [101, 102], scheduler, jobId);

        var written = JsonSerializer.Serialize(record, ClusterRecordJson.Default.ClusterRecord);

        // The reflection-based serializer, as earlier versions wrote and read the file.
        Assert.Equal(JsonSerializer.Serialize(record), written);
        var before = JsonSerializer.Deserialize<ClusterRecord>(written)!;
        var now = JsonSerializer.Deserialize(written, ClusterRecordJson.Default.ClusterRecord)!;

        Assert.Equal((record.ControllerPid, record.Scheduler, record.JobId), (now.ControllerPid, now.Scheduler, now.JobId));
        Assert.Equal(record.EnginePids, now.EnginePids);
        Assert.Equal(record.EnginePids, before.EnginePids);
    }
}
