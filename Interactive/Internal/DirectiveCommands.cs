using Microsoft.DotNet.Interactive.Commands;

namespace CapCluster.Interactive.Internal;

/// <summary><c>#!px [--targets 0,2|all] [--noblock]</c>: the rest of the cell runs on the engines.</summary>
internal sealed class PxCommand : KernelDirectiveCommand
{
    /// <summary>The --targets value, or null for the notebook's default targets.</summary>
    public string? Targets { get; set; }

    /// <summary>True to return at once with a handle instead of waiting for the engines.</summary>
    public bool NoBlock { get; set; }
}

/// <summary><c>#!result [ID]</c>: shows the last #!px call again, or execution ID from the engines' history.</summary>
internal sealed class ResultCommand : KernelDirectiveCommand
{
    /// <summary>The execution number (the N of Out[N]), or null for the last #!px call.</summary>
    public string? Id { get; set; }
}

/// <summary><c>#!autopx</c>: toggles running every following C# cell on the engines.</summary>
internal sealed class AutoPxCommand : KernelDirectiveCommand;

/// <summary><c>#!pxconfig [--targets 0,2|all]</c>: sets (or shows) the default targets of #!px.</summary>
internal sealed class PxConfigCommand : KernelDirectiveCommand
{
    /// <summary>The new default targets, or null to show the current ones.</summary>
    public string? Targets { get; set; }
}

/// <summary><c>#!cluster [--refresh SECONDS]</c>: the engines and queues, refreshed in place while the rest of the cell runs.</summary>
internal sealed class ClusterCommand : KernelDirectiveCommand
{
    /// <summary>Seconds between refreshes, or null for <see cref="NotebookOptions.ClusterRefreshPeriod"/>.</summary>
    public string? Refresh { get; set; }
}
