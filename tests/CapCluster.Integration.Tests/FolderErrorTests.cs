using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Folders a tool cannot write (here a read-only disk, which refuses root too) give one line naming the path and the
/// fix, from every tool, never a stack trace.
/// </summary>
public sealed class FolderErrorTests
{
    [Fact]
    public async Task AReadOnlySecurityOrLogFolder_GetsOneLineNamingThePathAndTheFix_FromEveryTool()
    {
        await using var cluster = new ClusterDirectory();
        var security = await cluster.MountTinyDiskAsync("security", "8m");
        var log = await cluster.MountTinyDiskAsync("log", "8m");
        var paths = cluster.Paths();
        await cluster.StartControllerAsync();
        var alice = Path.Combine(cluster.BaseFolder, "alice.cap");
        Assert.Equal(0, (await cluster.RunAsync("furlgen", "attenuate", cluster.CapFile(CapabilityInterfaces.Task), "--label", "alice", "-o", alice)).ExitCode);
        Assert.Equal(0, (await cluster.RunAsync("capcluster", "stop")).ExitCode);
        await security.MakeReadOnlyAsync();
        await log.MakeReadOnlyAsync();

        foreach (var (program, arguments) in new (string, string[])[]
        {
            ("capcontroller", []),
            ("capcluster", ["start", "-n", "1"]),
            ("furlgen", ["revoke", alice]),
            ("furlgen", ["rotate", "engine"]),
            ("capengine", []),
        })
        {
            var result = await cluster.RunAsync(program, arguments);
            var said = result.Output + result.Error;
            Assert.True(result.ExitCode != 0, $"{program} {string.Join(' ', arguments)} succeeded on a read-only folder: {said}");
            Assert.DoesNotContain("   at ", said, StringComparison.Ordinal);
            Assert.Contains("Read-only file system", result.Error, StringComparison.Ordinal);
            Assert.True(result.Error.Contains(paths.SecurityFolder, StringComparison.Ordinal) || result.Error.Contains(paths.LogFolder, StringComparison.Ordinal), result.Error);
            Assert.True(result.Error.Contains("writ", StringComparison.Ordinal), $"{program}: {result.Error}");
        }
    }
}
