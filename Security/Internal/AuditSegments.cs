using System.Globalization;
using System.Text.RegularExpressions;

namespace CapCluster.Security.Internal;


/// <summary>
/// The sealed segments beside a live log: when <c>audit.jsonl</c> passes its size it is renamed to
/// <c>audit.&lt;first seq&gt;-&lt;last seq&gt;.jsonl</c> (twelve digits each, so names sort as seqs do) and a new live file
/// continues the chain. A start verifies the live file only; <c>furlgen audit --verify</c> verifies them all.
/// </summary>
internal static partial class AuditSegments
{
    /// <summary>Where the segment holding seqs <paramref name="first"/> to <paramref name="last"/> of <paramref name="livePath"/> goes.</summary>
    public static string SealedPath(string livePath, long first, long last) => Path.Combine(
        Path.GetDirectoryName(livePath)!,
        string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(livePath)}.{first:D12}-{last:D12}{Path.GetExtension(livePath)}"));

    /// <summary>The sealed segments of <paramref name="livePath"/>, oldest first.</summary>
    public static IReadOnlyList<AuditSegment> Sealed(string livePath)
    {
        var folder = Path.GetDirectoryName(livePath)!;
        if (!Directory.Exists(folder))
            return [];
        var stem = Path.GetFileNameWithoutExtension(livePath);
        var extension = Path.GetExtension(livePath);
        var segments = new List<AuditSegment>();
        foreach (var file in Directory.EnumerateFiles(folder, $"{stem}.*{extension}"))
        {
            var name = Path.GetFileName(file);
            var middle = name.AsSpan(stem.Length, name.Length - stem.Length - extension.Length);
            var match = SealedName().Match(middle.ToString());
            if (match.Success)
                segments.Add(new AuditSegment(file, long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
                    long.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture)));
        }

        segments.Sort((a, b) => a.First.CompareTo(b.First));
        return segments;
    }

    /// <summary>Every file of the log in chain order: the sealed segments, then the live file when it exists.</summary>
    public static IEnumerable<string> Files(string livePath) =>
        Sealed(livePath).Select(s => s.Path).Concat(File.Exists(livePath) ? [livePath] : []);

    /// <summary>The seq and MAC of the last whole record of a file (not checked), or null when it has none.</summary>
    public static (long Seq, string Mac)? LastRecord(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var reader = new AuditLineReader(stream);
        string? last = null;
        while (reader.TryRead(out var raw))
        {
            if (raw.Complete && raw.Text is { Length: > 0 } text)
                last = text;
        }

        try
        {
            return last is null ? null : AuditLine.Parse(last) is var line ? (line.Seq, line.Mac) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\.(\d{12})-(\d{12})$", RegexOptions.CultureInvariant)]
    private static partial Regex SealedName();
}
