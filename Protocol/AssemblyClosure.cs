using System.Buffers;
using System.Security.Cryptography;

namespace CapCluster.Protocol;

/// <summary>
/// The id of a shipped delegate's assemblies (its declaring assembly, then every assembly it needs): the
/// lowercase hex SHA-256 of their image hashes, in order, each lowercase and followed by a newline. A task
/// names its assemblies by this one id, and whoever lists them under it (client to controller, controller to
/// engine) is checked against it, so no one can make an id stand for assemblies other than the ones it hashes.
/// </summary>
public static class AssemblyClosure
{
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>The id of the assemblies with image hashes <paramref name="hashes"/>, in that order.</summary>
    /// <exception cref="ArgumentException">A hash is not 64 hex digits.</exception>
    public static string Id(IEnumerable<string> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> line = stackalloc byte[65];
        line[64] = (byte)'\n';
        foreach (var hash in hashes)
        {
            if (!IsHash(hash))
                throw new ArgumentException($"'{Shown(hash)}' is not a SHA-256 image hash (64 hex digits)", nameof(hashes));
            for (var i = 0; i < 64; i++)
                line[i] = (byte)char.ToLowerInvariant(hash[i]);
            sha.AppendData(line);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>True when <paramref name="text"/> is 64 hex digits, as an image hash and a closure id are.</summary>
    public static bool IsHash(string? text) => text is { Length: 64 } && !text.AsSpan().ContainsAnyExcept(HexDigits);

    /// <summary><paramref name="text"/> as an error message may show it: at most 64 characters.</summary>
    public static string Shown(string? text) => text is null ? "(none)" : text.Length <= 64 ? text : text[..64] + "...";
}
