using System.Text.Json.Serialization;

namespace CapCluster.Security;

/// <summary>
/// One audit event: an accepted or refused connection, or a call-level refusal. Never holds a secret.
/// </summary>
/// <param name="Time">When it happened.</param>
/// <param name="RemoteAddress">The peer's address, when known.</param>
/// <param name="CertificateFingerprint">Lowercase hex SHA-256 of the client certificate, when one was presented.</param>
/// <param name="CapabilityId">The capability id, when known.</param>
/// <param name="Label">The capability's label, when it has one.</param>
/// <param name="Service">The gRPC service (or interface) called.</param>
/// <param name="Method">The method called.</param>
/// <param name="Outcome"><see cref="Accepted"/>, <see cref="Refused"/> or <see cref="Closed"/>.</param>
/// <param name="Reason">Why it was refused, when it was.</param>
/// <param name="Count">How many events this record stands for: refusals from one peer for one reason, and accepted calls
/// of one holder from one address, are aggregated over an interval into one record with their count (1 otherwise).</param>
public sealed record AuditRecord(
    DateTimeOffset Time,
    string? RemoteAddress,
    string? CertificateFingerprint,
    string? CapabilityId,
    string? Label,
    string? Service,
    string? Method,
    string Outcome,
    string? Reason,
    long Count = 1)
{
    /// <summary>The outcome of an accepted connection or call: "accepted".</summary>
    public const string Accepted = "accepted";

    /// <summary>The outcome of a refused connection or call: "refused".</summary>
    public const string Refused = "refused";

    /// <summary>The outcome when the controller closed an open connection of a revoked or expired capability: "closed".</summary>
    public const string Closed = "closed";

    /// <summary>The outcome of a record about the log itself (a log moved aside at start, an unreadable admin record): "notice".</summary>
    public const string Notice = "notice";

    /// <summary>The service of records of admin actions taken with furlgen (issue, attenuate, revoke, rotate): "furlgen".</summary>
    public const string AdminService = "furlgen";

    /// <summary>The service of records of what the controller does itself (it writes a new <c>.cap</c> file): "capcontroller".</summary>
    public const string ControllerService = "capcontroller";

    /// <summary>Whether an operator's action made this record (furlgen's, or the controller's own), not a peer: it is never a use of the capability it names.</summary>
    [JsonIgnore]
    public bool ByOperator => Service is AdminService or ControllerService;
}
