namespace CapCluster.Interactive.Internal;

/// <summary>The extension's limits and periods, with their defaults.</summary>
internal static class NotebookOptions
{
    /// <summary>How often #!cluster refreshes while its cell runs, unless --refresh says otherwise. Default 1 s.</summary>
    public static readonly TimeSpan ClusterRefreshPeriod = TimeSpan.FromSeconds(1);

    /// <summary>The shortest --refresh accepted, so that a monitor cannot flood the controller. Default 0.1 s.</summary>
    public static readonly TimeSpan MinimumRefreshPeriod = TimeSpan.FromSeconds(0.1);

    /// <summary>The longest --refresh accepted. Default 1 hour.</summary>
    public static readonly TimeSpan MaximumRefreshPeriod = TimeSpan.FromHours(1);

    /// <summary>The most tasks one timeline draws (a larger set is refused with a message). Default 5000.</summary>
    public const int MaximumTimelineTasks = 5000;
}
