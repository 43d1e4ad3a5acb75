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
            context.Fail(command, message: $"{directive}: {e.Message}");
        }
    }
}
