using CapCluster.Hosting;

namespace CapCluster.Tools;

/// <summary>How the launcher's and the console's commands end on an error the user can act on: one line, no stack.</summary>
public static class CommandErrors
{
    /// <summary>
    /// Runs <paramref name="action"/>; a <see cref="CapClusterException"/> or an unusable folder becomes
    /// <c>capcluster COMMAND: message</c> on stderr and exit code 2.
    /// </summary>
    public static async Task<int> RunAsync(string command, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CapClusterException e)
        {
            await Console.Error.WriteLineAsync($"capcluster {command}: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (FolderErrors.IsFolderError(e))
        {
            await Console.Error.WriteLineAsync($"capcluster {command}: {FolderErrors.Describe(e)}").ConfigureAwait(false);
            return 2;
        }
    }
}
