using Microsoft.Extensions.Hosting;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The web host's lifetime for a server embedded in a program: the default console lifetime
/// would take SIGTERM and SIGINT for itself and stop Kestrel behind the program's back. The
/// program owns its signals and calls <see cref="GrpcServer.StopAsync"/>.
/// </summary>
internal sealed class PassiveHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
