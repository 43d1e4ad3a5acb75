using System.Diagnostics;
using System.Net.Sockets;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// An OpenSSH server on 127.0.0.1 and a free port for one test class, with a throwaway host
/// key and a throwaway client key that it accepts for the current user. <see cref="SshOptions"/>
/// are what ssh and scp need to use it.
/// </summary>
public sealed class SshServer : IAsyncLifetime
{
    private Process? daemon;
    private string folder = string.Empty;

    /// <summary>Why sshd cannot run here, or null when it can be tried.</summary>
    public static string? Unavailable =>
        System.Environment.UserName != "root" ? "the ssh launcher test starts sshd, which needs root"
        : HostCommand.Find("sshd") is null ? "sshd is not installed: apt-get install openssh-server"
        : new[] { "ssh", "scp", "ssh-keygen" }.FirstOrDefault(p => HostCommand.Find(p) is null) is { } missing ? $"{missing} is not installed: apt-get install openssh-client"
        : null;

    public int Port { get; private set; }

    public IReadOnlyList<string> SshOptions =>
        [$"Port={Port}", $"IdentityFile={Path.Combine(folder, "id")}", "StrictHostKeyChecking=no", $"UserKnownHostsFile={Path.Combine(folder, "known_hosts")}", "IdentitiesOnly=yes"];

    public async Task InitializeAsync()
    {
        folder = Directory.CreateTempSubdirectory("capcluster-sshd-").FullName;
        foreach (var key in new[] { "host_key", "id" })
        {
            var keygen = await HostCommand.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", string.Empty, "-f", Path.Combine(folder, key)]);
            if (keygen.ExitCode != 0)
            {
                throw new InvalidOperationException($"ssh-keygen failed: {keygen}");
            }
        }

        File.Copy(Path.Combine(folder, "id.pub"), Path.Combine(folder, "authorized_keys"));
        Directory.CreateDirectory("/run/sshd"); // privilege separation directory sshd insists on
        Port = ClusterDirectory.FreePort();
        var log = Path.Combine(folder, "sshd.log");
        daemon = HostCommand.StartDaemon(HostCommand.Find("sshd")!,
            ["-D", "-e", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", Path.Combine(folder, "host_key"),
             "-o", "ListenAddress=127.0.0.1", "-o", $"AuthorizedKeysFile={Path.Combine(folder, "authorized_keys")}", "-o", "StrictModes=no",
             "-o", $"PidFile={Path.Combine(folder, "sshd.pid")}", "-o", "UsePAM=no", "-o", "PermitRootLogin=prohibit-password"],
            log);

        var clock = Stopwatch.StartNew();
        while (!await AcceptsAsync())
        {
            if (daemon.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"sshd did not start on 127.0.0.1:{Port}:\n{HostCommand.Tail(log)}");
            }

            await Task.Delay(100);
        }
    }

    public Task DisposeAsync()
    {
        if (daemon is not null)
        {
            HostCommand.Stop(daemon);
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs sshd and the ssh client (and root); skipped with the reason otherwise.</summary>
public sealed class SshFactAttribute : FactAttribute
{
    public SshFactAttribute()
    {
        Skip = SshServer.Unavailable;
    }
}
