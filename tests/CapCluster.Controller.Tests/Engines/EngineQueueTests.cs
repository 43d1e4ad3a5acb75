using CapCluster.Controller.Internal;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CapCluster.Controller.Tests.Engines;

/// <summary>
/// An engine's queue (<see cref="RegisteredEngine"/>): one item at a time goes to the engine, each owner's in order and
/// owners in turn; clearing drops what waits of the owners named but not what runs; the engine's end fails everything, queued and running, naming the engine and why.
/// </summary>
public sealed class EngineQueueTests : IAsyncDisposable
{
    private readonly FakeTimeProvider time = new();
    private readonly EngineRegistry registry;
    private readonly FakeEngine engine;

    public EngineQueueTests()
    {
        registry = new EngineRegistry(time, NullLogger.Instance);
        engine = new FakeEngine(registry);
    }

    public ValueTask DisposeAsync() => engine.DisposeAsync();

    private Task<EngineResult> Ping(string payload, string owner = "cap_owner") =>
        engine.Registered.Enqueue(owner, id => new Work { WorkId = id, Ping = new Ping { Payload = Google.Protobuf.ByteString.CopyFromUtf8(payload) } });

    private void Pong(Work work) =>
        engine.Registered.CompleteWork(new WorkResult { WorkId = work.WorkId, Pong = new Pong { Payload = work.Ping.Payload, EngineId = engine.Id } }, RelayedBlobs.None);

    [Fact]
    public async Task Items_GoToTheEngineOneAtATime_InOrder()
    {
        var first = Ping("first");
        var second = Ping("second");

        var sent = await engine.NextWorkAsync();
        Assert.Equal("first", sent.Ping.Payload.ToStringUtf8());
        Assert.Equal(1, engine.Registered.QueueLength);
        Pong(sent);
        Assert.Equal("first", (await first.Within()).Result.Pong.Payload.ToStringUtf8());

        var next = await engine.NextWorkAsync();
        Assert.Equal("second", next.Ping.Payload.ToStringUtf8());
        Pong(next);
        Assert.Equal("second", (await second.Within()).Result.Pong.Payload.ToStringUtf8());
        Assert.Equal(2, engine.Registered.Completed);
    }

    [Fact]
    public async Task ABatchOfTasks_CountsItsTasksAsDone_ACallCountsOne()
    {
        var batch = engine.Registered.Enqueue(RegisteredEngine.TaskFarmTurn, id => new Work { WorkId = id, Request = new EngineRequest { Tasks = new TaskBatch() } });
        engine.Answer(await engine.NextWorkAsync(), FakeEngine.Ok(), FakeEngine.Ok(), FakeEngine.Ok());
        await batch.Within();
        var ping = Ping("one");
        Pong(await engine.NextWorkAsync());
        await ping.Within();

        Assert.Equal(4, engine.Registered.Completed);
    }

    [Fact]
    public async Task AResult_SendsTheNextItem_OnItsOwnThread_BeforeItReturns()
    {
        // No thread hop between a result and the next item's dispatch: on a machine of two cores, a pool thread woken for
        // every task (and spinning before it sleeps) is CPU the next round trip needs.
        var first = Ping("first");
        var second = Ping("second");
        var sent = await engine.NextWorkAsync();

        Pong(sent);

        Assert.True(engine.TryTakeSentWork(out var next), "the next item was not sent by the time the result was taken in");
        Assert.Equal("second", next.Ping.Payload.ToStringUtf8());
        Assert.Equal("first", (await first.Within()).Result.Pong.Payload.ToStringUtf8());
        Pong(next);
        Assert.Equal("second", (await second.Within()).Result.Pong.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task ClearQueue_FailsWhatWaits_NotWhatRuns()
    {
        var running = Ping("running");
        var sent = await engine.NextWorkAsync();
        var waiting = new[] { Ping("one"), Ping("two") };
        var another = Ping("another's", "cap_another");

        var cleared = engine.Registered.ClearQueue("capability cap_test", owner => owner == "cap_owner");

        Assert.Equal(2, cleared);
        Assert.Equal(1, engine.Registered.QueueLength);
        foreach (var item in waiting)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => item.Within());
            Assert.Equal(StatusCode.Aborted, error.StatusCode);
            Assert.Equal($"removed from engine {engine.Id} (fake-host, pid 4242)'s queue by capability cap_test before it ran", error.Status.Detail);
        }

        Assert.False(running.IsCompleted);
        Pong(sent);
        Assert.Equal("running", (await running.Within()).Result.Pong.Payload.ToStringUtf8());
        // Another's call was not the clearer's to drop: it runs next.
        var next = await engine.NextWorkAsync();
        Assert.Equal("another's", next.Ping.Payload.ToStringUtf8());
        Pong(next);
        await another.Within();
    }

    [Fact]
    public async Task OneOwnersFlood_DelaysAnothersCall_ByOneOfItsOwn_AndEachOwnersCallsKeepTheirOrder()
    {
        var running = Ping("running", "cap_flood");
        var sent = await engine.NextWorkAsync();
        var flood = Enumerable.Range(0, 1000).Select(i => Ping($"flood {i}", "cap_flood")).ToList();
        var owners = new[] { Ping("owner 1"), Ping("owner 2") };
        var farm = Ping("batch", RegisteredEngine.TaskFarmTurn);

        var order = new List<string>();
        Pong(sent);
        for (var i = 0; i < 7; i++)
        {
            var next = await engine.NextWorkAsync();
            order.Add(next.Ping.Payload.ToStringUtf8());
            Pong(next);
        }

        Assert.Equal(["flood 0", "owner 1", "batch", "flood 1", "owner 2", "flood 2", "flood 3"], order);
        await Task.WhenAll(owners.Append(farm).Append(running)).Within();
        // The last pong sent flood 4: the rest wait.
        Assert.Equal(995, engine.Registered.QueueLength);
        Assert.Equal(995, engine.Registered.ClearQueue("the test", _ => true));
        await Assert.ThrowsAsync<RpcException>(() => flood[^1].Within());
    }

    [Fact]
    public async Task ClearQueue_ThenMoreWork_RunsTheNewWork()
    {
        var running = Ping("running");
        var sent = await engine.NextWorkAsync();
        _ = Ping("dropped");
        engine.Registered.ClearQueue("the test", _ => true);

        var after = Ping("after");
        Pong(sent);
        await running.Within();

        var next = await engine.NextWorkAsync();
        Assert.Equal("after", next.Ping.Payload.ToStringUtf8());
        Pong(next);
        await after.Within();
    }

    [Fact]
    public async Task End_FailsWhatRunsAndWhatWaits_NamingTheEngineAndWhy()
    {
        var running = Ping("running");
        await engine.NextWorkAsync();
        var waiting = Ping("waiting");

        engine.Lose("it missed 5 heartbeats");

        foreach (var item in new[] { running, waiting })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => item.Within());
            Assert.Equal(StatusCode.Aborted, error.StatusCode);
            Assert.Equal($"engine {engine.Id} (fake-host, pid 4242) is gone: it missed 5 heartbeats", error.Status.Detail);
        }

        Assert.True(engine.Registered.Ended.IsCancellationRequested);
        Assert.Null(registry.Find(engine.Id));
        Assert.Equal(0, engine.Registered.InFlight);
    }

    [Fact]
    public async Task AfterTheEnd_NewWorkFailsAtOnce_AndALateResultIsDropped()
    {
        var running = Ping("running");
        var sent = await engine.NextWorkAsync();
        engine.Lose("its stream ended");
        await Assert.ThrowsAsync<RpcException>(() => running.Within());

        var late = Ping("late");
        Pong(sent);

        Assert.True(late.IsFaulted);
        Assert.Contains("is gone: its stream ended", ((RpcException)late.Exception!.InnerException!).Status.Detail);
        Assert.Equal(0, engine.Registered.Completed);
    }

    [Fact]
    public void Silence_IsMeasuredOnTheClock_AndAHeartbeatResetsIt()
    {
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), engine.Registered.SilenceSince(time.GetTimestamp()));

        engine.Registered.Heartbeat();
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(1), engine.Registered.SilenceSince(time.GetTimestamp()));
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(1), engine.Registered.LastHeartbeat);
    }
}
