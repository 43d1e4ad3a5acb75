using System.Diagnostics;
using System.Text;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// A program running in a real terminal: a private tmux server (its own socket in a temp folder) with one
/// pane, driven with send-keys and read with capture-pane. Killed on dispose.
/// </summary>
internal sealed class TmuxTerminal : IAsyncDisposable
{
    private const string Target = "console";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private readonly string tmux;
    private readonly string folder;
    private readonly string socket;

    private TmuxTerminal(string tmux, string folder)
    {
        this.tmux = tmux;
        this.folder = folder;
        socket = Path.Combine(folder, "tmux.sock");
    }

    /// <summary>Starts <paramref name="program"/> in a <paramref name="width"/> x <paramref name="height"/> pane with this extra environment.</summary>
    public static async Task<TmuxTerminal> StartAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, int width = 200, int height = 50)
    {
        var tmux = HostCommand.Find("tmux")
            ?? throw new InvalidOperationException("tmux is not installed; ./test.sh installs it (apt-get install tmux)");
        var terminal = new TmuxTerminal(tmux, Directory.CreateTempSubdirectory("capcluster-tmux-").FullName);
        var command = new List<string> { "-f", "/dev/null", "new-session", "-d", "-s", Target, "-x", $"{width}", "-y", $"{height}" };
        foreach (var (name, value) in environment)
        {
            command.AddRange(["-e", $"{name}={value}"]);
        }

        // The pane stays after the program exits, so that its last screen and exit status can be read.
        command.AddRange([program, .. arguments, ";", "set-option", "-t", Target, "remain-on-exit", "on", ";", "set-option", "-t", Target, "history-limit", "10000"]);
        await terminal.TmuxAsync(command);
        return terminal;
    }

    /// <summary>Types <paramref name="text"/> (as bytes, so no character is read as a tmux key name or separator) and presses Enter.</summary>
    public async Task TypeLineAsync(string text)
    {
        if (text.Length > 0)
        {
            await TmuxAsync(["send-keys", "-t", Target, "-H", .. Encoding.UTF8.GetBytes(text).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))]);
        }

        await PressAsync("Enter");
    }

    /// <summary>Presses a key by its tmux name: Enter, Up, C-c, C-d.</summary>
    public Task PressAsync(string key) => TmuxAsync(["send-keys", "-t", Target, key]);

    /// <summary>The whole pane, its scrollback included, wrapped lines joined.</summary>
    public async Task<string> CaptureAsync() => (await TmuxAsync(["capture-pane", "-p", "-J", "-S", "-", "-t", Target])).Output;

    /// <summary>Polls the pane until <paramref name="condition"/> holds; on timeout fails with the screen in the message.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var screen = await CaptureAsync();
            if (condition(screen))
            {
                return screen;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} did not appear within {timeout}; the terminal shows:\n{screen}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>The exit status once the program has exited, or null while it runs.</summary>
    public async Task<int?> ExitStatusAsync()
    {
        var state = (await TmuxAsync(["display-message", "-p", "-t", Target, "#{pane_dead} #{pane_dead_status} #{pane_pid}"])).Output.Trim().Split(' ');
        if (state[0] != "1")
        {
            return null;
        }

        if (state.Length > 2 && int.TryParse(state[1], out var status))
        {
            return status;
        }

        // On some kernels tmux marks the pane dead (its terminal closed) but never reaps the program, which stays a
        // zombie: it has exited, and the kernel keeps its wait status in /proc/PID/stat (field 52) until it is reaped.
        return state.Length > 1 && ZombieExitStatus(state[^1]) is int code ? code : null;
    }

    private static int? ZombieExitStatus(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (field 2, in parentheses, which may hold spaces): field 3 is the state.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" && fields.Length >= 50 && int.TryParse(fields[49], out var wait) && (wait & 0x7f) == 0 ? (wait >> 8) & 0xff : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Polls until the program has exited; its exit status.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await ExitStatusAsync() is int status)
            {
                return status;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"the program still runs after {timeout} ({await DescribeProgramAsync()}); the terminal shows:\n{await CaptureAsync()}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>
    /// Where the pane's program is, for a failure message: its pid, state and kernel wait channel, or that it is gone
    /// (then another process holds the terminal open, and tmux does not see the pane die).
    /// </summary>
    private async Task<string> DescribeProgramAsync()
    {
        var pid = (await TmuxAsync(["display-message", "-p", "-t", Target, "#{pane_pid}"])).Output.Trim();
        var proc = $"/proc/{pid}";
        if (!Directory.Exists(proc))
        {
            return $"pid {pid} has exited, yet the pane is not dead: another process holds its terminal";
        }

        try
        {
            var state = File.ReadLines($"{proc}/status").FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal))?.Trim();
            var threads = Directory.GetDirectories($"{proc}/task").Length;
            return $"pid {pid}, {state}, {threads} threads, waiting in {File.ReadAllText($"{proc}/wchan")}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"pid {pid}: {e.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await HostCommand.RunAsync(tmux, ["-S", socket, "kill-server"]);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ProcessResult> TmuxAsync(IEnumerable<string> arguments)
    {
        var result = await HostCommand.RunAsync(tmux, ["-S", socket, .. arguments]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} failed: {result}");
        }

        return result;
    }
}
