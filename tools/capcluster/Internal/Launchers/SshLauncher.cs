using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// <c>--launcher ssh --hosts FILE</c>: per host, copies engine.cap there (unless
/// <c>--shared-folder</c>) and starts its engines with ssh and nohup. The engines are not
/// children of anything here, so <c>stop</c> ends them through the controller.
/// </summary>
internal sealed class SshLauncher(ClusterPaths paths, TextWriter output) : IEngineLauncher
{
    private const int FingerprintPrefix = 16;

    public async Task<LaunchedEngines> LaunchAsync(StartOptions options, CancellationToken cancellationToken)
    {
        var hostsFile = options.Launch.HostsFile ?? throw new CapClusterException("--launcher ssh needs --hosts FILE (lines `host [count]`)");
        var hosts = HostsFile.Read(hostsFile);
        var commands = Commands(options);
        foreach (var host in hosts)
        {
            if (!options.Launch.SharedFolder)
            {
                await RunAsync(commands.Prepare(host.Host), host, cancellationToken).ConfigureAwait(false);
                await RunAsync(commands.Copy(host.Host), host, cancellationToken).ConfigureAwait(false);
            }

            await RunAsync(commands.Start(host.Host, host.Engines), host, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"Started {host.Engines} engine(s) on {host.Host} (engine.cap: {commands.RemoteCapFile})");
        }

        var expected = hosts.Sum(h => h.Engines);
        var hint = $"read the engine logs on each host in {commands.RemoteLogFolder}, and check that {string.Join(", ", hosts.Select(h => h.Host))} " +
                   "can reach the controller at the address in engine.cap (start with --ip and --location)";
        return new LaunchedEngines(expected, [], _ => true, hint);
    }

    public Task CleanUpAsync(ClusterRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    public SshCommands Commands(StartOptions options)
    {
        var capFile = paths.CapFile(CapabilityInterfaces.Engine);
        var fingerprint = CapabilityFile.Read(capFile).Url.CaFingerprint;
        return new SshCommands(
            options.Launch.RemoteEngine ?? Programs.Engine,
            capFile,
            paths.LogFolder,
            $".capcluster-remote/{fingerprint[..FingerprintPrefix]}",
            options.Launch.SharedFolder,
            options.Launch.SshOptions)
        {
            LogFormat = options.LogFormat,
        };
    }

    private static async Task RunAsync(IReadOnlyList<string> command, HostEntry host, CancellationToken cancellationToken)
    {
        var result = await ExternalCommand.RunAsync(command, "install the OpenSSH client (apt-get install openssh-client)", cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new CapClusterException($"{command[0]} to {host.Host} failed (exit code {result.ExitCode}): {result.Describe()}");
        }
    }
}
