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
    private readonly SortedDictionary<int, RegisteredEngine> engines = [];
    // The engines in id order, made anew at each change: read on every dispatch, changed only when an engine comes or goes.
    private RegisteredEngine[] snapshot = [];
    // Those of them that serve no one task capability: what MultiEngine calls reach.
    private RegisteredEngine[] shared = [];
    private int nextId;
    private ulong version = 1;
    private TaskCompletionSource nextChange = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public event Action? Changed;

    /// <summary>Rises by one at every registration and unregistration; starts at 1.</summary>
    public ulong Version
    {
        get
        {
            lock (sync)
            {
                return version;
            }
        }
    }

    /// <summary>Completes at the first registration or unregistration after <paramref name="since"/> (at once when there was one).</summary>
    public Task ChangedAfter(ulong since)
    {
        lock (sync)
        {
            return version != since ? Task.CompletedTask : nextChange.Task;
        }
    }

    /// <summary>Registers an engine, under its previous id when it asks for one that is free, else the next new id.</summary>
    /// <param name="info">What it says of itself.</param>
    /// <param name="peer">Where it connects from.</param>
    /// <param name="certificateSha256">Its client certificate's SHA-256.</param>
    /// <param name="serves">The task capability whose tasks alone the engine runs (its engine capability's <c>Serves</c>), or null for a shared engine.</param>
    public RegisteredEngine Register(RegisterEngine info, string peer, byte[] certificateSha256, string? serves = null)
    {
        RegisteredEngine engine;
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
            engine = new RegisteredEngine(id, info, peer, time) { CertificateSha256 = certificateSha256, Serves = serves };
            engines.Add(id, engine);
            Advance();
        }

        ControllerLog.EngineRegistered(logger, engine.Id, peer, info.Host, info.Pid);
        Changed?.Invoke();
        return engine;
    }

    public void Unregister(RegisteredEngine engine, string reason)
    {
        bool removed;
        lock (sync)
        {
            removed = engines.TryGetValue(engine.Id, out var current) && ReferenceEquals(current, engine) && engines.Remove(engine.Id);
            if (removed)
            {
                Advance();
            }
        }

        engine.End(reason);
        if (removed)
        {
            ControllerLog.EngineUnregistered(logger, engine.Id, reason);
            Changed?.Invoke();
        }
    }

    /// <summary>The registered engines in id order, as of the last registration or unregistration; never changed in place.</summary>
    public IReadOnlyList<RegisteredEngine> Snapshot() => Volatile.Read(ref snapshot);

    /// <summary>The registered engines that serve no one task capability (<see cref="RegisteredEngine.Serves"/>), in id order: those MultiEngine calls reach.</summary>
    public IReadOnlyList<RegisteredEngine> Shared() => Volatile.Read(ref shared);

    public int Count => Volatile.Read(ref snapshot).Length;

    /// <summary>The ids of the <see cref="Shared"/> engines.</summary>
    public IReadOnlyList<int> SharedIds() => [.. Volatile.Read(ref shared).Select(e => e.Id)];

    public RegisteredEngine? Find(int id)
    {
        lock (sync)
        {
            return engines.GetValueOrDefault(id);
        }
    }

    // Under sync. Waiters resume on the thread pool (RunContinuationsAsynchronously), never inside the lock.
    private void Advance()
    {
        Volatile.Write(ref snapshot, [.. engines.Values]);
        Volatile.Write(ref shared, [.. engines.Values.Where(e => e.Serves is null)]);
        version++;
        nextChange.SetResult();
        nextChange = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
