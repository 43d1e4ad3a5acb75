using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// How a MultiEngine call's values reach its engines when they do not ride the call's session (data lanes, in
/// <c>DataLanes</c>). The MultiEngine service admits and queues calls; this decides what each becomes on an engine.
/// </summary>
internal interface ICallValueRoutes
{
    /// <summary>The bytes <paramref name="call"/> announces it sends to its engines beside the session (0 when none).</summary>
    long BytesBesideSession(EngineCall call);

    /// <summary>
    /// What <paramref name="call"/> becomes on <paramref name="engine"/>: a work item, given its id, with the route its
    /// values take to that engine.
    /// </summary>
    /// <exception cref="RpcException">PERMISSION_DENIED: the call names a route not granted to this capability towards this engine.</exception>
    Func<long, Work> WorkFor(EngineCall call, RegisteredEngine engine, CapabilityRecord? capability);
}
