using CapCluster.Client;
using CapCluster.Interactive.Internal;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Directives;

namespace CapCluster.Interactive;

/// <summary>
/// Loaded by dotnet-interactive from the package's interactive-extensions/dotnet folder: adds
/// <c>#!connect-cluster</c>, <c>#!px</c>, <c>#!autopx</c>, <c>#!pxconfig</c>, <c>#!result</c> and <c>#!cluster</c>, and the
/// formatters that show execute results and remote errors as text and as HTML tables.
/// </summary>
public sealed class CapClusterKernelExtension : IKernelExtension
{
    /// <summary>Adds the directives to <paramref name="kernel"/> (the composite kernel of the notebook).</summary>
    public Task OnLoadAsync(Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var session = new NotebookCluster(kernel);
        kernel.RegisterForDisposal(session);
        var magics = new ParallelMagics(session);
        var monitor = new ClusterMonitor(session, TimeProvider.System);
        PxFormatting.Register();

        kernel.AddDirective<ConnectClusterCommand>(
            new KernelActionDirective("#!connect-cluster")
            {
                Description = "Connect to a CapCluster controller and define mec (and tc when task.cap is there)",
                Parameters =
                {
                    new KernelDirectiveParameter("--cap-file", "The multiengine .cap file (default: the security folder's multiengine.cap)"),
                    new KernelDirectiveParameter("--cap", "The same as --cap-file"),
                    new KernelDirectiveParameter("--profile", "Use the security folder of this profile (~/.capcluster/profile_NAME)"),
                },
            },
            Guard.Handler<ConnectClusterCommand>("#!connect-cluster", session.ConnectAsync));
        kernel.AddDirective<PxCommand>(
            new KernelActionDirective("#!px")
            {
                Description = "Run the rest of the cell on the engines",
                Parameters =
                {
                    new KernelDirectiveParameter("--targets", "Engine ids such as 0,2, or all (default: #!pxconfig's targets, all engines)"),
                    new KernelDirectiveParameter("--noblock", "Return at once; #!result shows the output") { Flag = true },
                },
            },
            Guard.Handler<PxCommand>("#!px", magics.PxAsync));
        kernel.AddDirective<AutoPxCommand>(
            new KernelActionDirective("#!autopx") { Description = "Toggle running every following C# cell on the engines" },
            Guard.Handler<AutoPxCommand>("#!autopx", magics.AutoPxAsync));
        kernel.AddDirective<PxConfigCommand>(
            new KernelActionDirective("#!pxconfig")
            {
                Description = "Set the default targets of #!px",
                Parameters = { new KernelDirectiveParameter("--targets", "Engine ids such as 0,2, or all") },
            },
            Guard.Handler<PxConfigCommand>("#!pxconfig", magics.PxConfigAsync));
        kernel.AddDirective<ResultCommand>(
            new KernelActionDirective("#!result")
            {
                Description = "Show the last #!px call again, or execution ID (the N of Out[N]) from the engines",
                Parameters = { new KernelDirectiveParameter("--id", "The execution number") { AllowImplicitName = true } },
            },
            Guard.Handler<ResultCommand>("#!result", magics.ResultAsync));

        kernel.AddDirective<ClusterCommand>(
            new KernelActionDirective("#!cluster")
            {
                Description = "Show the engines and queues; refreshed in place while the rest of the cell runs",
                Parameters = { new KernelDirectiveParameter("--refresh", "Seconds between refreshes (default 1)") },
            },
            Guard.Handler<ClusterCommand>("#!cluster", monitor.ShowAsync));

        if (kernel.FindKernelByName("csharp") is CSharpKernel csharp)
        {
            // mec and tc are typed: the C# kernel must reference the client wherever the extension came from.
            csharp.AddAssemblyReferences([typeof(MultiEngineClient).Assembly.Location, typeof(CapClusterKernelExtension).Assembly.Location]);
            csharp.AddMiddleware(monitor.InterceptAsync);
            csharp.AddMiddleware(magics.InterceptAsync);
            var cells = new CellImages(csharp);
            kernel.RegisterForDisposal(cells);
            csharp.AddMiddleware(cells.InterceptAsync);
        }

        return Task.CompletedTask;
    }
}
