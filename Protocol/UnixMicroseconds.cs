namespace CapCluster.Protocol;

/// <summary>The timestamps messages carry (<c>*_unix_us</c> fields): microseconds since the Unix epoch, UTC, at full precision.</summary>
public static class UnixMicroseconds
{
    /// <summary><paramref name="time"/> in microseconds since the Unix epoch.</summary>
    public static long Of(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>The time <paramref name="microseconds"/> since the Unix epoch stands for; null for 0 (not set).</summary>
    public static DateTimeOffset? ToTime(long microseconds) =>
        microseconds == 0 ? null : DateTimeOffset.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);

    /// <summary>Now, in microseconds since the Unix epoch.</summary>
    public static long Now() => Of(DateTimeOffset.UtcNow);
}
