using System.Security.Cryptography;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// A MultiEngine session whose client sends calls and does not read their results cannot make the controller hold
/// those results without bound: past its budget the session's next call is not read (and its engines do no more of
/// its work) until the client reads; refusals it cannot hold back end the session, audited. Nothing is lost for a
/// client that reads late.
/// </summary>
public sealed class SessionBudgetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ASessionThatDoesNotRead_StopsBeingServed_AndGetsEveryResultWhenItReads()
    {
        const int Calls = 100;
        await using var directory = new ClusterDirectory();
        await directory.StartControllerAsync("--max-session-calls", "4", "--max-unread-bytes", "65536");
        directory.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
        var value = RandomNumberGenerator.GetBytes(1 << 20);
        await client.PushAsync("value", value).GetAsync(Timeout);
        var before = await CompletedAsync(client);

        // 100 pulls of 1 MiB each (100 MiB of results, carried in the session itself: no lanes), none read yet.
        using var connection = ControllerConnection.Open(directory.CapFile(CapabilityInterfaces.MultiEngine), CapabilityInterfaces.MultiEngine);
        using var session = connection.Channel.DuplexStreaming(CapClusterMethods.Session);
        for (var id = 1; id <= Calls; id++)
        {
            await session.RequestStream.WriteAsync(new SessionMessage
            {
                Call = new EngineCall { CallId = id, Targets = new Targets(), Request = new EngineRequest { Pull = new PullRequest { Names = { "value" } } } },
            }).WaitAsync(Timeout);
        }

        // The engine goes idle with only some of them done: what HTTP/2 flow control lets through (the client's stream
        // window is 16 MiB), and the 4 in flight.
        var done = await IdleCompletedAsync(client);
        Assert.True(done - before < 50, $"the engine ran {done - before} of {Calls} pulls for a client that read none of them");

        // Read late: every result arrives, in full, once.
        var seen = new HashSet<long>();
        while (seen.Count < Calls && await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            var message = session.ResponseStream.Current;
            if (message.KindCase == SessionMessage.KindOneofCase.Result)
            {
                Assert.True(string.IsNullOrEmpty(message.Result.Failure), message.Result.Failure);
                Assert.True(seen.Add(message.Result.CallId), $"call {message.Result.CallId} answered twice");
            }
        }

        Assert.Equal(Calls, seen.Count);
        Assert.Equal(before + Calls, await IdleCompletedAsync(client));
    }

    [Fact]
    public async Task ASessionThatLetsRefusalsPileUpUnread_IsEnded_AndAudited()
    {
        await using var directory = new ClusterDirectory();
        await directory.StartControllerAsync("--max-unread-bytes", "65536");
        var keysOnly = Path.Combine(directory.BaseFolder, "keys-only.cap");
        var attenuate = await directory.RunAsync("furlgen", "attenuate", directory.CapFile(CapabilityInterfaces.MultiEngine),
            "--label", "keys-only", "--methods", "Keys", "-o", keysOnly);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());

        // Executes the capability does not allow, each refused with an answer, none read: the controller cannot hold
        // these back as it holds back calls it runs, so it ends the session once they pass twice the budget.
        using var connection = ControllerConnection.Open(keysOnly, CapabilityInterfaces.MultiEngine);
        using var session = connection.Channel.DuplexStreaming(CapClusterMethods.Session);
        var code = new string('x', 200);
        RpcException? ended = null;
        for (var id = 1; id <= 1_000_000 && ended is null; id++)
        {
            try
            {
                await session.RequestStream.WriteAsync(new SessionMessage
                {
                    Call = new EngineCall { CallId = id, Request = new EngineRequest { Execute = new ExecuteRequest { Code = code } } },
                }).WaitAsync(Timeout);
            }
            catch (RpcException e)
            {
                ended = e;
            }
        }

        Assert.NotNull(ended);

        // The client learns why once it reads what was sent before the end.
        var status = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);
        Assert.Contains("--max-unread-bytes", status.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(directory.Paths().AuditLogFile),
            r => r.Label == "keys-only" && r.Outcome == AuditRecord.Refused && r.Reason is { } reason && reason.Contains("refusals unread", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SessionsOfOneCapability_ShareItsUnreadBudget_AnotherCapabilityIsNotHeldUp()
    {
        const int Calls = 60;
        await using var directory = new ClusterDirectory();
        await directory.StartControllerAsync("--max-session-calls", "4", "--max-unread-bytes-per-capability", (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        directory.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
        await client.PushAsync("value", RandomNumberGenerator.GetBytes(1 << 20)).GetAsync(Timeout);
        var greedy = await AttenuateAsync(directory, "greedy");
        var other = await AttenuateAsync(directory, "other");
        var before = await CompletedAsync(client);

        // One session of "greedy" sends 60 pulls of 1 MiB (4 in flight at most) and reads none: far under its own
        // session's budget (256 MiB), but past its capability's (4 MiB, besides the client's 16 MiB stream window), so
        // it is held up.
        using var first = ControllerConnection.Open(greedy, CapabilityInterfaces.MultiEngine);
        using var unread = first.Channel.DuplexStreaming(CapClusterMethods.Session);
        for (var id = 1; id <= Calls; id++)
        {
            await unread.RequestStream.WriteAsync(PullValue(id)).WaitAsync(Timeout);
        }

        var held = await IdleCompletedAsync(client);
        Assert.True(held - before < Calls, $"the engine ran all {Calls} pulls for a capability that read none of them");

        // Another session of the same capability waits with it; a session of another capability does not.
        using var second = ControllerConnection.Open(greedy, CapabilityInterfaces.MultiEngine);
        using var waiting = second.Channel.DuplexStreaming(CapClusterMethods.Session);
        await waiting.RequestStream.WriteAsync(PullValue(1)).WaitAsync(Timeout);
        var waited = waiting.ResponseStream.MoveNext(CancellationToken.None);
        using var third = ControllerConnection.Open(other, CapabilityInterfaces.MultiEngine);
        using var served = third.Channel.DuplexStreaming(CapClusterMethods.Session);
        await served.RequestStream.WriteAsync(PullValue(1)).WaitAsync(Timeout);
        Assert.True(await served.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(1, served.ResponseStream.Current.Result.CallId);
        Assert.Equal(held + 1, await IdleCompletedAsync(client));
        Assert.False(waited.IsCompleted, "a session of the capability whose results wait unread was served");

        // The first session reads: the capability's other session is served.
        var seen = 0;
        while (seen < Calls && await unread.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            seen += unread.ResponseStream.Current.KindCase == SessionMessage.KindOneofCase.Result ? 1 : 0;
        }

        Assert.Equal(Calls, seen);
        Assert.True(await waited.WaitAsync(Timeout));
        Assert.Equal(1, waiting.ResponseStream.Current.Result.CallId);
    }

    private static SessionMessage PullValue(long id) =>
        new() { Call = new EngineCall { CallId = id, Targets = new Targets(), Request = new EngineRequest { Pull = new PullRequest { Names = { "value" } } } } };

    private static async Task<string> AttenuateAsync(ClusterDirectory directory, string label)
    {
        var path = Path.Combine(directory.BaseFolder, label + ".cap");
        var attenuate = await directory.RunAsync("furlgen", "attenuate", directory.CapFile(CapabilityInterfaces.MultiEngine), "--label", label, "--methods", "Pull", "-o", path);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        return path;
    }

    private static async Task<long> CompletedAsync(MultiEngineClient client) => (await client.QueueStatusAsync().WaitAsync(Timeout)).Sum(q => q.Completed);

    /// <summary>The engines' completed count once they have nothing queued or running, twice in a row.</summary>
    private static async Task<long> IdleCompletedAsync(MultiEngineClient client)
    {
        long? last = null;
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            var queues = await client.QueueStatusAsync().WaitAsync(Timeout);
            var completed = queues.Sum(q => q.Completed);
            if (queues.All(q => q.Queued == 0 && q.Running == 0))
            {
                if (completed == last)
                {
                    return completed;
                }

                last = completed;
            }
            else
            {
                last = null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
        }
    }
}
