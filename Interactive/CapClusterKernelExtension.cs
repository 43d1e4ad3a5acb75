using CapCluster.Interactive.Internal;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;

namespace CapCluster.Interactive;

/// <summary>
/// Loaded by dotnet-interactive from the package's interactive-extensions/dotnet folder: adds
/// <c>#!connect-cluster [--cap FILE]</c>, which connects with a multiengine capability and gives the
/// C# kernel the connected client as <c>mec</c>.
/// </summary>
public sealed class CapClusterKernelExtension : IKernelExtension
{
    /// <summary>Adds the directives to <paramref name="kernel"/> (the composite kernel of the notebook).</summary>
    public Task OnLoadAsync(Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var session = new NotebookCluster(kernel);
        var connect = new KernelActionDirective("#!connect-cluster")
        {
            Description = "Connect to a CapCluster controller with a multiengine capability and define mec",
            Parameters = { new KernelDirectiveParameter("--cap", "The multiengine .cap file (default: the security folder's multiengine.cap)") },
        };
        kernel.AddDirective<ConnectClusterCommand>(connect, session.ConnectAsync);
        return Task.CompletedTask;
    }
}
