using System.Diagnostics;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>Runs a system command (sinfo, squeue, ssh-keygen) to completion, with a timeout.</summary>
internal static class HostCommand
{
    public static string? Find(string name) =>
        new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }
            .Concat((System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return new ProcessResult(process.ExitCode, await output, await error);
    }

    /// <summary>Starts a daemon in the foreground with its output in <paramref name="log"/>.</summary>
    public static Process StartDaemon(string program, IEnumerable<string> arguments, string log, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >>\"$DAEMON_LOG\" 2>&1");
        info.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DAEMON_LOG"] = log;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    public static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }

    public static string Tail(string file)
    {
        try
        {
            return string.Join('\n', File.ReadAllLines(file).TakeLast(15));
        }
        catch (IOException)
        {
            return $"(no {file})";
        }
    }
}
