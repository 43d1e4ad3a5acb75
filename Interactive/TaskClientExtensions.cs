using CapCluster.Client;
using CapCluster.Interactive.Internal;

namespace CapCluster.Interactive;

/// <summary>Notebook views of a <see cref="TaskClient"/>'s tasks.</summary>
public static class TaskClientExtensions
{
    /// <summary>
    /// Waits for the tasks <paramref name="taskIds"/> (like <see cref="TaskClient.BarrierAsync"/>) and returns their
    /// timeline, which a notebook shows as an SVG. At most 5000 tasks (more are refused with an
    /// <see cref="ArgumentException"/>): a picture of more says little and weighs a lot.
    /// </summary>
    public static async Task<TaskTimeline> Timeline(this TaskClient client, IEnumerable<long> taskIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(taskIds);
        var ids = taskIds.ToList();
        if (ids.Count > NotebookOptions.MaximumTimelineTasks)
        {
            throw new ArgumentException($"Timeline: {ids.Count} tasks is more than the {NotebookOptions.MaximumTimelineTasks} one timeline draws; pass a slice of them", nameof(taskIds));
        }

        var outcomes = await client.BarrierAsync(ids, cancellationToken: cancellationToken).ConfigureAwait(false);
        return TaskTimeline.From(outcomes);
    }
}
