using CapCluster.Connection;
using CapCluster.Protocol;
using CapCluster.Security;
using Grpc.Core;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;

namespace CapCluster.Interactive.Internal;

/// <summary>Turns what the cluster answers with (a lost controller, a refusal, an interrupted wait) into one line in the cell, never a stack trace.</summary>
internal static class Guard
{
    public static Func<T, KernelInvocationContext, Task> Handler<T>(string directive, Func<T, KernelInvocationContext, Task> handler)
        where T : KernelCommand =>
        (command, context) => RunAsync(directive, command, context, () => handler(command, context));

    public static async Task RunAsync(string directive, KernelCommand command, KernelInvocationContext context, Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            context.Fail(command, message: $"{directive}: interrupted");
        }
        catch (Exception e) when (e is CapClusterException or RpcException)
        {
            context.Fail(command, message: Describe(directive, e));
        }
    }

    /// <summary>
    /// The cell's one paragraph for a failure of the cluster: for a controller that does not answer, which one, from which
    /// .cap, how to start it and that the cell then runs again (the notebook's client reconnects by itself); otherwise the
    /// error's own message.
    /// </summary>
    public static string Describe(string directive, Exception error) => error switch
    {
        ControllerUnreachableException { ConnectionLost: false, Controller: { } controller, CapabilityPath: { } capFile } =>
            $"{directive}: the controller at {controller} (from {capFile}) is not answering. Start it, then run the cell again: " +
            "`capcontroller --reuse` starts a controller that stopped again on the ports that .cap names (`capcluster status` " +
            "says whether its engines still run), and `capcluster start -n 4` starts a cluster where none ran.",
        _ => $"{directive}: {error.Message}",
    };
}
