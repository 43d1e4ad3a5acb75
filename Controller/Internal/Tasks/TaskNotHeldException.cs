namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// A task id the caller may not use. <see cref="Exception.Message"/> is what the caller is told, the same whether the
/// task is another holder's, cleared or never issued; <see cref="AuditReason"/> is what the audit log records.
/// </summary>
internal sealed class TaskNotHeldException(string message, string auditReason) : Exception(message)
{
    public string AuditReason { get; } = auditReason;
}
