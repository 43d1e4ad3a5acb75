using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// What was worked out for one spec, kept while the tasks that follow have that same spec object: a run of tasks sent
/// with <c>same_spec_as</c> shares one, so it is checked, taken in, sized, encoded and sent once a run, not once a task.
/// </summary>
internal struct SpecRun<T>
{
    private TaskSpec? spec;

    /// <summary>What was worked out for the run's spec (the caller sets it when <see cref="StartsWith"/> is true).</summary>
    public T Value { get; set; }

    /// <summary>True when <paramref name="next"/> is not the run's spec: a new run starts with it, and <see cref="Value"/> is to be worked out.</summary>
    public bool StartsWith(TaskSpec next)
    {
        if (ReferenceEquals(next, spec))
        {
            return false;
        }

        spec = next;
        return true;
    }
}
