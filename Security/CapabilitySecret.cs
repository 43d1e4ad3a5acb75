using System.Security.Cryptography;
using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The secret part of a capability URL: 256 random bits, kept only as a hash by the controller.
/// </summary>
public static class CapabilitySecret
{
    /// <summary>Length of a secret in characters (52).</summary>
    public const int Length = 52;

    /// <summary>A fresh secret: 32 bytes from <see cref="RandomNumberGenerator"/>, base32 lowercase, no padding.</summary>
    public static string Create() => Base32.Random(32);

    /// <summary>Lowercase hex SHA-256 of the UTF-8 secret; this is what the registry stores.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>
    /// Whether <paramref name="presentedSecret"/> hashes to <paramref name="expectedHash"/>, compared in constant time.
    /// </summary>
    public static bool Matches(string presentedSecret, string expectedHash)
    {
        ArgumentNullException.ThrowIfNull(presentedSecret);
        ArgumentNullException.ThrowIfNull(expectedHash);
        var presented = Encoding.ASCII.GetBytes(Hash(presentedSecret));
        var expected = Encoding.ASCII.GetBytes(expectedHash.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }
}
