using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// <c>capcluster://&lt;fingerprint&gt;@host:port[,host:port]/&lt;interface&gt;/&lt;secret&gt;</c>: where the controller
/// is, which CA key pins it, what the capability grants, and the secret proving it.
/// Equality compares <see cref="Locations"/> by content, in order.
/// </summary>
/// <param name="CaFingerprint">The controller CA's <see cref="CapabilityFingerprint"/> (52 base32 characters).</param>
/// <param name="Locations">Where the controller listens, tried in order; at least one.</param>
/// <param name="Interface">One of <see cref="CapabilityInterfaces.All"/>.</param>
/// <param name="Secret">The 52-character base32 secret (<see cref="CapabilitySecret.Create"/>).</param>
public sealed record CapabilityUrl(string CaFingerprint, IReadOnlyList<CapabilityLocation> Locations, string Interface, string Secret)
{
    /// <summary>The URL scheme with its separator: <c>capcluster://</c>.</summary>
    public const string Prefix = "capcluster://";

    /// <summary>Parses a capability URL. Surrounding white space is ignored; everything else is strict (lowercase base32).</summary>
    /// <exception cref="FormatException">Says exactly what is wrong: scheme, fingerprint, locations, port, interface or secret.</exception>
    public static CapabilityUrl Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
            throw SecurityErrors.Url($"it must start with '{Prefix}'");
        var rest = text[Prefix.Length..];

        var at = rest.IndexOf('@');
        var slash = rest.IndexOf('/');
        if (at < 0 || slash >= 0 && slash < at)
            throw SecurityErrors.Url("no '<controller fingerprint>@' before the locations");
        var fingerprint = rest[..at];
        CheckBase32("controller fingerprint", fingerprint, CapabilityFingerprint.Length);
        rest = rest[(at + 1)..];

        slash = rest.IndexOf('/');
        var locationText = slash < 0 ? rest : rest[..slash];
        if (locationText.Length == 0)
            throw SecurityErrors.Url("no controller location (host:port) after '@'");
        var locations = locationText.Split(',').Select(CapabilityLocation.Parse).ToArray();
        if (slash < 0)
            throw SecurityErrors.Url("no '/<interface>/<secret>' after the locations");

        var path = rest[(slash + 1)..].Split('/');
        if (path.Length != 2)
            throw SecurityErrors.Url($"expected '/<interface>/<secret>' after the locations, found {path.Length} path segment(s)");
        var iface = path[0];
        if (!CapabilityInterfaces.IsKnown(iface))
            throw SecurityErrors.Url($"unknown interface '{iface}' (expected {string.Join(", ", CapabilityInterfaces.All)})");
        CheckBase32("secret", path[1], CapabilitySecret.Length);
        return new CapabilityUrl(fingerprint, locations, iface, path[1]);
    }

    private static void CheckBase32(string what, string value, int length)
    {
        if (value.Length != length)
            throw SecurityErrors.Url($"the {what} must be {length} base32 characters, found {value.Length}");
        var bad = Base32.FirstInvalid(value);
        if (bad >= 0)
            throw SecurityErrors.Url($"the {what} has '{value[bad]}' at position {bad + 1}, outside the base32 alphabet (a-z, 2-7)");
    }

    /// <summary>The URL text, as <see cref="Parse"/> reads it. It contains the secret: never log it.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Prefix).Append(CaFingerprint).Append('@');
        text.AppendJoin(',', Locations);
        return text.Append('/').Append(Interface).Append('/').Append(Secret).ToString();
    }

    /// <summary>The same capability reached at other <paramref name="locations"/> (for example after a port change).</summary>
    public CapabilityUrl WithLocations(IReadOnlyList<CapabilityLocation> locations)
    {
        ArgumentNullException.ThrowIfNull(locations);
        if (locations.Count == 0)
            throw new ArgumentException("a capability URL needs at least one location", nameof(locations));
        return this with { Locations = locations.ToArray() };
    }

    /// <summary>Value equality, comparing <see cref="Locations"/> element by element.</summary>
    public bool Equals(CapabilityUrl? other) =>
        other is not null
        && CaFingerprint == other.CaFingerprint
        && Interface == other.Interface
        && Secret == other.Secret
        && Locations.SequenceEqual(other.Locations);

    /// <summary>Hash consistent with <see cref="Equals(CapabilityUrl?)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(CaFingerprint);
        hash.Add(Interface);
        hash.Add(Secret);
        foreach (var location in Locations)
            hash.Add(location);
        return hash.ToHashCode();
    }
}
