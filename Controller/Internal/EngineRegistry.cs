using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The registered engines by id. Ids are handed out in registration order from 0 and
/// never reused for a new engine; an engine coming back after a controller restart
/// gets its previous id back when it is still free.
/// </summary>
internal sealed class EngineRegistry(TimeProvider time, ILogger logger)
{
    private readonly Lock sync = new();
    private readonly SortedDictionary<int, EngineSession> engines = [];
    private int nextId;

    public event Action? Changed;

    public EngineSession Register(RegisterEngine info, string peer, byte[] certificateSha256)
    {
        EngineSession session;
        lock (sync)
        {
            var id = info.HasPreviousId && info.PreviousId >= 0 && !engines.ContainsKey(info.PreviousId)
                ? info.PreviousId
                : nextId;
            while (engines.ContainsKey(id))
            {
                id++;
            }

            nextId = Math.Max(nextId, id + 1);
            session = new EngineSession(id, info, peer, time) { CertificateSha256 = certificateSha256 };
            engines.Add(id, session);
        }

        ControllerLog.EngineRegistered(logger, session.Id, peer, info.Host, info.Pid);
        Changed?.Invoke();
        return session;
    }

    public void Unregister(EngineSession session, string reason)
    {
        bool removed;
        lock (sync)
        {
            removed = engines.TryGetValue(session.Id, out var current) && ReferenceEquals(current, session) && engines.Remove(session.Id);
        }

        session.End(reason);
        if (removed)
        {
            ControllerLog.EngineUnregistered(logger, session.Id, reason);
            Changed?.Invoke();
        }
    }

    public IReadOnlyList<EngineSession> Snapshot()
    {
        lock (sync)
        {
            return [.. engines.Values];
        }
    }

    public IReadOnlyList<int> Ids()
    {
        lock (sync)
        {
            return [.. engines.Keys];
        }
    }

    public EngineSession? Find(int id)
    {
        lock (sync)
        {
            return engines.GetValueOrDefault(id);
        }
    }
}
