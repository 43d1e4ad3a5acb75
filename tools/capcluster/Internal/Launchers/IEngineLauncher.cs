namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// One way of starting engines once the controller is ready (local processes, mpirun, a
/// batch job, ssh). <see cref="ClusterStarter"/> calls every launcher the same way and then
/// waits for the engines it reports to register.
/// </summary>
internal interface IEngineLauncher
{
    /// <summary>
    /// Whether the engines can start beside a controller still starting (<see cref="StartOptions.ControllerPid"/>): they
    /// run on this machine, where they can see its state file appear, and so their start-up overlaps the controller's.
    /// </summary>
    bool StartsBesideController => false;

    /// <summary>Starts the engines; returns what to watch and what to tell the user if they do not come.</summary>
    Task<LaunchedEngines> LaunchAsync(StartOptions options, CancellationToken cancellationToken);

    /// <summary>Undoes what <see cref="LaunchAsync"/> left behind that killing the watched processes does not (a queued job).</summary>
    Task CleanUpAsync(ClusterRecord record, CancellationToken cancellationToken);
}
