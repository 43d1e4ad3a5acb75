namespace CapCluster.Controller.Internal;

/// <summary>
/// An amount held against a limit that cannot be refused, only waited out: what a client has not read yet. Things are
/// added whether or not there is room (a result already computed must go somewhere); whoever would add more first
/// waits for room (<see cref="RoomOrWait"/>), which taking things away makes.
/// </summary>
/// <param name="limit">Past this much held, there is no room.</param>
internal sealed class Backlog(long limit)
{
    private readonly Lock gate = new();
    private long held;
    private TaskCompletionSource? room;

    public long Limit => limit;

    public long Held
    {
        get
        {
            lock (gate)
            {
                return held;
            }
        }
    }

    public void Add(long amount)
    {
        lock (gate)
        {
            held += amount;
        }
    }

    /// <summary>Takes <paramref name="amount"/> away, and wakes those waiting for room when there is some.</summary>
    public void Remove(long amount)
    {
        TaskCompletionSource? woken = null;
        lock (gate)
        {
            held -= amount;
            if (room is not null && held < limit)
            {
                woken = room;
                room = null;
            }
        }

        woken?.TrySetResult();
    }

    /// <summary>Null when there is room; otherwise a task that completes when some was made (look again then).</summary>
    public Task? RoomOrWait()
    {
        lock (gate)
        {
            if (held < limit)
            {
                return null;
            }

            room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return room.Task;
        }
    }
}

/// <summary>What the sessions of one capability leave unread, together: all answers, and refusals among them.</summary>
/// <param name="Answers">Bytes of answers (results and refusals) not yet written to the clients.</param>
/// <param name="Refusals">Bytes of refusals among them; past its limit the sessions adding to it are ended.</param>
internal sealed record UnreadShare(Backlog Answers, Backlog Refusals)
{
    public UnreadShare(long limit)
        : this(new Backlog(limit), new Backlog(2 * limit))
    {
    }

    /// <summary>Past this many bytes of refusals unread (twice the answers' limit), whoever adds to them is ended.</summary>
    public bool Overflowing => Refusals.Held > Refusals.Limit;

    /// <summary>An answer of <paramref name="bytes"/> is waiting to be written; a <paramref name="refusal"/> counts twice.</summary>
    public void Add(long bytes, bool refusal)
    {
        Answers.Add(bytes);
        if (refusal)
        {
            Refusals.Add(bytes);
        }
    }

    /// <summary>An answer added with <see cref="Add"/> was written, or never will be.</summary>
    public void Remove(long bytes, bool refusal)
    {
        if (refusal)
        {
            Refusals.Remove(bytes);
        }

        Answers.Remove(bytes);
    }
}

/// <summary>
/// One <see cref="UnreadShare"/> per capability, shared by all its sessions while any is open: what a holder leaves
/// unread is bounded however many sessions it opens.
/// </summary>
/// <param name="limitPerCapability">The most bytes of answers a capability's sessions may leave unread before their next calls wait.</param>
internal sealed class CapabilityBacklogs(long limitPerCapability)
{
    private readonly Dictionary<string, (UnreadShare Share, int Sessions)> open = [];

    public long LimitPerCapability => limitPerCapability;

    /// <summary>The share of <paramref name="capabilityId"/> for one more session; give it back with <see cref="Close"/>. A session with no capability gets one of its own.</summary>
    public UnreadShare Open(string? capabilityId)
    {
        if (capabilityId is null)
        {
            return new UnreadShare(limitPerCapability);
        }

        lock (open)
        {
            var share = open.TryGetValue(capabilityId, out var entry) ? entry.Share : new UnreadShare(limitPerCapability);
            open[capabilityId] = (share, entry.Sessions + 1);
            return share;
        }
    }

    /// <summary>A session of <paramref name="capabilityId"/> ended, and took away all it had added.</summary>
    public void Close(string? capabilityId)
    {
        if (capabilityId is null)
        {
            return;
        }

        lock (open)
        {
            var entry = open[capabilityId];
            if (entry.Sessions == 1)
            {
                open.Remove(capabilityId);
            }
            else
            {
                open[capabilityId] = (entry.Share, entry.Sessions - 1);
            }
        }
    }

    /// <summary>Capabilities with a session open (a test hook).</summary>
    public int Count
    {
        get
        {
            lock (open)
            {
                return open.Count;
            }
        }
    }
}
