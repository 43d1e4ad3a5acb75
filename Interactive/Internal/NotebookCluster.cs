using CapCluster.Client;
using CapCluster.Security;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;

namespace CapCluster.Interactive.Internal;

/// <summary>The notebook's one connection to a cluster, replaced by each successful #!connect-cluster.</summary>
internal sealed class NotebookCluster(Kernel root)
{
    /// <summary>How to start a cluster, appended when no capability file was found.</summary>
    internal const string StartHint = "Start a cluster with `capcluster start -n 4`, or pass --cap with the path of a multiengine.cap.";

    private MultiEngineClient? client;

    public async Task ConnectAsync(ConnectClusterCommand command, KernelInvocationContext context)
    {
        MultiEngineClient connected;
        try
        {
            connected = await MultiEngineClient.ConnectAsync(command.Cap, context.CancellationToken).ConfigureAwait(false);
        }
        catch (CapabilityNotFoundException e)
        {
            context.Fail(command, message: $"#!connect-cluster: no cluster: {e.Message} {StartHint}");
            return;
        }
        catch (CapClusterException e)
        {
            context.Fail(command, message: $"#!connect-cluster: {e.Message}");
            return;
        }

        if (root.FindKernelByName("csharp") is not CSharpKernel csharp)
        {
            await connected.DisposeAsync().ConfigureAwait(false);
            context.Fail(command, message: "#!connect-cluster: this notebook has no C# kernel to give mec to");
            return;
        }

        var previous = client;
        client = connected;
        await csharp.SetValueAsync("mec", connected, typeof(MultiEngineClient)).ConfigureAwait(false);
        if (previous is not null)
        {
            await previous.DisposeAsync().ConfigureAwait(false);
        }

        var ids = await connected.GetIdsAsync(context.CancellationToken).ConfigureAwait(false);
        KernelInvocationContextExtensions.Display(
            context,
            $"Connected with {connected.CapabilityPath}: {ids.Count} engine(s) [{string.Join(", ", ids)}]; the client is mec.",
            "text/plain");
    }
}
