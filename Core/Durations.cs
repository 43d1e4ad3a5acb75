using System.Globalization;

namespace CapCluster;

/// <summary>How the status tables (<c>capcluster status</c>, a notebook's <c>#!cluster</c>) write a time span: 4.2s, 3m07s, 2h05m.</summary>
public static class Durations
{
    /// <summary>A time span the way a status table shows it: seconds with a tenth under a minute, then minutes and seconds, then hours and minutes; a negative span (clocks apart) as 0.0s.</summary>
    public static string Ago(TimeSpan span) =>
        span < TimeSpan.Zero ? "0.0s"
        : span.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s")
        : span.TotalMinutes < 60 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m");
}
