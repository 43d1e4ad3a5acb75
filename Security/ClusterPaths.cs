using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// Where a cluster keeps its security material and logs.
/// </summary>
/// <param name="BaseFolder">The cluster folder: <c>~/.capcluster</c> (or <c>$CAPCLUSTER_DIR</c>), or <c>profile_NAME</c> under it.</param>
/// <param name="SecurityFolder">CA, capability files, registry; by default <c>&lt;base&gt;/security</c>.</param>
/// <param name="LogFolder">Component logs and the audit log; by default <c>&lt;base&gt;/log</c>.</param>
public sealed record ClusterPaths(string BaseFolder, string SecurityFolder, string LogFolder)
{
    /// <summary>The environment variable that replaces <c>~/.capcluster</c> as the base folder.</summary>
    public const string BaseFolderVariable = "CAPCLUSTER_DIR";

    /// <summary>
    /// Resolves the folders. The base is <c>$CAPCLUSTER_DIR</c> when set, otherwise <c>~/.capcluster</c>;
    /// a <paramref name="profile"/> NAME moves it to <c>&lt;base&gt;/profile_NAME</c>. Explicit folders win.
    /// </summary>
    /// <param name="profile">Profile name, or <c>null</c> (default) for none. Must not contain path separators.</param>
    /// <param name="securityFolder">Overrides <c>&lt;base&gt;/security</c> when not <c>null</c>.</param>
    /// <param name="logFolder">Overrides <c>&lt;base&gt;/log</c> when not <c>null</c>.</param>
    public static ClusterPaths Resolve(string? profile = null, string? securityFolder = null, string? logFolder = null) =>
        Resolve(profile, securityFolder, logFolder,
            Environment.GetEnvironmentVariable(BaseFolderVariable),
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The folders of <paramref name="profile"/> under an explicit base folder instead of <c>$CAPCLUSTER_DIR</c> or <c>~/.capcluster</c>.</summary>
    public static ClusterPaths Under(string baseFolder, string? profile = null) =>
        Resolve(profile, null, null, baseFolder, baseFolder);

    internal static ClusterPaths Resolve(string? profile, string? securityFolder, string? logFolder, string? baseOverride, string home)
    {
        var root = string.IsNullOrEmpty(baseOverride) ? Path.Combine(home, ".capcluster") : baseOverride;
        if (profile is not null)
        {
            if (!IsProfileName(profile))
                throw new ArgumentException($"'{profile}' is not a usable profile name (no path separators)", nameof(profile));
            root = Path.Combine(root, "profile_" + profile);
        }
        root = Path.GetFullPath(root);
        return new ClusterPaths(
            root,
            Path.GetFullPath(securityFolder ?? Path.Combine(root, "security")),
            Path.GetFullPath(logFolder ?? Path.Combine(root, "log")));
    }

    /// <summary>Whether <paramref name="name"/> can name a profile: not empty, no path separator, not <c>.</c> or <c>..</c>.</summary>
    public static bool IsProfileName(string name) =>
        name.Length > 0 && name.IndexOfAny(['/', '\\']) < 0 && name is not ("." or "..");

    /// <summary>The capability file for <paramref name="iface"/>: <c>&lt;security&gt;/&lt;iface&gt;.cap</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="iface"/> is not a known interface.</exception>
    public string CapFile(string iface)
    {
        _ = CapabilityInterfaces.ServiceName(iface);
        return Path.Combine(SecurityFolder, iface + ".cap");
    }

    /// <summary>The hash-chained audit log: <c>&lt;log&gt;/audit.jsonl</c>.</summary>
    public string AuditLogFile => Path.Combine(LogFolder, "audit.jsonl");

    /// <summary>Creates the security and log folders with mode 0700; folders that exist are left as they are.</summary>
    public void EnsureCreated()
    {
        SecureFile.CreateFolder(SecurityFolder);
        SecureFile.CreateFolder(LogFolder);
    }

    /// <summary>Creates both folders and checks that a file can be written in each (and is removed again).</summary>
    /// <exception cref="IOException">One of them is read-only or full; the message names the file tried.</exception>
    /// <exception cref="UnauthorizedAccessException">This user may not write one of them.</exception>
    public void EnsureWritable()
    {
        EnsureCreated();
        foreach (var folder in new[] { SecurityFolder, LogFolder })
        {
            var probe = Path.Combine(folder, $".writable-{Environment.ProcessId}");
            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
    }
}
