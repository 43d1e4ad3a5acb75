using CapCluster.Security;

namespace CapCluster.Engine.Internal;

/// <summary>
/// <c>--controller-pid</c>: an engine started beside a controller that is still starting (as <c>capcluster start</c>
/// does, so that the two start-ups overlap) waits until that controller has written its state file. The controller
/// writes it after the capability files, so the <c>engine.cap</c> read next names the new controller's port, not the
/// last one's.
/// </summary>
internal static class ControllerStart
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    // Whether the controller still runs is a read of /proc; once per this many polls is enough.
    private const int LivenessEvery = 10;

    /// <summary>Returns once the controller <paramref name="pid"/> is ready in <paramref name="securityFolder"/>.</summary>
    /// <exception cref="CapClusterException">It exited first, or was not ready within <paramref name="timeout"/>.</exception>
    public static async Task WaitAsync(string securityFolder, int pid, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var began = time.GetTimestamp();
        for (var poll = 0; ; poll++)
        {
            if (ControllerState.TryReadNow(securityFolder)?.Pid == pid)
            {
                return;
            }

            if (poll % LivenessEvery == 0 && !LiveProcess.IsRunning(pid, "capcontroller"))
            {
                // It may have written its state and exited since the read above: an exit after readiness is the engine's
                // ordinary reconnection business, not a failed start.
                if (ControllerState.TryReadNow(securityFolder)?.Pid == pid)
                {
                    return;
                }

                throw new CapClusterException(
                    $"--controller-pid {pid}: that controller is not running and never wrote {ControllerState.PathIn(securityFolder)}; " +
                    "read its log (capcluster logs) or start the engine without --controller-pid");
            }

            if (time.GetElapsedTime(began) > timeout)
            {
                throw new CapClusterException(
                    $"--controller-pid {pid}: the controller did not write {ControllerState.PathIn(securityFolder)} within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
