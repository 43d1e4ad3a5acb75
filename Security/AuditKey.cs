using System.Security.Cryptography;
using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The key of the audit chain's HMAC-SHA256: 256 random bits in <c>audit.key</c> (hex) in the security folder,
/// created 0600 in one step. It lives with the CA key, not with the log, so whoever can edit the log folder
/// (or is handed a copy of the log) cannot recompute a chain that verifies.
/// </summary>
public sealed class AuditKey
{
    /// <summary>File name inside the security folder.</summary>
    public const string FileName = "audit.key";

    private readonly byte[] key;

    private AuditKey(byte[] key, string path)
    {
        this.key = key;
        FilePath = path;
    }

    /// <summary>The key file.</summary>
    public string FilePath { get; }

    /// <summary>The key file of a security folder.</summary>
    public static string PathIn(string securityFolder) => Path.Combine(Path.GetFullPath(securityFolder), FileName);

    /// <summary>Reads the key, creating it (0600) when the folder has none.</summary>
    /// <exception cref="CapClusterException">The key file cannot be read or created, or is not a key.</exception>
    public static AuditKey LoadOrCreate(string securityFolder)
    {
        var path = PathIn(securityFolder);
        if (TryLoad(securityFolder) is { } existing)
            return existing;
        var bytes = RandomNumberGenerator.GetBytes(32);
        try
        {
            SecureFile.CreateFolder(Path.GetDirectoryName(path)!);
            using var stream = new FileStream(path, SecureFile.CreateOptions(FileMode.CreateNew));
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(bytes) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it a moment ago: use that one.
            return TryLoad(securityFolder) ?? throw SecurityErrors.AuditKeyUnusable(path, "it is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SecurityErrors.AuditKeyUnusable(path, e.Message, e);
        }

        return new AuditKey(bytes, path);
    }

    /// <summary>Reads the key, or null when the security folder has none.</summary>
    /// <exception cref="CapClusterException">The key file exists but cannot be read or is not a key.</exception>
    public static AuditKey? TryLoad(string securityFolder)
    {
        var path = PathIn(securityFolder);
        string text;
        try
        {
            if (!File.Exists(path))
                return null;
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SecurityErrors.AuditKeyUnusable(path, e.Message, e);
        }

        if (text.Length != 64)
            throw SecurityErrors.AuditKeyUnusable(path, "it does not hold 64 hex digits");
        try
        {
            return new AuditKey(Convert.FromHexString(text), path);
        }
        catch (FormatException)
        {
            throw SecurityErrors.AuditKeyUnusable(path, "it does not hold 64 hex digits");
        }
    }

    /// <summary>Lowercase hex HMAC-SHA256 of <paramref name="text"/> (UTF-8) under this key.</summary>
    internal string Mac(string text) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));
}
