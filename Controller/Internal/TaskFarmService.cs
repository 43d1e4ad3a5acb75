using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>The load-balanced task interface. Its queue arrives with the Task issue; the counts here are real (nothing has been queued).</summary>
internal sealed class TaskFarmService(EngineRegistry registry)
{
    public void Map(GrpcRouter router) => router.MapUnary(CapClusterMethods.QueueStatus, QueueStatus);

    private Task<QueueStatusReply> QueueStatus(QueueStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new QueueStatusReply { Engines = registry.Ids().Count });
}
