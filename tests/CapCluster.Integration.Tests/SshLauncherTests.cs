using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary><c>capcluster start --launcher ssh</c> against a real sshd on 127.0.0.1, started by the fixture.</summary>
public sealed class SshLauncherTests(SshServer sshd) : IClassFixture<SshServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [SshFact]
    public async Task StartSsh_OneEngineOnLocalhost_CopiesEngineCapPrivatelyAndTheEngineRegisters()
    {
        await using var cluster = new ClusterDirectory();
        var hosts = Path.Combine(cluster.BaseFolder, "hosts");
        File.WriteAllText(hosts, "# the test machine, over ssh\n127.0.0.1 1\n");
        var arguments = new List<string> { "start", "--launcher", "ssh", "--hosts", hosts };
        foreach (var option in sshd.SshOptions)
        {
            arguments.AddRange(["--ssh-option", option]);
        }

        var start = await cluster.RunAsync("capcluster", [.. arguments]);

        var fingerprint = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.Engine)).Url.CaFingerprint;
        var remote = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".capcluster-remote", fingerprint[..16]);
        try
        {
            Assert.True(start.ExitCode == 0, start.ToString());
            Assert.Contains("Started 1 engine(s) on 127.0.0.1", start.Output);
            Assert.Contains("Engines registered: 1/1", start.Output);
            var copy = Path.Combine(remote, "engine.cap");
            Assert.Equal(File.ReadAllText(cluster.CapFile(CapabilityInterfaces.Engine)), File.ReadAllText(copy));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(copy));

            await using (var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
            {
                Assert.Single(await client.GetEnginesAsync().WaitAsync(Timeout));

                // The engine runs on the copy: capengine --cap-file <copy> ...
                await client.ExecuteAsync("var cap = System.Environment.GetCommandLineArgs()[2];").GetAsync(Timeout);
                Assert.Equal([copy], await client.PullAsync<string>("cap").GetAsync(Timeout));
            }

            var stop = await cluster.RunAsync("capcluster", "stop");

            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.Contains("Stopped the controller", stop.Output);
        }
        finally
        {
            if (Directory.Exists(remote))
            {
                Directory.Delete(remote, recursive: true);
            }
        }
    }
}
