using System.Text.Json;
using System.Text.Json.Serialization;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// What the controller knows of its audit log apart from the log itself, kept in the security folder
/// (<c>audit.anchor</c>, replaced atomically after every record): the last seq and MAC written, the log's path and
/// its file identity (device and inode), and the record the live file continues from (the end of the newest sealed
/// segment). Against it, <see cref="AuditLog.Verify(string, string)"/> tells a cut tail
/// and a swapped file from an intact log. It is a file of its own, not a field of <c>controller.json</c>, because it
/// changes with every record while the state file is written once per start by other parts of the controller.
/// </summary>
/// <param name="Seq">The seq of the last record written (0 before the first).</param>
/// <param name="Mac">That record's MAC (64 zeros before the first).</param>
/// <param name="LogPath">The full path of the log.</param>
/// <param name="FileId">"major:minor:inode" of the log file, when the platform tells it.</param>
/// <param name="BaseSeq">The seq the live file continues from: the last record of the newest sealed segment (0 before the first seal).</param>
/// <param name="BaseMac">That record's MAC (null before the first seal: the chain starts from 64 zeros).</param>
public sealed record AuditAnchor(long Seq, string Mac, string LogPath, string? FileId, long BaseSeq = 0, string? BaseMac = null)
{
    /// <summary>File name inside the security folder.</summary>
    public const string FileName = "audit.anchor";

    /// <summary>The anchor file of a security folder.</summary>
    public static string PathIn(string securityFolder) => Path.Combine(Path.GetFullPath(securityFolder), FileName);

    /// <summary>Reads the anchor, or null when no controller wrote one in this folder.</summary>
    /// <exception cref="CapClusterException">The file exists but is not an anchor.</exception>
    public static AuditAnchor? TryRead(string securityFolder)
    {
        var path = PathIn(securityFolder);
        try
        {
            if (!File.Exists(path))
                return null;
            var anchor = JsonSerializer.Deserialize(File.ReadAllText(path), AuditAnchorJson.Default.AuditAnchor);
            if (anchor is null || anchor.Seq < 0 || anchor.Mac is null || anchor.LogPath is null || anchor.BaseSeq < 0 || anchor.BaseSeq > anchor.Seq)
                throw new JsonException("missing fields");
            return anchor;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new CapClusterException($"{path}: the audit anchor is unreadable ({e.Message}); the audit log cannot be checked against it", e);
        }
    }

    /// <summary>Replaces the anchor file atomically (0600).</summary>
    public void Write(string securityFolder) => SecureFile.WriteAtomic(PathIn(securityFolder), JsonSerializer.Serialize(this, AuditAnchorJson.Default.AuditAnchor));
}
