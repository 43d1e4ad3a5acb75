using System.Threading.Channels;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>
/// What one MultiEngine session has to write to its client, in order, and the bound on it. It bounds what a session makes the controller hold for a client that sends calls and does not read their
/// results: calls whose results are not all written to the client yet, and the bytes of results waiting to be written.
/// The session reads its next call only when both are under their limits (<see cref="WaitForRoomAsync"/>), so the
/// client's own writes stall, by HTTP/2 flow control, and nothing of anyone else's is spent. A client that reads its
/// results never waits here.
/// </summary>
/// <remarks>
/// A refused call is answered without being dispatched, inside the read of the next admitted one, so it cannot wait
/// here: its answer counts against the bytes, and a session whose unread refusals pass twice the limit is ended
/// (<see cref="Overflowing"/>).
/// </remarks>
internal sealed class SessionOutbox(int maxCalls, long maxUnreadBytes)
{
    // Each entry is a unit (a message and its chunks, written together), or the end of a call (no messages).
    private readonly Channel<(IReadOnlyList<SessionMessage> Unit, long Bytes, bool Refusal)> entries =
        Channel.CreateUnbounded<(IReadOnlyList<SessionMessage>, long, bool)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private int calls;
    private long unread;
    private long unreadRefusals;
    private TaskCompletionSource? room;

    /// <summary>Calls admitted whose results are not all written to the client yet.</summary>
    public int Calls
    {
        get
        {
            lock (gate)
            {
                return calls;
            }
        }
    }

    /// <summary>Bytes of results and answers waiting to be written to the client.</summary>
    public long Unread
    {
        get
        {
            lock (gate)
            {
                return unread;
            }
        }
    }

    /// <summary>Bytes of refusals waiting to be written to the client.</summary>
    public long UnreadRefusals
    {
        get
        {
            lock (gate)
            {
                return unreadRefusals;
            }
        }
    }

    public long MaxUnreadBytes => maxUnreadBytes;

    /// <summary>True when answers the session could not hold back (refusals) have piled up unread past twice the limit.</summary>
    public bool Overflowing
    {
        get
        {
            lock (gate)
            {
                return unreadRefusals > 2 * maxUnreadBytes;
            }
        }
    }

    /// <summary>Completes when the session may read its next call: fewer than the most calls are in flight and fewer than the most bytes are unread.</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (calls < maxCalls && unread < maxUnreadBytes)
                {
                    return;
                }

                room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = room.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A call was read and will be dispatched; it holds its place until <see cref="CallEnded"/> and the results before it are written.</summary>
    public void CallStarted()
    {
        lock (gate)
        {
            calls++;
        }
    }

    /// <summary>Queues a unit (a message and its chunks) for the client; a <paramref name="refusal"/> answers a call that was not run.</summary>
    public void Post(IReadOnlyList<SessionMessage> unit, bool refusal = false)
    {
        long bytes = 0;
        foreach (var message in unit)
        {
            bytes += message.CalculateSize();
        }

        lock (gate)
        {
            unread += bytes;
            unreadRefusals += refusal ? bytes : 0;
        }

        entries.Writer.TryWrite((unit, bytes, refusal));
    }

    /// <summary>Every result of a call started with <see cref="CallStarted"/> was queued: its place is free once they are written.</summary>
    public void CallEnded() => entries.Writer.TryWrite(([], 0, false));

    /// <summary>Nothing more will be queued.</summary>
    public void Complete() => entries.Writer.TryComplete();

    /// <summary>Writes what is queued to the client, in order, until <see cref="Complete"/> or the call ends.</summary>
    public async Task WriteAllAsync(IServerStreamWriter<SessionMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (unit, bytes, refusal) in entries.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in unit)
                {
                    await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }

                Free(unit.Count == 0 ? 1 : 0, bytes, refusal);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Free(int doneCalls, long bytes, bool refusal)
    {
        TaskCompletionSource? woken = null;
        lock (gate)
        {
            calls -= doneCalls;
            unread -= bytes;
            unreadRefusals -= refusal ? bytes : 0;
            if (room is not null && calls < maxCalls && unread < maxUnreadBytes)
            {
                woken = room;
                room = null;
            }
        }

        woken?.TrySetResult();
    }
}
