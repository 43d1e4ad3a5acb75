namespace CapCluster.Client;

/// <summary>One registered engine as the controller sees it.</summary>
public sealed record EngineStatus(
    int Id,
    string Host,
    int Pid,
    string State,
    DateTimeOffset Registered,
    DateTimeOffset LastHeartbeat,
    int QueueLength,
    long Completed,
    int Cores,
    string Version,
    IReadOnlyDictionary<string, string> Properties);
