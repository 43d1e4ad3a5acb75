using System.Collections.Concurrent;
using CapCluster.Protocol.Data;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The transfers a lane has received, by transfer id, until someone claims them. Transfers on a
/// lane are sent in increasing id order and claimed in that order too (a client's calls reach an
/// engine through its FIFO queue), so claiming one drops any older one that nobody claimed: its call
/// was refused or cleared and will never ask for it.
/// </summary>
internal sealed class LaneInbox
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ReceivedValues>> transfers = new();
    private Exception? closed;

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
