namespace CapCluster.Security;

/// <summary>
/// What the controller remembers about a capability it issued. It holds the secret's hash, never the secret.
/// </summary>
/// <param name="Id">The capability id, <c>cap_</c> plus 16 base32 characters.</param>
/// <param name="Interface">The interface granted.</param>
/// <param name="Label">Who or what it was issued to, or <c>null</c>.</param>
/// <param name="Created">When it was issued.</param>
/// <param name="Expires">When it stops working, or <c>null</c> for never.</param>
/// <param name="SecretHash"><see cref="CapabilitySecret.Hash"/> of the secret.</param>
/// <param name="CertificateSerial">The holder certificate's serial number (hex).</param>
/// <param name="Revoked">Whether it was revoked.</param>
/// <param name="ParentId">The capability it was derived (attenuated) from, or <c>null</c> (default).</param>
/// <param name="AllowedMethods">The only methods it may call, or <c>null</c> (default) for all methods of its interface.</param>
/// <param name="MaxTasks">A task quota for the controller to enforce, or <c>null</c> (default) for none.</param>
/// <param name="RevokedAt">When it was revoked, or <c>null</c> (default).</param>
/// <param name="OwnEngines">
/// A task capability whose tasks (and those of capabilities derived from it) run only on engines that serve it or one
/// derived from it (<paramref name="Serves"/>), never on the engines others share; <c>false</c> (default).
/// </param>
/// <param name="Serves">
/// An engine capability whose engines run only the tasks of this task capability and of those derived from it, and no
/// MultiEngine work; <c>null</c> (default) for engines everyone shares.
/// </param>
public sealed record CapabilityRecord(
    string Id,
    string Interface,
    string? Label,
    DateTimeOffset Created,
    DateTimeOffset? Expires,
    string SecretHash,
    string CertificateSerial,
    bool Revoked,
    string? ParentId = null,
    IReadOnlyList<string>? AllowedMethods = null,
    long? MaxTasks = null,
    DateTimeOffset? RevokedAt = null,
    bool OwnEngines = false,
    string? Serves = null);
