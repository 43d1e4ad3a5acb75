using System.Threading.Channels;
namespace CapCluster.Client.Internal;

/// <summary>
/// The results a task client's <see cref="TaskClient.ResultsAsync"/> yields: nothing is kept until the feed is first
/// read (a client that never reads it keeps no results for it), and then at most <c>capacity</c> results wait
/// unread; beyond that, newer results are not queued (they stay fetchable by id) and are counted in
/// <see cref="Dropped"/>. Offering never blocks, so the stream's reader thread never waits on a slow consumer.
/// </summary>
internal sealed class ResultsFeed
{
    private readonly Lock sync = new();
    private Channel<TaskOutcome>? channel;
    private volatile bool completed;
    private Exception? error;
    private long dropped;

    /// <summary>Results that arrived while the feed was full, and so are not in it.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>True once someone asked for the feed: results are kept for it from then on.</summary>
    public bool Started => Volatile.Read(ref channel) is not null;

    /// <summary>The feed, started by the first call with room for <paramref name="capacity"/> unread results.</summary>
    public ChannelReader<TaskOutcome> Open(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        lock (sync)
        {
            if (channel is null)
            {
                var created = Channel.CreateBounded<TaskOutcome>(new BoundedChannelOptions(capacity)
                {
                    FullMode = BoundedChannelFullMode.Wait,
                    SingleWriter = false,
                });
                if (completed)
                {
                    created.Writer.TryComplete(error);
                }

                Volatile.Write(ref channel, created);
            }

            return channel.Reader;
        }
    }

    /// <summary>Queues a finished result when the feed was started and has room; never waits.</summary>
    public void Offer(TaskOutcome result)
    {
        if (Volatile.Read(ref channel) is { } started && !started.Writer.TryWrite(result) && !completed)
        {
            Interlocked.Increment(ref dropped);
        }
    }

    /// <summary>Ends the feed (with <paramref name="failure"/>, or normally when null), now or when it is first opened.</summary>
    public void Complete(Exception? failure)
    {
        lock (sync)
        {
            if (completed)
            {
                return;
            }

            completed = true;
            error = failure;
            channel?.Writer.TryComplete(failure);
        }
    }
}
