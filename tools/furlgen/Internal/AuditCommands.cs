using System.Globalization;
using System.Text;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Furlgen.Internal;

/// <summary>Which audit records to show.</summary>
internal sealed record AuditFilter(bool DeniedOnly, string? Label, DateTimeOffset? Since)
{
    public bool Matches(AuditRecord r) =>
        (!DeniedOnly || r.Outcome != AuditRecord.Accepted)
        && (Label is null || r.Label == Label)
        && (Since is null || r.Time >= Since);
}

/// <summary>
/// <c>furlgen audit</c>: the records as a table, as raw JSON lines (<c>--json</c>), followed as they are appended
/// (<c>--follow</c>), or <c>--verify</c> of the hash chain.
/// </summary>
internal sealed class AuditCommands(IAnsiConsole console)
{
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(200);

    public int Run(string path, string securityFolder, bool verify, AuditFilter filter, bool json, bool follow, CancellationToken cancellationToken)
    {
        if (!File.Exists(path) && !follow)
        {
            throw new CapClusterException($"{path}: no audit log yet (the controller writes it when it first accepts or refuses a connection)");
        }

        if (verify)
        {
            var result = AuditLog.Verify(path, securityFolder);
            Console.Out.WriteLine(AuditText.Clean($"{path}: {result.Message}"));
            return result.IsIntact ? 0 : 1;
        }

        if (follow)
        {
            return Follow(path, filter, json, cancellationToken);
        }

        if (json)
        {
            // JSON escapes control characters itself, but a forged line may carry them raw.
            foreach (var line in File.ReadLines(path).Where(l => l.Length > 0 && filter.Matches(AuditLog.ParseLine(l))))
            {
                Console.Out.WriteLine(Printable(line));
            }

            return 0;
        }

        var records = AuditLog.ReadAll(path).Where(filter.Matches).ToList();
        var table = new Table().Border(TableBorder.Square);
        foreach (var column in new[] { "Time (UTC)", "Remote", "Capability", "Label", "Method", "Outcome", "Reason" })
        {
            table.AddColumn(column);
        }

        foreach (var r in records)
        {
            table.AddRow(
                Time(r),
                Cell(r.RemoteAddress ?? "-"),
                Cell(r.CapabilityId ?? "-"),
                Cell(r.Label ?? "-"),
                Cell($"{r.Service}/{r.Method}"),
                r.Outcome == AuditRecord.Accepted ? "accepted" : $"[red]{Cell(r.Outcome)}[/]",
                Cell(Counted(r)));
        }

        console.Write(table);
        console.WriteLine($"{records.Count} record(s)");
        return 0;
    }

    /// <summary>Prints every record, then each new one as it is appended, one line each, until cancelled (Ctrl-C).</summary>
    private int Follow(string path, AuditFilter filter, bool json, CancellationToken cancellationToken)
    {
        long offset = 0;
        var partial = new StringBuilder();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (stream.Length < offset)
                {
                    offset = 0; // replaced by a new log
                    partial.Clear();
                }

                stream.Seek(offset, SeekOrigin.Begin);
                using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
                var text = reader.ReadToEnd();
                offset = stream.Position;
                partial.Append(text);
                var all = partial.ToString();
                var end = all.LastIndexOf('\n');
                if (end >= 0)
                {
                    // Only whole lines: the controller may be half-way through appending one.
                    foreach (var line in all[..end].Split('\n').Where(l => l.Length > 0))
                    {
                        Print(line, filter, json);
                    }

                    partial.Clear().Append(all[(end + 1)..]);
                }
            }

            try
            {
                Task.Delay(FollowPoll, cancellationToken).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return 0;
    }

    private static void Print(string line, AuditFilter filter, bool json)
    {
        AuditRecord record;
        try
        {
            record = AuditLog.ParseLine(line);
        }
        catch (FormatException e)
        {
            Console.Out.WriteLine(Printable($"(a damaged line: {e.Message})"));
            return;
        }

        if (!filter.Matches(record))
        {
            return;
        }

        Console.Out.WriteLine(json
            ? Printable(line)
            : $"{Time(record)}  {P(record.Outcome),-8}  {P(record.CapabilityId ?? "-")}  {P(record.Label ?? "-")}  {P(record.Service)}/{P(record.Method)}  {P(record.RemoteAddress ?? "-")}  {P(Counted(record))}".TrimEnd());
        Console.Out.Flush();
    }

    // Every field is escaped again when printed: a line written by something other than the controller may hold raw
    // control characters, and a terminal must never be driven by what a peer chose.
    private static string P(string? text) => AuditText.Clean(text) ?? string.Empty;

    private static string Cell(string? text) => Markup.Escape(P(text));

    // A line can be long (a JSON record): it is escaped, not cut.
    private static string Printable(string line)
    {
        var builder = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i += AuditText.MaxFieldLength)
        {
            builder.Append(AuditText.Clean(line.Substring(i, Math.Min(AuditText.MaxFieldLength, line.Length - i))));
        }

        return builder.ToString();
    }

    private static string Counted(AuditRecord r) => r.Count > 1 ? $"{r.Reason} [x{r.Count.ToString(CultureInfo.InvariantCulture)}]" : r.Reason ?? string.Empty;

    private static string Time(AuditRecord r) => r.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
