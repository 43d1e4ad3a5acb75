using Microsoft.DotNet.Interactive.Commands;

namespace CapCluster.Interactive.Internal;

/// <summary><c>#!connect-cluster [--cap-file FILE | --cap FILE] [--profile NAME]</c> as parsed by the kernel.</summary>
internal sealed class ConnectClusterCommand : KernelDirectiveCommand
{
    /// <summary>The --cap value, or null for the security folder's multiengine.cap.</summary>
    public string? Cap { get; set; }

    /// <summary>The --cap-file value: the same as --cap (the name the console and the launcher use).</summary>
    public string? CapFile { get; set; }

    /// <summary>The --profile value: the security folder of that profile (~/.capcluster/profile_NAME).</summary>
    public string? Profile { get; set; }
}
