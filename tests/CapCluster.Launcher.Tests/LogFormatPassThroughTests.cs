using CapCluster.Launcher.Internal;
using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;

namespace CapCluster.Launcher.Tests;

/// <summary><c>capcluster start --log-format</c> reaches the controller and the engines of every launcher; the audit options reach the controller.</summary>
public sealed class LogFormatPassThroughTests
{
    private static readonly StartOptions Text = new(2, "p1", 0, 0, null, [], TimeSpan.FromSeconds(60)) { LogFormat = "text" };

    [Fact]
    public void ControllerAndLocalEngines_GetTheFormat()
    {
        Assert.Equal(["--profile", "p1", "--log-format", "text"], Text.ControllerArguments());
        Assert.Equal(["--profile", "p1", "--log-format", "text"], Text.EngineArguments());
    }

    [Fact]
    public void WithoutTheOption_NothingIsPassed_SoTheProcessesWriteTheirDefault()
    {
        var plain = Text with { LogFormat = null };

        Assert.Equal(["--profile", "p1"], plain.ControllerArguments());
        Assert.Equal(["--profile", "p1"], plain.EngineArguments());
        Assert.Equal(["-n", "2"], plain.MpirunArguments("/opt/cap/capengine", null).Take(2));
        Assert.DoesNotContain("--log-format", plain.MpirunArguments("/opt/cap/capengine", null));
    }

    [Fact]
    public void TheAuditOptions_ReachTheControllerOnly_AndOnlyWhenGiven()
    {
        var audit = Text with { LogFormat = null, AuditInterval = 0.5, AuditSegmentBytes = 4096 };

        Assert.Equal(["--profile", "p1", "--audit-interval", "0.5", "--audit-segment-bytes", "4096"], audit.ControllerArguments());
        Assert.Equal(["--profile", "p1"], audit.EngineArguments());
        Assert.DoesNotContain("--audit-interval", (Text with { LogFormat = null }).ControllerArguments());
    }

    [Fact]
    public void MpiEngines_GetTheFormatAfterMpi()
    {
        var arguments = Text.MpirunArguments("/opt/cap/capengine", null).ToList();

        Assert.Equal(["/opt/cap/capengine", "--mpi", "--profile", "p1", "--log-format", "text"], arguments[^6..]);
    }

    [Fact]
    public void BatchEngines_GetTheFormatWithTheProfileArguments()
    {
        var values = new BatchScript.Values(3, "/opt/cap/capengine", "/b/security/engine.cap", "/b/log", "capcluster-p1", Profile: "p1", LogFormat: "text");

        var script = BatchScript.Render(new SlurmLauncher(ClusterPaths.Under("/b"), TextWriter.Null).DefaultTemplate, values);

        Assert.Contains("srun -n 3 /opt/cap/capengine --cap-file /b/security/engine.cap --log-folder /b/log --profile p1 --log-format text\n", script, StringComparison.Ordinal);
    }

    [Fact]
    public void SshEngines_GetTheFormat()
    {
        var commands = new SshCommands("/opt/cap/capengine", "/s/engine.cap", "/s/log", ".capcluster-remote/x", true, []) { LogFormat = "text" };

        Assert.Equal("nohup /opt/cap/capengine --cap-file /s/engine.cap --log-folder /s/log --log-format text >/dev/null 2>&1 &", commands.Start("node1", 1)[^1]);
    }
}
