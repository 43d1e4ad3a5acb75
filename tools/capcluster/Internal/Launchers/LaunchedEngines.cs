using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>What a launcher started.</summary>
/// <param name="Expected">How many engines should register.</param>
/// <param name="Watched">Local processes whose early exit means the engines will not come (empty for a batch job or ssh).</param>
/// <param name="Ours">Which registered engines count: all of them unless the launcher can tell its own apart.</param>
/// <param name="TimeoutHint">What to read when the engines do not come: a log, or the job id and its script.</param>
/// <param name="JobId">The batch system's job id, recorded so that <c>stop</c> can cancel the job.</param>
internal sealed record LaunchedEngines(
    int Expected,
    IReadOnlyList<Process> Watched,
    Func<EngineStatus, bool> Ours,
    string TimeoutHint,
    string? JobId = null) : IDisposable
{
    /// <summary>
    /// Where the engines report their registration themselves (engines on this machine); null when only the
    /// controller can tell (<see cref="Ours"/> then picks them out of its engines).
    /// </summary>
    public RegistrationPipe? Registrations { get; init; }

    public void Dispose() => Registrations?.Dispose();
}
