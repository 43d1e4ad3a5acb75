namespace CapCluster.Repl;

/// <summary>Which engines: every registered one (<see cref="Ids"/> null), or the listed ids in that order.</summary>
internal sealed record TargetSpec(IReadOnlyList<int>? Ids)
{
    public static TargetSpec All { get; } = new((IReadOnlyList<int>?)null);

    public override string ToString() => Ids is null ? "all" : string.Join(",", Ids);

    /// <summary>Reads <c>all</c> or a comma-separated list of engine ids such as <c>0,2</c>; null with an error otherwise.</summary>
    public static TargetSpec? TryParse(string text, out string? error)
    {
        error = null;
        if (text.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return All;
        }

        var ids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                error = $"'{text}' is not `all` or a list of engine ids such as 0,2 ('{part}' is not an id)";
                return null;
            }

            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        return new TargetSpec(ids);
    }

    public bool Equals(TargetSpec? other) =>
        other is not null && (Ids is null ? other.Ids is null : other.Ids is not null && Ids.SequenceEqual(other.Ids));

    public override int GetHashCode() => Ids is null ? 0 : Ids.Aggregate(17, (h, i) => (h * 31) + i);
}
