using System.Text.RegularExpressions;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>POSIX sh quoting for values put into scripts and remote command lines.</summary>
internal static partial class ShellQuote
{
    public static string Quote(string value) =>
        value.Length > 0 && Safe().IsMatch(value) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static string Join(IEnumerable<string> values) => string.Join(' ', values.Select(Quote));

    [GeneratedRegex("^[A-Za-z0-9_/.,:=@%+-]+$")]
    private static partial Regex Safe();
}
