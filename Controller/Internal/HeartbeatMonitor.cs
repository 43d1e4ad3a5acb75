using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>Unregisters engines that stay silent longer than the allowed heartbeat misses.</summary>
internal sealed class HeartbeatMonitor(EngineRegistry registry, ControllerOptions options, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var allowed = options.HeartbeatPeriod * (options.AllowedHeartbeatMisses + 1);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(options.HeartbeatPeriod, time, cancellationToken).ConfigureAwait(false);
                var now = time.GetTimestamp();
                foreach (var session in registry.Snapshot())
                {
                    var silence = session.SilenceSince(now);
                    if (silence > allowed)
                    {
                        ControllerLog.HeartbeatsMissed(logger, session.Id, silence);
                        registry.Unregister(session, $"no heartbeat for {silence.TotalSeconds:0.0} s");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
