using System.Threading.Channels;
using CapCluster.Controller.Internal;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Tests.Engines;

/// <summary>
/// A MultiEngine session's outbox (<see cref="SessionOutbox"/>): the session may read its next call only while fewer than
/// the most calls wait for their results to be written and fewer than the most bytes are unread; writing to the client
/// makes room again; refusals, which cannot wait, end the session once they pile up past twice the bytes. The sessions
/// of one capability share a bound besides (<see cref="CapabilityBacklogs"/>).
/// </summary>
public sealed class SessionOutboxTests
{
    private static SessionMessage Result(long callId, int bytes) =>
        new() { Result = new CallResult { CallId = callId, Reply = new EngineReply { Error = new RemoteError { Message = new string('x', bytes) } } } };

    [Fact]
    public async Task TheNextCall_WaitsWhileTheMostCallsAreUnwritten_AndIsReadOnceOneIsWritten()
    {
        var outbox = new SessionOutbox(maxCalls: 2, maxUnreadBytes: 1 << 20);
        var client = new SlowClient();
        var writing = outbox.WriteAllAsync(client, CancellationToken.None);

        outbox.CallStarted();
        outbox.CallStarted();
        var room = outbox.WaitForRoomAsync(CancellationToken.None).AsTask();
        outbox.Post([Result(1, 10)]);
        outbox.CallEnded();
        Assert.False(room.IsCompleted);

        // The result is written (the client read it): the call's place is free.
        client.Let(1);
        await room.Within();
        Assert.Equal(1, outbox.Calls);

        outbox.Complete();
        client.LetAll();
        await writing.Within();
    }

    [Fact]
    public async Task TheNextCall_WaitsWhileTheMostBytesAreUnread_AndIsReadOnceTheyAreWritten()
    {
        var outbox = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1000);
        var client = new SlowClient();
        var writing = outbox.WriteAllAsync(client, CancellationToken.None);

        outbox.CallStarted();
        outbox.Post([Result(1, 600)]);
        outbox.Post([Result(1, 600)]);
        var room = outbox.WaitForRoomAsync(CancellationToken.None).AsTask();
        Assert.False(room.IsCompleted);
        Assert.Null(outbox.Overflow);

        client.Let(1);
        await room.Within();
        Assert.True(outbox.Unread < 1000, $"{outbox.Unread} bytes unread when the session may read on");

        outbox.Complete();
        client.LetAll();
        await writing.Within();
        Assert.Equal(0, outbox.Unread);
    }

    [Fact]
    public async Task UnreadRefusals_PastTwiceTheBytes_AreOverflowing_UnreadResultsAreNot()
    {
        var outbox = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1000);
        var client = new SlowClient();
        var writing = outbox.WriteAllAsync(client, CancellationToken.None);

        // A result larger than the budget waits to be read; it makes the session wait, not end.
        outbox.Post([Result(1, 5000)]);
        Assert.Null(outbox.Overflow);

        for (var id = 2; outbox.UnreadRefusals <= 2000; id++)
        {
            Assert.Null(outbox.Overflow);
            outbox.Post([Result(id, 100)], refusal: true);
        }

        Assert.Contains("--max-unread-bytes", outbox.Overflow, StringComparison.Ordinal);

        outbox.Complete();
        client.LetAll();
        await writing.Within();
        Assert.Null(outbox.Overflow);
    }

    [Fact]
    public async Task SessionsOfOneCapability_ShareItsBound_AnotherCapabilityDoesNot()
    {
        var backlogs = new CapabilityBacklogs(limitPerCapability: 1000);
        var first = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1 << 20, backlogs.Open("cap_a"));
        var second = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1 << 20, backlogs.Open("cap_a"));
        var other = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1 << 20, backlogs.Open("cap_b"));
        var firstClient = new SlowClient();
        var writing = first.WriteAllAsync(firstClient, CancellationToken.None);

        // The first session leaves its capability's bytes unread: each session is far under its own bound, yet the
        // capability's other session waits; another capability's does not.
        first.Post([Result(1, 600)]);
        first.Post([Result(2, 600)]);
        var room = second.WaitForRoomAsync(CancellationToken.None).AsTask();
        Assert.False(room.IsCompleted);
        await other.WaitForRoomAsync(CancellationToken.None).AsTask().Within();

        firstClient.Let(1);
        await room.Within();

        first.Complete();
        firstClient.LetAll();
        await writing.Within();
        Assert.Equal(2, backlogs.Count);
    }

    [Fact]
    public async Task ASessionWhoseClientLeft_GivesBackWhatItNeverWrote()
    {
        var backlogs = new CapabilityBacklogs(limitPerCapability: 1000);
        var left = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1 << 20, backlogs.Open("cap_a"));
        using var cancel = new CancellationTokenSource();
        var writing = left.WriteAllAsync(new SlowClient(), cancel.Token);
        left.Post([Result(1, 600)]);
        left.Post([Result(2, 600)]);
        var next = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1 << 20, backlogs.Open("cap_a"));
        var room = next.WaitForRoomAsync(CancellationToken.None).AsTask();
        Assert.False(room.IsCompleted);

        // The client went away: the session ends with its results unwritten, and results that come after are dropped.
        await cancel.CancelAsync();
        await writing.Within();
        left.Complete();
        left.Dispose();
        left.Post([Result(3, 5000)]);
        backlogs.Close("cap_a");

        await room.Within();
        Assert.Equal(0, left.Unread);
        Assert.Equal(1, backlogs.Count);
        backlogs.Close("cap_a");
        Assert.Equal(0, backlogs.Count);
    }

    [Fact]
    public void RefusalsOfACapabilitysSessions_PastTwiceItsBytes_EndTheSessionsAddingThem()
    {
        var backlogs = new CapabilityBacklogs(limitPerCapability: 1000);
        var sessions = Enumerable.Range(0, 3).Select(_ => new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1000, backlogs.Open("cap_a"))).ToList();
        var quiet = new SessionOutbox(maxCalls: 100, maxUnreadBytes: 1000, backlogs.Open("cap_a"));

        // About 950 unread bytes of refusals in each: each session is under twice its own bound; two together are
        // under twice the capability's, three are over.
        var id = 0;
        foreach (var session in sessions)
        {
            Assert.All(sessions, s => Assert.Null(s.Overflow));
            for (var i = 0; i < 9; i++)
            {
                session.Post([Result(++id, 96)], refusal: true);
            }
        }

        Assert.All(sessions, s => Assert.Contains("--max-unread-bytes-per-capability", s.Overflow, StringComparison.Ordinal));

        // A session of the capability that has left no refusal unread is not the one to end.
        Assert.Null(quiet.Overflow);
    }

    /// <summary>A client that reads only as many messages as it is let.</summary>
    private sealed class SlowClient : IServerStreamWriter<SessionMessage>
    {
        private readonly Channel<bool> permits = Channel.CreateUnbounded<bool>();

        public WriteOptions? WriteOptions { get; set; }

        public void Let(int count)
        {
            for (var i = 0; i < count; i++)
            {
                permits.Writer.TryWrite(true);
            }
        }

        public void LetAll() => permits.Writer.TryComplete();

        public Task WriteAsync(SessionMessage message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(SessionMessage message, CancellationToken cancellationToken)
        {
            if (await permits.Reader.WaitToReadAsync(cancellationToken))
            {
                permits.Reader.TryRead(out _);
            }
        }
    }
}
