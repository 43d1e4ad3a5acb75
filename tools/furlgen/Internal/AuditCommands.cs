using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Furlgen.Internal;

/// <summary><c>furlgen audit</c>: the records as a table, or <c>--verify</c> of the hash chain.</summary>
internal sealed class AuditCommands(IAnsiConsole console)
{
    public int Run(string path, bool verify, bool deniedOnly, string? label, DateTimeOffset? since)
    {
        if (!File.Exists(path))
        {
            throw new CapClusterException($"{path}: no audit log yet (the controller writes it when it first accepts or refuses a connection)");
        }

        if (verify)
        {
            var result = AuditLog.Verify(path);
            console.WriteLine(result.IsIntact
                ? $"{path}: intact, {result.RecordCount} records"
                : $"{path}: {result.Message}");
            return result.IsIntact ? 0 : 1;
        }

        var records = AuditLog.ReadAll(path)
            .Where(r => !deniedOnly || r.Outcome == "refused")
            .Where(r => label is null || r.Label == label)
            .Where(r => since is null || r.Time >= since)
            .ToList();
        var table = new Table().Border(TableBorder.Square);
        foreach (var column in new[] { "Time (UTC)", "Remote", "Capability", "Label", "Method", "Outcome", "Reason" })
        {
            table.AddColumn(column);
        }

        foreach (var r in records)
        {
            table.AddRow(
                r.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(r.RemoteAddress ?? "-"),
                Markup.Escape(r.CapabilityId ?? "-"),
                Markup.Escape(r.Label ?? "-"),
                Markup.Escape($"{r.Service}/{r.Method}"),
                r.Outcome == "refused" ? "[red]refused[/]" : "accepted",
                Markup.Escape(r.Reason ?? string.Empty));
        }

        console.Write(table);
        console.WriteLine($"{records.Count} record(s)");
        return 0;
    }
}
