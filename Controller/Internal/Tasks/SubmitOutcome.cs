using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>A batch's answers, in its order, and what the audit log must say of the refusals among them.</summary>
internal sealed record SubmitOutcome(IReadOnlyList<TaskAccepted> Accepted, IReadOnlyList<string> AuditedRefusals);
