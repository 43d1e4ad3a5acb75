namespace CapCluster.Hosting;

/// <summary>
/// How the command-line programs (capcluster, the console, furlgen) end on an error: one line on stderr, no stack.
/// An error the user can act on (a <see cref="CapClusterException"/>, an unusable folder) is its message, exit code 2;
/// anything else is a bug of ours, named as one, exit code 70 (with <c>CAPCLUSTER_DEBUG=1</c>, with its stack).
/// </summary>
public static class CommandErrors
{
    /// <summary>Runs <paramref name="action"/>, reporting an error as <c>PROGRAM COMMAND: message</c>.</summary>
    public static async Task<int> RunAsync(string command, Func<Task<int>> action, string program = "capcluster")
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(Describe(program, command, e)).ConfigureAwait(false);
            return ExitCode(e);
        }
    }

    /// <summary>Runs <paramref name="action"/>, reporting an error as <c>PROGRAM COMMAND: message</c>.</summary>
    public static int Run(string program, string command, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine(Describe(program, command, e));
            return ExitCode(e);
        }
    }

    /// <summary>The line an error of <paramref name="command"/> is reported with.</summary>
    public static string Describe(string program, string command, Exception e) => e switch
    {
        CapClusterException => $"{program} {command}: {e.Message}",
        _ when FolderErrors.IsFolderError(e) => $"{program} {command}: {FolderErrors.Describe(e)}",
        _ when Environment.GetEnvironmentVariable("CAPCLUSTER_DEBUG") == "1" => $"{program} {command}: {e}",
        _ => $"{program} {command}: unexpected {e.GetType().Name}: {e.Message} (a bug in {program}: please report it; " +
            "CAPCLUSTER_DEBUG=1 shows where it happened)",
    };

    private static int ExitCode(Exception e) => e is CapClusterException || FolderErrors.IsFolderError(e) ? 2 : 70;
}
