using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// Fills a batch script template. Placeholders: {engines}, {engine}, {profile_args} (the engines'
/// <c>--profile</c> and <c>--log-format</c>, as given), {cap_file}, {log_folder}, {job_name}, {partition}, {time}, {account}. Paths come
/// shell-quoted. A scheduler directive line (<c>#SBATCH</c>, <c>#PBS</c>) whose placeholder
/// has no value (no <c>--partition</c>, say) is left out, so one template serves with and without.
/// </summary>
internal static partial class BatchScript
{
    private static readonly string[] Directives = ["#SBATCH", "#PBS"];

    /// <summary>The values a template is filled with.</summary>
    public sealed record Values(
        int Engines,
        string Engine,
        string CapFile,
        string LogFolder,
        string JobName,
        string? Profile = null,
        string? Partition = null,
        string? Time = null,
        string? Account = null,
        string? LogFormat = null);

    public static string Render(string template, Values values)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["engines"] = values.Engines.ToString(CultureInfo.InvariantCulture),
            ["engine"] = ShellQuote.Quote(values.Engine),
            ["profile_args"] = ShellQuote.Join(StartOptions.EngineArguments(values.Profile, values.LogFormat)),
            ["cap_file"] = ShellQuote.Quote(values.CapFile),
            ["log_folder"] = ShellQuote.Quote(values.LogFolder),
            ["job_name"] = values.JobName,
            ["partition"] = values.Partition ?? string.Empty,
            ["time"] = values.Time ?? string.Empty,
            ["account"] = values.Account ?? string.Empty,
        };

        var script = new StringBuilder();
        foreach (var line in template.ReplaceLineEndings("\n").Split('\n'))
        {
            // Anything else in braces (a shell ${var}) is left alone.
            var names = Placeholder().Matches(line).Select(m => m.Groups[1].Value).Where(map.ContainsKey).ToList();
            if (Directives.Any(d => line.StartsWith(d, StringComparison.Ordinal)) && names.Any(n => map[n].Length == 0))
            {
                continue;
            }

            script.Append(Placeholder().Replace(line, m => map.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value).TrimEnd()).Append('\n');
        }

        return script.ToString().TrimEnd('\n') + "\n";
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex Placeholder();
}
