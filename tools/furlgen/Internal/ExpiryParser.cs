using System.Globalization;
using CapCluster.Security;

namespace CapCluster.Furlgen.Internal;

/// <summary>Parses <c>--expires</c>: a duration from now (<c>90s</c>, <c>30m</c>, <c>24h</c>, <c>7d</c>) or an ISO 8601 date (UTC unless it says otherwise).</summary>
internal static class ExpiryParser
{
    public static DateTimeOffset Parse(string text, DateTimeOffset now)
    {
        var value = text.Trim();
        if (value.Length >= 2 && char.IsAsciiLetter(value[^1])
            && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            var seconds = char.ToLowerInvariant(value[^1]) switch
            {
                's' => amount,
                'm' => amount * 60,
                'h' => amount * 3600,
                'd' => amount * 86400,
                _ => (double?)null,
            };
            if (seconds is { } s)
            {
                // A capability cannot outlive the certificate authority that signs its holder certificate.
                return s <= CertificateAuthority.DefaultHolderLifetime.TotalSeconds
                    ? now + TimeSpan.FromSeconds(s)
                    : throw TooFar(text);
            }
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            return date <= now ? throw new CapClusterException($"--expires {text} is in the past")
                : date - now > CertificateAuthority.DefaultHolderLifetime ? throw TooFar(text)
                : date;
        }

        throw new CapClusterException($"--expires {text}: expected a duration (90s, 30m, 24h, 7d) or an ISO 8601 date (2026-12-31 or 2026-12-31T18:00:00Z)");
    }

    private static CapClusterException TooFar(string text) =>
        new($"--expires {text} is too far ahead: a capability lasts at most {CertificateAuthority.DefaultHolderLifetime.TotalDays / 365.25:0} years");
}
