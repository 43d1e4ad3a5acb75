using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Tests;

/// <summary>A protoc-generated service base served through <see cref="GrpcRouter.Bind"/>, called by its generated client.</summary>
public sealed class GeneratedServiceTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    private static readonly object Who = new();

    [Fact]
    public async Task Bind_ServesTheBasesMethods_ToTheGeneratedClient_WithTheContextTheGateMade()
    {
        var router = new GrpcRouter();
        router.Bind(TaskFarm.BindService, new Farm());
        var authorizer = new DelegateAuthorizer(call =>
        {
            call.Items[Who] = "admitted by the gate";
            return ValueTask.CompletedTask;
        });
        await using var server = await TestServer.StartAsync(router, authorizer);
        var client = new TaskFarm.TaskFarmClient(server.Channel().Invoker);

        var reply = await client.QueueStatusAsync(new QueueStatusRequest()).ResponseAsync.WaitAsync(Timeout);

        Assert.Equal("admitted by the gate".Length, reply.Queued);
        Assert.Equal(server.EndPoint.Port, reply.Engines);
        Assert.Contains("/capcluster.v1.TaskFarm/QueueStatus", router.Paths);
    }

    [Fact]
    public async Task Bind_KeepsAMethodMappedBefore_AndLeavesWhatTheBaseDoesNotImplement_Unimplemented()
    {
        var router = new GrpcRouter();
        router.MapUnary(CapClusterMethods.Abort, (_, _) => Task.FromResult(new AbortReply { Aborted = { -2 } }));
        router.Bind(TaskFarm.BindService, new Farm());
        await using var server = await TestServer.StartAsync(router);
        var client = new TaskFarm.TaskFarmClient(server.Channel().Invoker);

        var aborted = await client.AbortAsync(new AbortRequest { TaskIds = { 1 } }).ResponseAsync.WaitAsync(Timeout);
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.GetResultsAsync(new GetResultsRequest()).ResponseAsync.WaitAsync(Timeout));

        Assert.Equal([-2], aborted.Aborted);
        Assert.Equal(StatusCode.Unimplemented, missing.StatusCode);
    }

    [Fact]
    public async Task ServeDuplex_RunsTheBoundStreamHandler_WithTheCallContextItIsGiven()
    {
        var router = new GrpcRouter();
        router.Bind(TaskFarm.BindService, new Farm());
        var call = CallContext.CreateForTest(CapClusterMethods.Tasks.FullName);
        call.Items[Who] = "a stream lane's caller";
        var responses = new Responses();

        await router.ServeDuplexAsync(CapClusterMethods.Tasks, new Requests(3), responses, call).WaitAsync(Timeout);

        Assert.Equal([0, 1, 2], responses.Written.Select(m => m.Accepted.Tasks[0].ClientRef));
        Assert.All(responses.Written, m => Assert.Equal("a stream lane's caller", m.Accepted.Tasks[0].Refused));
    }

    [Fact]
    public void ServeDuplex_ForAStreamNothingServes_SaysSo()
    {
        var router = new GrpcRouter();

        var e = Assert.Throws<InvalidOperationException>(() =>
        {
            _ = router.ServeDuplexAsync(CapClusterMethods.Tasks, new Requests(0), new Responses(), CallContext.CreateForTest(CapClusterMethods.Tasks.FullName));
        });

        Assert.Contains("/capcluster.v1.TaskFarm/Tasks is not mapped", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers from what <see cref="CallContext.Of"/> gives it; Abort and GetResults are left to the base.</summary>
    private sealed class Farm : TaskFarm.TaskFarmBase
    {
        public override Task<QueueStatusReply> QueueStatus(QueueStatusRequest request, ServerCallContext context)
        {
            var call = CallContext.Of(context);
            return Task.FromResult(new QueueStatusReply { Queued = ((string)call.Items[Who]!).Length, Engines = call.LocalPort });
        }

        public override async Task Tasks(IAsyncStreamReader<TaskClientMessage> requestStream, IServerStreamWriter<TaskServerMessage> responseStream, ServerCallContext context)
        {
            var who = (string)CallContext.Of(context).Items[Who]!;
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                var reference = requestStream.Current.Submit.Tasks[0].ClientRef;
                await responseStream.WriteAsync(new TaskServerMessage
                {
                    Accepted = new TaskAcceptedBatch { Tasks = { new TaskAccepted { ClientRef = reference, Refused = who } } },
                });
            }
        }
    }

    private sealed class Requests(int count) : IAsyncStreamReader<TaskClientMessage>
    {
        private int _next = -1;

        public TaskClientMessage Current => new() { Submit = new SubmitTasks { Tasks = { new SubmitTask { ClientRef = _next } } } };

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < count);
    }

    private sealed class Responses : IServerStreamWriter<TaskServerMessage>
    {
        public List<TaskServerMessage> Written { get; } = [];

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(TaskServerMessage message)
        {
            Written.Add(message);
            return Task.CompletedTask;
        }
    }
}
