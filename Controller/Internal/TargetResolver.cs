using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Turns a request's targets into registered engines, or says which id is unknown. An engine that serves one task
/// capability (<see cref="RegisteredEngine.Serves"/>) takes no MultiEngine work: none reaches it through "all engines",
/// and a call that names it is refused; a kill, a queue's counts and a ping (no code, no data) reach it as any other.
/// </summary>
internal static class TargetResolver
{
    /// <summary>The engines <paramref name="targets"/> names, or with none every engine the call reaches.</summary>
    /// <param name="registry">The registered engines.</param>
    /// <param name="targets">The ids named, or none for all.</param>
    /// <param name="work">Whether the call runs code or moves data on the engines (else it reaches every engine).</param>
    public static IReadOnlyList<RegisteredEngine> Resolve(EngineRegistry registry, Targets? targets, bool work)
    {
        if (targets is null || targets.Ids.Count == 0)
        {
            return work ? registry.Shared() : registry.Snapshot();
        }

        var engines = new List<RegisteredEngine>(targets.Ids.Count);
        foreach (var id in targets.Ids.Distinct())
        {
            var engine = registry.Find(id) ?? throw new RpcException(new Status(
                StatusCode.NotFound,
                $"no engine {id} is registered (engines: {Describe(work ? registry.SharedIds() : [.. registry.Snapshot().Select(e => e.Id)])})"));
            if (work && engine.Serves is not null)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, TakesNoWork(engine, registry)));
            }

            engines.Add(engine);
        }

        return engines;
    }

    /// <summary>The first engine <paramref name="targets"/> names that serves one task capability, or null.</summary>
    public static RegisteredEngine? ServingOne(EngineRegistry registry, Targets? targets)
    {
        if (targets is null || registry.Shared().Count == registry.Count)
        {
            return null;
        }

        foreach (var id in targets.Ids)
        {
            if (registry.Find(id) is { Serves: not null } engine)
            {
                return engine;
            }
        }

        return null;
    }

    /// <summary>Why MultiEngine work cannot go to <paramref name="engine"/>, which serves one task capability.</summary>
    public static string TakesNoWork(RegisteredEngine engine, EngineRegistry registry) =>
        $"engine {engine.Id} runs only the tasks of capability {engine.Serves} (its engine capability serves it), so it takes no MultiEngine work; " +
        $"the engines MultiEngine calls reach: {Describe(registry.SharedIds())}";

    private static string Describe(IReadOnlyList<int> ids) => ids.Count == 0 ? "none" : string.Join(", ", ids);
}
