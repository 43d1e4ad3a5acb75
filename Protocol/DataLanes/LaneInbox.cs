using System.Collections.Concurrent;
using CapCluster.Protocol.Data;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// The transfers a lane has received, by transfer id, until someone claims them. Transfers on a
/// lane are sent in increasing id order and claimed in that order too (a client's calls reach an
/// engine through its FIFO queue), so claiming one drops any older one that nobody claimed: its call
/// was refused or cleared and will never ask for it.
/// A transfer is read only when it was expected (<see cref="Expect"/>): announced by whoever authorised it, with
/// the most blob bytes it may carry. The reader waits a while for the announcement, which may come after the data.
/// </summary>
internal sealed class LaneInbox
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ReceivedValues>> transfers = new();
    private readonly Dictionary<long, long> expected = [];
    private Exception? closed;

    /// <summary>Lets transfer <paramref name="transfer"/> arrive, with at most <paramref name="maxBytes"/> blob bytes.</summary>
    public void Expect(long transfer, long maxBytes)
    {
        lock (expected)
        {
            expected[transfer] = maxBytes;
            Monitor.PulseAll(expected);
        }
    }

    /// <summary>No longer lets <paramref name="transfer"/> arrive (its call ended without it).</summary>
    public void Forget(long transfer)
    {
        lock (expected)
        {
            expected.Remove(transfer);
        }
    }

    /// <summary>
    /// The most blob bytes <paramref name="transfer"/> may carry, once expected (which it then no longer is: a
    /// transfer arrives once); null when it was not expected within <paramref name="timeout"/>, or the inbox closed.
    /// Blocks the calling thread (the lane's reader).
    /// </summary>
    public long? TakeExpected(long transfer, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (expected)
        {
            while (true)
            {
                if (expected.Remove(transfer, out var maxBytes))
                {
                    return maxBytes;
                }

                var left = deadline - Environment.TickCount64;
                if (left <= 0 || Volatile.Read(ref closed) is not null)
                {
                    return null;
                }

                Monitor.Wait(expected, TimeSpan.FromMilliseconds(left));
            }
        }
    }

    public void Deliver(long transfer, ReceivedValues values) => Slot(transfer).TrySetResult(values);

    public async Task<ReceivedValues> ClaimAsync(long transfer, CancellationToken cancellationToken)
    {
        var slot = Slot(transfer);
        foreach (var older in transfers.Keys.Where(t => t < transfer))
        {
            if (transfers.TryGetValue(older, out var stale) && stale.Task.IsCompleted)
            {
                transfers.TryRemove(older, out _);
            }
        }

        try
        {
            return await slot.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            transfers.TryRemove(transfer, out _);
        }
    }

    /// <summary>Fails every waiting and later claim with <paramref name="error"/>.</summary>
    public void Close(Exception error)
    {
        Interlocked.CompareExchange(ref closed, error, null);
        lock (expected)
        {
            Monitor.PulseAll(expected);
        }

        foreach (var slot in transfers.Values)
        {
            slot.TrySetException(closed);
        }
    }

    private TaskCompletionSource<ReceivedValues> Slot(long transfer)
    {
        var slot = transfers.GetOrAdd(transfer, _ => new TaskCompletionSource<ReceivedValues>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Volatile.Read(ref closed) is { } error)
        {
            slot.TrySetException(error);
        }

        return slot;
    }
}
