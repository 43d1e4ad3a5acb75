using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>A task failed or was aborted; <see cref="Outcome"/> has the details.</summary>
public sealed class TaskFailedException(TaskOutcome outcome)
    : CapClusterException(outcome.ToString(), outcome.Error)
{
    /// <summary>The task's result.</summary>
    public TaskOutcome Outcome { get; } = outcome;
}
