using System.Diagnostics;

namespace CapCluster.Bench;

/// <summary>
/// The bench's hold on one of the floor's child processes (see <see cref="FloorHops"/>): started, listening, and either
/// seen to exit once its connection has ended or killed, so that no run leaves a process behind.
/// </summary>
internal sealed class FloorChild : IDisposable
{
    private readonly Process process;

    private FloorChild(Process process, string description)
    {
        this.process = process;
        Description = description;
    }

    /// <summary>Its hop and transport, for errors: "floor-relay (tls)".</summary>
    public string Description { get; }

    public int Pid => process.Id;

    /// <summary>Where it listens, as <see cref="FloorTransport.Connect"/> takes it.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>
    /// Starts this app again as <paramref name="hop"/> with <paramref name="arguments"/> (its standard error shared with
    /// this process's, its standard input held open until disposal), and waits, at most <paramref name="patience"/>, for
    /// it to say where it listens.
    /// </summary>
    public static FloorChild Start(string hop, string transport, TimeSpan patience, params string[] arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the bench's own executable is unknown, so it cannot start the floor's processes");
        var start = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet CapCluster.Bench.dll` the process is the .NET host, which needs the dll; the app host (as `dotnet run` starts it) does not.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(FloorChild).Assembly.Location);
        }

        start.ArgumentList.Add(hop);
        start.ArgumentList.Add(transport);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var child = new FloorChild(Process.Start(start)!, $"{hop} ({transport})");
        try
        {
            using var timeout = new CancellationTokenSource(patience);
            var line = child.process.StandardOutput.ReadLineAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
            child.Endpoint = line ?? throw new InvalidOperationException($"{child.Description} ended before it was listening (its error, if any, is above)");
            return child;
        }
        catch (OperationCanceledException)
        {
            child.Dispose();
            throw new TimeoutException($"{child.Description} was not listening after {patience.TotalSeconds:0} s");
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Waits, at most <paramref name="patience"/>, for it to exit, as it does once its connection has ended.</summary>
    /// <exception cref="TimeoutException">It is still running.</exception>
    /// <exception cref="InvalidOperationException">It exited with a code other than 0.</exception>
    public void WaitForExit(TimeSpan patience)
    {
        if (!process.WaitForExit(patience))
        {
            throw new TimeoutException($"{Description} was still running {patience.TotalSeconds:0} s after its connection ended");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Description} exited with code {process.ExitCode} (its error, if any, is above)");
        }
    }

    /// <summary>Kills it if it is still running, and closes its standard input (so it would end by itself too).</summary>
    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }
}
