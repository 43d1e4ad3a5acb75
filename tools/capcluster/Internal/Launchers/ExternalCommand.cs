using System.ComponentModel;
using System.Diagnostics;
using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>Runs a scheduler or ssh command to completion and captures what it printed.</summary>
internal static class ExternalCommand
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The result of one run.</summary>
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string Describe() => string.IsNullOrWhiteSpace(Error) ? Output.Trim() : Error.Trim();
    }

    /// <param name="command">The program first, then its arguments.</param>
    /// <param name="installHint">What to install when the program is missing, e.g. "apt-get install slurm-client".</param>
    /// <param name="cancellationToken">Stops the wait (the command keeps running).</param>
    /// <param name="timeout">How long it may take (default <see cref="DefaultTimeout"/>, 60 s).</param>
    public static async Task<Result> RunAsync(IReadOnlyList<string> command, string installHint, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CapClusterException($"could not start {command[0]}");
        }
        catch (Win32Exception)
        {
            throw new CapClusterException($"{command[0]} was not found on PATH; {installHint}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            var limit = timeout ?? DefaultTimeout;
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw new CapClusterException($"`{string.Join(' ', command)}` did not finish within {limit.TotalSeconds:0} s");
            }

            return new Result(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
    }
}
