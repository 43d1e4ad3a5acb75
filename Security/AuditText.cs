using System.Globalization;
using System.Text;

namespace CapCluster.Security;

/// <summary>
/// Audit fields are partly chosen by peers (labels, reasons quoting what a peer sent, addresses): each is capped in
/// length and its control characters (and the invisible ones that reorder text) are written as <c>\uXXXX</c>, both
/// when stored and when printed, so that no record can move a terminal's cursor, clear the screen or fake a line.
/// </summary>
public static class AuditText
{
    /// <summary>The longest field kept, in characters (default 512); longer ones are cut and end in "...(+N)".</summary>
    public const int MaxFieldLength = 512;

    /// <summary><paramref name="text"/> capped and with control characters escaped; null stays null.</summary>
    public static string? Clean(string? text)
    {
        if (text is null)
            return null;
        var cut = text.Length > MaxFieldLength ? text.Length - MaxFieldLength : 0;
        var kept = cut > 0 ? text.AsSpan(0, MaxFieldLength) : text.AsSpan();
        StringBuilder? builder = null;
        for (var i = 0; i < kept.Length; i++)
        {
            var c = kept[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < kept.Length && char.IsLowSurrogate(kept[i + 1]);
            if (pair)
            {
                builder?.Append(c).Append(kept[i + 1]);
                i++;
            }
            else if (IsUnsafe(c) || char.IsSurrogate(c))
            {
                builder ??= new StringBuilder(kept.Length + 16).Append(kept[..i]);
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder?.Append(c);
            }
        }

        var clean = builder?.ToString() ?? kept.ToString();
        return cut > 0 ? clean + $"...(+{cut.ToString(CultureInfo.InvariantCulture)})" : clean;
    }

    private static bool IsUnsafe(char c) =>
        char.IsControl(c)
        || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or '\u061c'
        || c is >= '\u202a' and <= '\u202e'
        || c is >= '\u2066' and <= '\u2069';
}
