using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>Turns a request's targets into registered engines, or says which id is unknown.</summary>
internal static class TargetResolver
{
    public static IReadOnlyList<RegisteredEngine> Resolve(EngineRegistry registry, Targets? targets)
    {
        if (targets is null || targets.Ids.Count == 0)
        {
            return registry.Snapshot();
        }

        var engines = new List<RegisteredEngine>(targets.Ids.Count);
        foreach (var id in targets.Ids.Distinct())
        {
            engines.Add(registry.Find(id) ?? throw new RpcException(new Status(
                StatusCode.NotFound,
                $"no engine {id} is registered (engines: {Describe(registry.Ids())})")));
        }

        return engines;
    }

    private static string Describe(IReadOnlyList<int> ids) => ids.Count == 0 ? "none" : string.Join(", ", ids);
}
