using System.Globalization;

namespace CapCluster.Security.Internal;

/// <summary>
/// Every message the security library shows to people is built here, so wording stays consistent
/// and no secret can slip into one by accident (none of these methods takes a secret).
/// </summary>
internal static class SecurityErrors
{
    public const string CapabilityFileHint =
        "copy the file again from the controller's security folder, or ask the controller's owner for a new capability";

    public static string Iso(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // Capability files.
    public static string CapabilityFileMessage(string path, string problem) => $"{path}: {problem} ({CapabilityFileHint})";

    public static CapabilityFileException CapFile(string path, string problem, Exception? inner = null) => new(path, problem, inner);

    public const string CapFileMissing = "no such file";
    public const string CapFileNoUrl = "no capability URL line (capcluster://...) before the certificates";
    public const string CapFileFingerprintMismatch =
        "the URL's controller fingerprint does not match the CA certificate in the file (edited?)";
    public const string CapFileKeyMismatch = "the private key does not match the holder certificate";
    public const string CapFileNotSignedByCa = "the holder certificate was not issued by the CA certificate in the file";
    public const string CapFileNoCapability = "the holder certificate carries no capability";

    public static string CapFileUnreadable(string detail) => $"cannot read the file: {detail}";
    public static string CapFileBadUrl(string detail) => $"malformed capability URL: {detail}";
    public const string CapFileTwoUrls = "it holds two different capability URL lines; a capability file holds one (was it edited, or two files joined?)";
    public static string CapFileShared(string path, UnixFileMode mode) =>
        $"other users may read it (mode {Convert.ToString((int)mode, 8)}); a capability file is a secret, like an SSH private key: run `chmod 600 {path}`";
    public static string CapFileNotRegular(string kind) =>
        $"it is {kind}, not a regular file; give the path of the .cap file furlgen or the controller wrote (in the security folder, or where it was copied)";
    public static string CapFileTooLarge(int limit) => $"it is larger than {limit / 1024} KiB; a capability file is a few KiB (is this the right file?)";
    public static string CapFileBlockMissing(string what) => $"the {what} block is missing";
    public static string CapFileBlockTruncated(string what) => $"the {what} block is truncated or garbled (no valid BEGIN/END pair)";
    public static string CapFileGarbled(string what, string detail) => $"the {what} is garbled: {detail}";
    public static string CapFileUnexpectedBlock(string label) => $"unexpected PEM block '{label}'";
    public static string CapFileInterfaceMismatch(string urlInterface, string certInterface) =>
        $"the URL grants '{urlInterface}' but the holder certificate was issued for '{certInterface}' (edited?)";

    // A capability file's URL and holder certificate checked against the registry.
    public static string PairUnknownCertificate(string id) =>
        $"the holder certificate is for capability {id}, which this controller's registry does not hold (a file of another controller, or of a security folder made anew?)";

    public static string PairOtherCertificate(string id, string serial, string issuedSerial) =>
        $"the holder certificate (serial {serial}) is not the one issued for capability {id} (serial {issuedSerial}): the file's certificate was replaced; use the .cap file furlgen or the controller wrote";

    public static string PairOtherSecret(CapabilityRecord certificate, CapabilityRecord? url) =>
        url is null
            ? $"the URL's secret is not the one of capability {Named(certificate)}, whose holder certificate the file holds, nor of any other capability this controller issued: the URL was edited or comes from another controller"
            : $"the URL is capability {Named(url)}'s but the holder certificate is {Named(certificate)}'s: the file joins the parts of two capabilities; use the .cap file written for one of them";

    private static string Named(CapabilityRecord record) => record.Label is { } label ? $"{record.Id} ({label})" : record.Id;

    // Certificate authority.
    public static CapClusterException CaFileCorrupt(string path, string detail, Exception? inner = null) =>
        new($"{path}: the controller CA file is unusable: {detail}. Restore it from a backup; deleting ca.key and ca.crt " +
            "creates a new CA, which invalidates every capability issued so far", inner);

    public static CapClusterException CaKeyShared(string path, UnixFileMode mode) =>
        new($"{path} may be read by other users (mode {Convert.ToString((int)mode, 8)}): whoever reads the CA key can make any capability " +
            $"of this controller. Run `chmod 600 {path}` and `chmod 700 {Path.GetDirectoryName(path)}`; if others may have read it, move the " +
            "security folder aside instead, which makes a new CA and invalidates every capability issued so far");

    public static CapClusterException CaFileMissing(string path, string other) =>
        new($"{path} is missing but {other} exists. Restore it from a backup; deleting both creates a new CA, " +
            "which invalidates every capability issued so far");

    // Client certificate checks (reasons are read by people; they never contain secrets).
    public const string NoClientCertificate = "no client certificate was presented";
    public const string NotIssuedByCa = "the client certificate was not issued by this controller's CA";
    public const string NoCapabilityInCertificate = "the client certificate carries no capability";
    public const string NotForClientAuth = "the client certificate is not allowed for client authentication";

    public static string CertificateExpired(DateTimeOffset notAfter) => $"the client certificate expired at {Iso(notAfter)}";
    public static string CertificateNotYetValid(DateTimeOffset notBefore) =>
        $"the client certificate is not valid until {Iso(notBefore)} (check the clocks)";
    public static string CertificateChainInvalid(string status) => $"the client certificate chain is invalid: {status}";

    // Capability URLs.
    public static FormatException Url(string problem) => new($"invalid capability URL: {problem}");

    // Registry.
    public static string UnknownCapability(string id) => $"no capability {id} is registered with this controller";
    public static string Revoked(string id, DateTimeOffset? at) =>
        at is { } time ? $"capability {id} was revoked at {Iso(time)}" : $"capability {id} was revoked";
    public static string Expired(string id, DateTimeOffset at) => $"capability {id} expired at {Iso(at)}";
    public static string WrongInterface(string has, string service, string needs) =>
        $"this is a {has} capability; {service} needs a {needs} capability";
    public static string MethodNotAllowed(string id, string method) => $"capability {id} does not allow method {method}";
    public const string SecretMismatch = "the capability secret does not match";
    public const string SecretMissing = "no capability secret was presented";

    public static CapClusterException RegistryCorrupt(string path, string detail, Exception? inner = null) =>
        new($"{path}: the capability registry is unreadable: {detail}. Restore it from a backup; without it the " +
            "controller accepts no capability", inner);

    public static CapClusterException RegistryUnwritable(string path, Exception cause) =>
        new($"{path}: the capability registry cannot be locked for a change: {cause.Message.TrimEnd('.', ' ')}. Check that the security " +
            "folder is writable by this user and its disk is not full: issuing, attenuating, revoking and starting a controller all need it", cause);

    public static CapClusterException RegistryBusy(string path) =>
        new($"{path}: another process kept the capability registry locked for too long; try again");

    // Audit log.
    public static CapClusterException AuditDamaged(string path, int line, string detail) =>
        new($"{path}: line {line} of the audit log is damaged ({detail}); check it with 'furlgen audit --verify' " +
            "and move the file aside to start a new chain");

    public static CapClusterException AuditKeyUnusable(string path, string detail, Exception? inner = null) =>
        new($"{path}: the audit key is unusable: {detail}. Restore it from a backup; deleting it makes every existing " +
            "audit log unverifiable and the controller starts a new chain", inner);

    public static CapClusterException AuditLogInUse(string folder, int? pid) =>
        new($"{folder}: the audit log is already written by another process{(pid is { } p ? $" (pid {p})" : "")}; " +
            "stop that controller first (capcluster stop) or use another --profile or --log-folder");
}
