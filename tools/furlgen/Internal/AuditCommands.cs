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
        if (AuditLog.Files(path).Count == 0 && !follow)
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
            foreach (var line in AuditLog.ReadLines(path).Where(l => filter.Matches(AuditLog.ParseLine(l))))
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

    /// <summary>
    /// Prints every record (the sealed segments', then the live file's), then each new one as it is appended, one line
    /// each, until cancelled (Ctrl-C). The live file is read through one open handle: when the controller seals it
    /// (renames it and starts a new live file), the handle still reads the sealed file to its end, then the segments
    /// sealed since (it may seal more than one between two polls), then the new live file from its start.
    /// </summary>
    private int Follow(string path, AuditFilter filter, bool json, CancellationToken cancellationToken)
    {
        var follower = new Follower(path, filter, json);
        follower.PrintSealedSince();
        FileStream? live = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (live is null && File.Exists(path))
                {
                    live = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    follower.PrintSealedSince();
                }

                if (live is not null)
                {
                    follower.PrintAppended(live);
                    if (Sealed(live, path))
                    {
                        follower.PrintAppended(live);
                        live.Dispose();
                        live = null;
                        continue;
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
        }
        finally
        {
            live?.Dispose();
        }

        return 0;
    }

    /// <summary>
    /// What <c>--follow</c> printed: the highest seq, and the highest read from sealed segments, so that a live file
    /// read through its handle after its records were printed from its sealed copy prints none twice (a line the
    /// controller did not write, with a seq already seen, is still printed when it is appended to the live file).
    /// </summary>
    private sealed class Follower(string path, AuditFilter filter, bool json)
    {
        private readonly StringBuilder partial = new();
        private long printed;
        private long fromSegments;

        public void PrintSealedSince()
        {
            foreach (var segment in AuditLog.Segments(path).Where(s => s.Last > printed))
            {
                foreach (var line in File.ReadLines(segment.Path).Where(l => l.Length > 0))
                {
                    var (seq, record, damage) = Parse(line);
                    if (seq > printed)
                    {
                        Print(line, record, damage, filter, json);
                        printed = fromSegments = seq.Value;
                    }
                }
            }
        }

        // Only whole lines: the controller may be half-way through appending one.
        public void PrintAppended(FileStream stream)
        {
            if (stream.Position == 0)
            {
                partial.Clear();
            }

            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            partial.Append(reader.ReadToEnd());
            var all = partial.ToString();
            var end = all.LastIndexOf('\n');
            if (end < 0)
            {
                return;
            }

            foreach (var line in all[..end].Split('\n').Where(l => l.Length > 0))
            {
                var (seq, record, damage) = Parse(line);
                if (seq <= fromSegments)
                {
                    continue;
                }

                Print(line, record, damage, filter, json);
                printed = Math.Max(printed, seq ?? 0);
            }

            partial.Clear().Append(all[(end + 1)..]);
        }

        // A line that is not a record has no seq: it is printed as damaged, whatever came before.
        private static (long? Seq, AuditRecord? Record, string? Damage) Parse(string line)
        {
            try
            {
                var (seq, record) = AuditLog.ParseNumberedLine(line);
                return (seq, record, null);
            }
            catch (FormatException e)
            {
                return (null, null, e.Message);
            }
        }
    }

    // Whether the path now names another file than the open one (sealed and replaced by a new live file, or set
    // aside at a start): the new one is empty, or its first line differs (every record's seq and time are its own;
    // a first line still being written is compared as far as both go). A file is sealed only once it holds a record,
    // so an open file still empty has not been.
    private static bool Sealed(FileStream open, string path)
    {
        var mine = FirstLine(open.SafeFileHandle);
        if (mine.Length == 0)
        {
            return false;
        }

        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var now = FirstLine(handle);
            var common = Math.Min(mine.Length, now.Length);
            return now.Length == 0 || !mine.AsSpan(0, common).SequenceEqual(now.AsSpan(0, common));
        }
        catch (FileNotFoundException)
        {
            return false; // between the rename and the new live file
        }
    }

    private static byte[] FirstLine(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var buffer = new byte[256];
        var read = RandomAccess.Read(handle, buffer, 0);
        var newline = Array.IndexOf(buffer, (byte)'\n', 0, read);
        return buffer[..(newline < 0 ? read : newline)];
    }

    private static void Print(string line, AuditRecord? parsed, string? damage, AuditFilter filter, bool json)
    {
        if (parsed is not { } record)
        {
            Console.Out.WriteLine(Printable($"(a damaged line: {damage})"));
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
