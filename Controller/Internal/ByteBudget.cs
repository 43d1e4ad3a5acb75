namespace CapCluster.Controller.Internal;

/// <summary>Bytes held against a limit: reserved before they are taken in, released when they are let go.</summary>
/// <param name="limit">The most that may be held at once.</param>
internal sealed class ByteBudget(long limit)
{
    private long used;

    public long Limit => limit;

    public long Used => Volatile.Read(ref used);

    /// <summary>Reserves <paramref name="bytes"/> when they fit under the limit; false (nothing reserved) when not.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var now = Volatile.Read(ref used);
            if (bytes > limit - now)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref used, now + bytes, now) == now)
            {
                return true;
            }
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref used, -bytes);
}
