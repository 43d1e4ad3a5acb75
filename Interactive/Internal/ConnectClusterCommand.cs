using Microsoft.DotNet.Interactive.Commands;

namespace CapCluster.Interactive.Internal;

/// <summary><c>#!connect-cluster [--cap FILE]</c> as parsed by the kernel.</summary>
internal sealed class ConnectClusterCommand : KernelDirectiveCommand
{
    /// <summary>The --cap value, or null for the default security folder's multiengine.cap.</summary>
    public string? Cap { get; set; }
}
