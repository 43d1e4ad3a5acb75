using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Picks up changes furlgen makes to the registry file (attenuated capabilities, revocations) while the
/// controller runs: every <c>period</c> it re-reads the file if it changed, then has the gate close the open
/// connections of capabilities that are revoked or expired. With 250 ms, a revocation takes effect well within 1 s.
/// </summary>
internal sealed class RegistryWatcher(CapabilityRegistry registry, CapabilityGate gate, TimeSpan period, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    internal void Tick()
    {
        try
        {
            if (registry.ReloadIfChanged())
            {
                ControllerLog.RegistryReloaded(logger);
            }
        }
        catch (Exception e) when (e is CapClusterException or IOException or UnauthorizedAccessException)
        {
            ControllerLog.RegistryReloadFailed(logger, e);
        }

        // Also when nothing changed on disk: expiry happens with time alone.
        gate.CloseConnectionsOfDeadCapabilities();
    }
}
