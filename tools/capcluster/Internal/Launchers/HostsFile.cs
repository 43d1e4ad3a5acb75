using System.Globalization;
using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>One line of a <c>--hosts</c> file: a host (or user@host) and how many engines to start there.</summary>
internal sealed record HostEntry(string Host, int Engines);

/// <summary>
/// The <c>--hosts</c> file: one <c>host [count]</c> per line (count defaults to 1); blank lines
/// and everything after <c>#</c> are ignored.
/// </summary>
internal static class HostsFile
{
    public static IReadOnlyList<HostEntry> Read(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path), path);
        }
        catch (IOException e)
        {
            throw new CapClusterException($"--hosts {path}: {e.Message}");
        }
    }

    public static IReadOnlyList<HostEntry> Parse(string text, string source)
    {
        var hosts = new List<HostEntry>();
        var number = 0;
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            number++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var fields = (hash < 0 ? raw : raw[..hash]).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            // A host starting with '-' would be read by ssh as an option.
            if (fields.Length > 2 || fields[0].StartsWith('-'))
            {
                throw new CapClusterException($"{source} line {number}: expected `host [count]`, found `{raw.Trim()}`");
            }

            var count = 1;
            if (fields.Length == 2 && (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
            {
                throw new CapClusterException($"{source} line {number}: the engine count `{fields[1]}` is not a positive whole number");
            }

            hosts.Add(new HostEntry(fields[0], count));
        }

        return hosts.Count > 0 ? hosts : throw new CapClusterException($"{source} names no host; write one `host [count]` per line");
    }
}
