using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;

namespace CapCluster.Launcher.Tests;

public sealed class SshLauncherTests
{
    private static readonly SshCommands Copying = new(
        "/opt/cap/capengine", "/home/me/.capcluster/security/engine.cap", "/home/me/.capcluster/log", ".capcluster-remote/abcdefghijklmnop", false, ["Port=2222"]);

    [Fact]
    public void HostsFile_WithCommentsCountsAndBlankLines_ListsEachHost()
    {
        const string text = "# the cluster\nnode1 4\n\n  me@node2   # one engine\nnode3 2 # two\n";

        var hosts = HostsFile.Parse(text, "hosts.txt");

        Assert.Equal([new HostEntry("node1", 4), new HostEntry("me@node2", 1), new HostEntry("node3", 2)], hosts);
    }

    [Theory]
    [InlineData("node1 zero\n", "hosts.txt line 1: the engine count `zero`")]
    [InlineData("node1 2\nnode2 0\n", "hosts.txt line 2: the engine count `0`")]
    [InlineData("node1 2 3\n", "hosts.txt line 1: expected `host [count]`")]
    [InlineData("-oProxyCommand=x 1\n", "hosts.txt line 1: expected `host [count]`")]
    [InlineData("# nothing\n\n", "hosts.txt names no host")]
    public void HostsFile_Malformed_FailsNamingTheLine(string text, string message)
    {
        var e = Assert.Throws<CapClusterException>(() => HostsFile.Parse(text, "hosts.txt"));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_MakesAPrivateFolderUnderTheRemoteHome()
    {
        Assert.Equal(
            ["ssh", "-o", "BatchMode=yes", "-o", "Port=2222", "-n", "node1", "umask 077 && mkdir -p \"$HOME\"/.capcluster-remote/abcdefghijklmnop/log"],
            Copying.Prepare("node1"));
    }

    [Fact]
    public void Copy_ScpsEngineCapKeepingItsMode()
    {
        Assert.Equal(
            ["scp", "-o", "BatchMode=yes", "-o", "Port=2222", "-q", "-p", "/home/me/.capcluster/security/engine.cap", "node1:.capcluster-remote/abcdefghijklmnop/engine.cap"],
            Copying.Copy("node1"));
    }

    [Fact]
    public void Start_RunsCountDetachedEnginesOnTheCopiedCapFile()
    {
        var command = Copying.Start("node1", 2);

        Assert.Equal(["ssh", "-o", "BatchMode=yes", "-o", "Port=2222", "-n", "node1"], command.Take(7));
        const string one = "nohup /opt/cap/capengine --cap-file \"$HOME\"/.capcluster-remote/abcdefghijklmnop/engine.cap " +
                           "--log-folder \"$HOME\"/.capcluster-remote/abcdefghijklmnop/log >/dev/null 2>&1 &";
        Assert.Equal(one + " " + one, command[7]);
    }

    [Fact]
    public void Start_WithSharedFolder_UsesTheLocalPathsQuoted()
    {
        var shared = Copying with { SharedFolder = true, LocalCapFile = "/shared/my dir/engine.cap", SshOptions = [] };

        var command = shared.Start("node1", 1);

        Assert.Equal(
            ["ssh", "-o", "BatchMode=yes", "-n", "node1", "nohup /opt/cap/capengine --cap-file '/shared/my dir/engine.cap' --log-folder /home/me/.capcluster/log >/dev/null 2>&1 &"],
            command);
    }
}
