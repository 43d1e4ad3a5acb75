using System.Net;

namespace CapCluster.Protocol;

/// <summary>One address a <see cref="GrpcServer"/> listens on.</summary>
/// <param name="Name">What the port is for, used in messages and as key of <see cref="GrpcServer.BoundEndpoints"/>, e.g. <c>engine</c> gives "the engine port" and "--engine-port".</param>
/// <param name="Address">The local address, e.g. <see cref="IPAddress.Loopback"/>.</param>
/// <param name="Port">The TCP port; 0 picks a free one.</param>
public sealed record GrpcEndpoint(string Name, IPAddress Address, int Port);
