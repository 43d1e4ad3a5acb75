namespace CapCluster.Controller.Internal.Tasks;

/// <summary>What a task's attempts have used so far, as the journal keeps it for a restart.</summary>
/// <param name="Attempts">Attempts made, its recovery task's included.</param>
/// <param name="EngineLosses">Engines lost while they ran it (see <see cref="TaskFarmOptions.MaxEngineLosses"/>).</param>
/// <param name="Recovering">Its retries are used up and its recovery task is what runs.</param>
internal readonly record struct AttemptCounts(int Attempts, int EngineLosses, bool Recovering);
