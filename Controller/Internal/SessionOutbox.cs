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
/// (<see cref="Overflow"/>). The bytes also count in the backlog of the session's capability, shared by all its
/// sessions (<see cref="CapabilityBacklogs"/>), so a holder cannot multiply the bound by opening more sessions;
/// <see cref="Dispose"/> takes back from it what was never written.
/// </remarks>
internal sealed class SessionOutbox : IDisposable
{
    // Each entry is a unit (a message and its values, written together), or the end of a call (no messages).
    private readonly Channel<(IReadOnlyList<SessionMessage> Unit, long Bytes, bool Refusal)> entries =
        Channel.CreateUnbounded<(IReadOnlyList<SessionMessage>, long, bool)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private readonly Backlog calls;
    private readonly UnreadShare own;
    private readonly UnreadShare shared;

    /// <param name="maxCalls">The most calls whose results are not all written before the next call waits.</param>
    /// <param name="maxUnreadBytes">The most bytes of answers unread before the next call waits.</param>
    /// <param name="capability">What the sessions of the session's capability leave unread together, or null for no such bound.</param>
    public SessionOutbox(int maxCalls, long maxUnreadBytes, UnreadShare? capability = null)
    {
        calls = new Backlog(maxCalls);
        own = new UnreadShare(maxUnreadBytes);
        shared = capability ?? new UnreadShare(long.MaxValue / 2);
    }

    /// <summary>Calls admitted whose results are not all written to the client yet.</summary>
    public int Calls => (int)calls.Held;

    /// <summary>Bytes of results and answers waiting to be written to the client.</summary>
    public long Unread => own.Answers.Held;

    /// <summary>Bytes of refusals waiting to be written to the client.</summary>
    public long UnreadRefusals => own.Refusals.Held;

    public long MaxUnreadBytes => own.Answers.Limit;

    /// <summary>
    /// Why the session must end, or null: answers it could not hold back (refusals) have piled up unread past twice its
    /// limit, or it has some unread and its capability's sessions together have past twice theirs.
    /// </summary>
    public string? Overflow =>
        own.Overflowing
            ? $"the client left {own.Refusals.Held} bytes of refusals unread, more than twice the budget of {own.Answers.Limit} (--max-unread-bytes)"
            : own.Refusals.Held > 0 && shared.Overflowing
            ? $"the sessions of this capability left {shared.Refusals.Held} bytes of refusals unread, more than twice their budget of " +
                $"{shared.Answers.Limit} (--max-unread-bytes-per-capability)"
            : null;

    /// <summary>
    /// Completes when the session may read its next call: fewer than the most calls are in flight, fewer than the most
    /// bytes are unread, and the capability's sessions together leave fewer than its most bytes unread.
    /// </summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while ((calls.RoomOrWait() ?? own.Answers.RoomOrWait() ?? shared.Answers.RoomOrWait()) is { } wait)
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A call was read and will be dispatched; it holds its place until <see cref="CallEnded"/> and the results before it are written.</summary>
    public void CallStarted() => calls.Add(1);

    /// <summary>Queues a unit (a message and its values) for the client; a <paramref name="refusal"/> answers a call that was not run.</summary>
    public void Post(IReadOnlyList<SessionMessage> unit, bool refusal = false)
    {
        long bytes = 0;
        foreach (var message in unit)
        {
            bytes += message.CalculateSize();
        }

        // Counted only when queued: a unit posted after the session ended is dropped, and must not stay charged.
        lock (gate)
        {
            if (!entries.Writer.TryWrite((unit, bytes, refusal)))
            {
                return;
            }

            own.Add(bytes, refusal);
            shared.Add(bytes, refusal);
        }
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
                try
                {
                    foreach (var message in unit)
                    {
                        await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // Written, or never to be: the client left during the write.
                    Free(unit.Count == 0 ? 1 : 0, bytes, refusal);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// After <see cref="WriteAllAsync"/> has returned: ends the outbox, and gives back to the capability's backlog what
    /// will never be written (the client left).
    /// </summary>
    public void Dispose()
    {
        lock (gate)
        {
            entries.Writer.TryComplete();
        }

        while (entries.Reader.TryRead(out var entry))
        {
            Free(entry.Unit.Count == 0 ? 1 : 0, entry.Bytes, entry.Refusal);
        }
    }

    private void Free(int doneCalls, long bytes, bool refusal)
    {
        calls.Remove(doneCalls);
        own.Remove(bytes, refusal);
        shared.Remove(bytes, refusal);
    }
}
