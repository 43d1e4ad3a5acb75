namespace CapCluster.Protocol;

/// <summary>
/// How a capability secret travels with a call: the metadata entry
/// <c>authorization: Capability &lt;secret&gt;</c>.
/// </summary>
public static class CapabilityMetadata
{
    /// <summary>The metadata key carrying the secret.</summary>
    public const string HeaderName = "authorization";

    /// <summary>The scheme word before the secret.</summary>
    public const string Scheme = "Capability";

    /// <summary>The header entry for a secret.</summary>
    public static KeyValuePair<string, string> For(string secret) => new(HeaderName, Scheme + " " + secret);

    /// <summary>The secret in an authorization header value, or null when it is absent or of another scheme.</summary>
    public static string? ParseSecret(string? headerValue)
    {
        if (string.IsNullOrEmpty(headerValue) || headerValue.Length <= Scheme.Length + 1)
        {
            return null;
        }

        return headerValue.StartsWith(Scheme + " ", StringComparison.Ordinal)
            ? headerValue[(Scheme.Length + 1)..].Trim()
            : null;
    }
}
