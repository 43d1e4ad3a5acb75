using System.Globalization;

namespace CapCluster.Interactive.Internal;

/// <summary>Which engines: every registered one (<see cref="Ids"/> null), or the listed ids in that order.</summary>
internal sealed record Targets(IReadOnlyList<int>? Ids)
{
    public static Targets All { get; } = new((IReadOnlyList<int>?)null);

    public override string ToString() => Ids is null ? "all engines" : "engine(s) " + Join(Ids);

    public static string Join(IEnumerable<int> ids) => string.Join(", ", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Reads <c>all</c> or engine ids separated by commas (<c>0,2</c>); null and a one-line error otherwise.</summary>
    public static Targets? TryParse(string text, out string? error)
    {
        error = null;
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return All;
        }

        var ids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                error = $"--targets '{text}' is not `all` or engine ids such as 0,2 ('{part}' is not an id)";
                return null;
            }

            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        return new Targets(ids);
    }
}
