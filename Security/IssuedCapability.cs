namespace CapCluster.Security;

/// <summary>A newly issued capability: the controller's record and the file to hand to its holder.</summary>
/// <param name="Record">What the registry stored.</param>
/// <param name="File">The capability file (the only place the secret exists).</param>
public sealed record IssuedCapability(CapabilityRecord Record, CapabilityFile File);
