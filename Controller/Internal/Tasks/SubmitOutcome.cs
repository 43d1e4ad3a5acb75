using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// A batch's answers, in its order; what the audit log must say of the refusals among them; and when the accepted
/// ones are durable (null), or why they could not be made so (then they were dropped, and are to be answered refused).
/// </summary>
internal sealed record SubmitOutcome(IReadOnlyList<TaskAccepted> Accepted, IReadOnlyList<string> AuditedRefusals, Task<string?> Durable);
