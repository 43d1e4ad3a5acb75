using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>Turns a request's targets into engine sessions, or says which id is unknown.</summary>
internal static class TargetResolver
{
    public static IReadOnlyList<EngineSession> Resolve(EngineRegistry registry, Targets? targets)
    {
        if (targets is null || targets.Ids.Count == 0)
        {
            return registry.Snapshot();
        }

        var sessions = new List<EngineSession>(targets.Ids.Count);
        foreach (var id in targets.Ids.Distinct())
        {
            sessions.Add(registry.Find(id) ?? throw new RpcException(new Status(
                StatusCode.NotFound,
                $"no engine {id} is registered (engines: {Describe(registry.Ids())})")));
        }

        return sessions;
    }

    private static string Describe(IReadOnlyList<int> ids) => ids.Count == 0 ? "none" : string.Join(", ", ids);
}
