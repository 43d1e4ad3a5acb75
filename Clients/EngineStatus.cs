namespace CapCluster.Client;

/// <summary>One registered engine as the controller sees it.</summary>
/// <param name="Id">Its engine id.</param>
/// <param name="Host">The host it runs on.</param>
/// <param name="Pid">Its process id there.</param>
/// <param name="State">What it is doing: idle, busy, ...</param>
/// <param name="Registered">When it registered with the controller.</param>
/// <param name="LastHeartbeat">When the controller last heard from it.</param>
/// <param name="QueueLength">Work waiting for it or running on it.</param>
/// <param name="Completed">Work items it finished since it registered.</param>
/// <param name="Cores">Its host's processor count.</param>
/// <param name="Version">CapCluster's version it runs.</param>
/// <param name="Properties">What tasks may require of it (<c>--property</c>).</param>
/// <param name="Serves">
/// The task capability whose tasks alone it runs (its engine capability serves it: <c>furlgen attenuate engine.cap
/// --serves</c>); it takes no MultiEngine work. Null for an engine everyone shares.
/// </param>
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
    IReadOnlyDictionary<string, string> Properties,
    string? Serves = null);
