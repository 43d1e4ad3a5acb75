using CapCluster.Client;

namespace CapCluster.Repl;

/// <summary>A call the console made on several engines: one task per engine, so each answer prints as it arrives.</summary>
internal sealed record PxCall(string What, IReadOnlyList<(int EngineId, Task<ExecuteResults> Answer)> Calls);
