using System.Threading.Channels;
using CapCluster.Controller.Internal;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Tests.Engines;

/// <summary>
/// A MultiEngine session's outbox (<see cref="SessionOutbox"/>): the session may read its next call only while fewer than
/// the most calls wait for their results to be written and fewer than the most bytes are unread; writing to the client
/// makes room again; refusals, which cannot wait, end the session once they pile up past twice the bytes.
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
        Assert.False(outbox.Overflowing);

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
        Assert.False(outbox.Overflowing);

        for (var id = 2; outbox.UnreadRefusals <= 2000; id++)
        {
            Assert.False(outbox.Overflowing);
            outbox.Post([Result(id, 100)], refusal: true);
        }

        Assert.True(outbox.Overflowing);

        outbox.Complete();
        client.LetAll();
        await writing.Within();
        Assert.False(outbox.Overflowing);
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

        public async Task WriteAsync(SessionMessage message)
        {
            if (await permits.Reader.WaitToReadAsync())
            {
                permits.Reader.TryRead(out _);
            }
        }
    }
}
