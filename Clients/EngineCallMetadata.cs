namespace CapCluster.Client;

/// <summary>When and where one engine ran a call, and what it printed.</summary>
public sealed record EngineCallMetadata(int EngineId, DateTimeOffset Submitted, DateTimeOffset? Started, DateTimeOffset? Completed, string Stdout, string Stderr);
