using CapCluster.Controller.Internal.Transport.DataLanes;
using CapCluster.Controller.Internal.Transport.StreamLanes;
using CapCluster.Protocol;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// Where the controller's services are served, each through its protoc-generated base. The transport that carries a
/// call is chosen here and in this folder, not by the service: a unary call and a session are served on HTTP/2; the
/// long-lived streams (an engine's link, a client's task stream) on HTTP/2 and on a stream lane granted by their
/// service's <c>OpenStream</c>, to the same handler; a MultiEngine call's values ride its session or a data lane
/// granted by <c>OpenLane</c> (<see cref="ICallValueRoutes"/>). Those grants are mapped here, before any service
/// binds, so no service implements them.
/// </summary>
internal sealed class ServiceEndpoints
{
    private readonly GrpcRouter _router;

    public ServiceEndpoints(GrpcRouter router, StreamLaneHost streams, DataLaneRoutes values)
    {
        _router = router;
        streams.Map(router, CapClusterMethods.EngineLink);
        streams.Map(router, CapClusterMethods.TaskStream);
        router.MapUnary(CapClusterMethods.OpenLane, values.GrantAsync);
    }

    /// <summary>Serves every method of <paramref name="service"/>'s generated base but the grants mapped above.</summary>
    /// <param name="bindService">The generated <c>BindService</c>, e.g. <c>TaskFarm.BindService</c>.</param>
    /// <param name="service">The implementation.</param>
    public void Bind<TService>(Action<Grpc.Core.ServiceBinderBase, TService> bindService, TService service)
        where TService : class =>
        _router.Bind(bindService, service);
}
