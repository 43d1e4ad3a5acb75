using CapCluster.Client.Internal;
using CapCluster.Protocol.V1;

namespace CapCluster.Client.Tests;

public sealed class ResultsFeedTests
{
    private static TaskOutcome Result(long id) => new(new TaskResult { TaskId = id });

    [Fact]
    public void NeverOpened_KeepsNothing()
    {
        var feed = new ResultsFeed();

        for (var id = 1; id <= 10_000; id++)
        {
            feed.Offer(Result(id));
        }

        Assert.False(feed.Started);
        Assert.Equal(0, feed.Dropped);
        Assert.False(feed.Open(10).TryRead(out _)); // results from before the first read are not in it
    }

    [Fact]
    public void Opened_KeepsAtMostItsCapacity_AndCountsTheRest()
    {
        var feed = new ResultsFeed();
        var reader = feed.Open(3);

        for (var id = 1; id <= 5; id++)
        {
            feed.Offer(Result(id));
        }

        Assert.Equal(2, feed.Dropped);
        Assert.Equal([1L, 2L, 3L], Drain(reader));

        // Room again once read.
        feed.Offer(Result(6));
        Assert.Equal([6L], Drain(reader));
    }

    [Fact]
    public async Task Completed_BeforeOpening_TheFeedEndsWithTheError()
    {
        var feed = new ResultsFeed();
        var error = new InvalidOperationException("the task client was disposed");

        feed.Complete(error);
        var reader = feed.Open(10);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in reader.ReadAllAsync())
            {
            }
        });
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task Completed_AfterOpening_TheReaderEndsAfterWhatWaits()
    {
        var feed = new ResultsFeed();
        var reader = feed.Open(10);
        feed.Offer(Result(1));

        feed.Complete(null);
        feed.Offer(Result(2));

        Assert.Equal([1L], Drain(reader));
        await reader.Completion;
        Assert.Equal(0, feed.Dropped);
    }

    private static List<long> Drain(System.Threading.Channels.ChannelReader<TaskOutcome> reader)
    {
        var ids = new List<long>();
        while (reader.TryRead(out var result))
        {
            ids.Add(result.TaskId);
        }

        return ids;
    }
}
