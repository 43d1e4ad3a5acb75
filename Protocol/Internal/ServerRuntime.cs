using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Internal;

/// <summary>What every call on one <see cref="GrpcServer"/> shares.</summary>
internal sealed class ServerRuntime(GrpcServerOptions options, ICallAuthorizer? authorizer, ILogger logger, CancellationToken stopping)
{
    public GrpcServerOptions Options { get; } = options;

    public ICallAuthorizer? Authorizer { get; } = authorizer;

    public ILogger Logger { get; } = logger;

    public CancellationToken Stopping { get; } = stopping;

    public ConnectionRegistry Connections { get; } = new(options);
}
