using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// One place a controller listens: a DNS name, an IPv4 address or an IPv6 address, and a port.
/// </summary>
/// <param name="Host">The host without brackets (an IPv6 address is stored as <c>::1</c>, written as <c>[::1]</c>).</param>
/// <param name="Port">TCP port, 1–65535.</param>
public sealed record CapabilityLocation(string Host, int Port)
{
    /// <summary><c>host:port</c>, with an IPv6 host in brackets: <c>[::1]:5000</c>.</summary>
    public override string ToString() =>
        (Host.Contains(':') ? $"[{Host}]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>host:port</c> or <c>[ipv6]:port</c>.</summary>
    /// <exception cref="FormatException">The text is not a host and a port; the message says what is wrong.</exception>
    public static CapabilityLocation Parse(string hostPort)
    {
        ArgumentNullException.ThrowIfNull(hostPort);
        if (hostPort.Length == 0)
            throw SecurityErrors.Url("empty location (expected host:port)");
        string host;
        string port;
        if (hostPort[0] == '[')
        {
            var close = hostPort.IndexOf(']');
            if (close < 0)
                throw SecurityErrors.Url($"location '{hostPort}' opens '[' without closing it");
            host = hostPort[1..close];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                throw SecurityErrors.Url($"location '{hostPort}': '{host}' in brackets is not an IPv6 address");
            if (close + 1 >= hostPort.Length || hostPort[close + 1] != ':')
                throw SecurityErrors.Url($"location '{hostPort}' has no port (expected [address]:port)");
            port = hostPort[(close + 2)..];
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            if (colon < 0)
                throw SecurityErrors.Url($"location '{hostPort}' has no port (expected host:port)");
            host = hostPort[..colon];
            port = hostPort[(colon + 1)..];
            if (host.Contains(':'))
                throw SecurityErrors.Url($"location '{hostPort}': an IPv6 address must be in brackets, e.g. [::1]:5000");
            if (host.Length == 0)
                throw SecurityErrors.Url($"location '{hostPort}' has no host");
            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
                throw SecurityErrors.Url($"location '{hostPort}': '{host}' is not a valid host name or IPv4 address");
        }
        if (port.Length == 0 || port.Length > 5 || !port.All(char.IsAsciiDigit)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            throw SecurityErrors.Url($"location '{hostPort}': port '{port}' is not a number from 1 to 65535");
        return new CapabilityLocation(host, number);
    }
}
