namespace CapCluster.Security;

/// <summary>The result of <see cref="CapabilityRegistry.Check"/>.</summary>
/// <param name="Refusal"><see cref="CapabilityRefusal.None"/> when allowed.</param>
/// <param name="Reason">Why it was refused, for people (never contains the secret); <c>null</c> when allowed.</param>
/// <param name="Record">The capability's record when it is registered, else <c>null</c>.</param>
public sealed record CapabilityDecision(CapabilityRefusal Refusal, string? Reason, CapabilityRecord? Record)
{
    /// <summary>Whether the call may proceed.</summary>
    public bool Allowed => Refusal == CapabilityRefusal.None;
}
