using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.StreamLanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.StreamLanes;

/// <summary>
/// Stream lanes end to end over loopback TLS, and over a local socket without it: a caller's duplex call through
/// <see cref="GrpcChannel"/>, and the controller's end as <see cref="StreamLaneEnds.Accept"/> serves it behind a
/// stand-in data port and local socket.
/// </summary>
public sealed class StreamLaneTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_BothWays_InOrder_AndTheHalfCloseEndsTheServersReads(bool local)
    {
        await using var port = new StreamPort(async (requests, responses) =>
        {
            var count = 0;
            while (await requests.MoveNext(CancellationToken.None))
            {
                count++;
                await responses.WriteAsync(new Pong { EngineId = requests.Current.EngineId * 2, Payload = requests.Current.Payload });
            }

            await responses.WriteAsync(new Pong { EngineId = -count });
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant(), local ? port.LocalName : null).WaitAsync(Timeout);

        var big = RandomNumberGenerator.GetBytes(100_000);
        for (var i = 1; i <= 500; i++)
        {
            await call.RequestStream.WriteAsync(new Pong { EngineId = i, Payload = i == 250 ? ByteString.CopyFrom(big) : ByteString.Empty });
        }

        await call.RequestStream.CompleteAsync();
        for (var i = 1; i <= 500; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(i * 2, call.ResponseStream.Current.EngineId);
            Assert.Equal(i == 250 ? big : [], call.ResponseStream.Current.Payload.ToByteArray());
        }

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(-500, call.ResponseStream.Current.EngineId);
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(local ? (0, 1) : (1, 0), port.Joined);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerError_ReachesTheCallerAsItsStatus(bool local)
    {
        await using var port = new StreamPort(async (requests, _) =>
        {
            await requests.MoveNext(CancellationToken.None);
            throw new RpcException(new Status(StatusCode.PermissionDenied, "not for you"));
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant(), local ? port.LocalName : null).WaitAsync(Timeout);

        await call.RequestStream.WriteAsync(new Pong());
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("not for you", error.Status.Detail);
    }

    [Fact]
    public async Task Caller_WithAnotherCertificateThanTheGranted_IsShutOut()
    {
        await using var port = new StreamPort((_, _) => Task.CompletedTask, pinned: TestCertificates.Other.Client);
        using var channel = Channel();

        // In TLS 1.3 the server judges the client's certificate after the client has finished: the refusal then shows on first use.
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant()).WaitAsync(Timeout);
            await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout);
        });
        Assert.True(error is LaneException or RpcException { StatusCode: StatusCode.Unavailable }, error.ToString());
        var refusal = await port.Refusal.WaitAsync(Timeout);
        Assert.Contains("the client presented a certificate other than the one the stream was granted to", refusal.Message);
    }

    [Fact]
    public async Task DataPort_NotTheControllers_IsRefusedSayingSo()
    {
        await using var port = new StreamPort((_, _) => Task.CompletedTask, serverCertificate: TestCertificates.Other.Server);
        using var channel = Channel();

        var error = await Assert.ThrowsAsync<LaneException>(() => channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant()).WaitAsync(Timeout));
        Assert.Contains("is not the controller's", error.Message);
    }

    [Fact]
    public async Task Message_LargerThanTheLimit_IsRefusedBeforeSending_AndTheStreamGoesOn()
    {
        await using var port = new StreamPort(async (requests, responses) =>
        {
            while (await requests.MoveNext(CancellationToken.None))
            {
                await responses.WriteAsync(requests.Current);
            }
        });
        using var channel = Channel(o => o.MaxSendMessageSize = 1024);
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant()).WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new Pong { Payload = ByteString.CopyFrom(new byte[2048]) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("larger than the limit of 1024 bytes", error.Status.Detail);

        await call.RequestStream.WriteAsync(new Pong { EngineId = 7 });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(7, call.ResponseStream.Current.EngineId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Writes_ToAPeerThatDoesNotRead_NeverBlockTheWriter_AndArriveInOrderOnceItReads(bool local)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chunk = RandomNumberGenerator.GetBytes(100_000);
        await using var port = new StreamPort(async (requests, responses) =>
        {
            // 32 MB: far more than the kernel buffers between the two ends hold.
            for (var i = 0; i < 320; i++)
            {
                await responses.WriteAsync(new Pong { EngineId = i, Payload = ByteString.CopyFrom(chunk) });
            }

            written.SetResult();
            await requests.MoveNext(CancellationToken.None);
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant(), local ? port.LocalName : null).WaitAsync(Timeout);

        await written.Task.WaitAsync(Timeout);
        for (var i = 0; i < 320; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(i, call.ResponseStream.Current.EngineId);
            Assert.Equal(chunk, call.ResponseStream.Current.Payload.ToByteArray());
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task WorkRunAfterAMessage_ThatBlocks_HandsTheReadingToAnotherThread()
    {
        var second = new ManualResetEventSlim();
        var readerThreads = new List<int>();
        var posted = false;
        await using var port = new StreamPort(async (requests, responses) =>
        {
            // Ready first, so that message 1 arrives while this waits for it: it is then delivered on the reader thread.
            await responses.WriteAsync(new Pong { EngineId = 0 });
            Assert.True(await requests.MoveNext(CancellationToken.None));
            readerThreads.Add(Environment.CurrentManagedThreadId);

            // Blocks the reader thread until message 2 has been read: only a hand-over can read it.
            posted = ((IReaderThread)requests).TryRunAfterThisMessage(() => second.Wait(Timeout));
            await responses.WriteAsync(new Pong { EngineId = 1 });
            Assert.True(await requests.MoveNext(CancellationToken.None));
            readerThreads.Add(Environment.CurrentManagedThreadId);
            second.Set();
            await responses.WriteAsync(new Pong { EngineId = 2 });
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant()).WaitAsync(Timeout);

        for (var i = 0; i <= 2; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(i, call.ResponseStream.Current.EngineId);
            if (i < 2)
            {
                await call.RequestStream.WriteAsync(new Pong { EngineId = i + 1 });
            }
        }

        Assert.True(posted);
        Assert.True(second.IsSet);
        Assert.NotEqual(readerThreads[0], readerThreads[1]);
    }

    [Fact]
    public async Task CancellingARead_ClosesTheStream_AndTheServerSeesItGo()
    {
        var serverSawEnd = new TaskCompletionSource<RpcException>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var port = new StreamPort(async (requests, _) =>
        {
            try
            {
                await requests.MoveNext(CancellationToken.None);
            }
            catch (RpcException e)
            {
                serverSawEnd.TrySetResult(e);
            }
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant()).WaitAsync(Timeout);
        using var cancel = new CancellationTokenSource();

        var read = call.ResponseStream.MoveNext(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Timeout));
        var seen = Assert.IsType<RpcException>(await serverSawEnd.Task.WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, seen.StatusCode);
        Assert.StartsWith("the test stream ", seen.Status.Detail);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMessageWrittenAfterTheControllerWentAway_FailsAsNotSent_WhileTheBreakItselfIsNot(bool local)
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var port = new StreamPort(async (requests, _) =>
        {
            await requests.MoveNext(CancellationToken.None);
            // As a killed controller: the connection closes, with no end of the call.
            ((StreamLane<Pong, Pong>)requests).Abort();
            gone.TrySetResult();
        });
        using var channel = Channel();
        using var call = await channel.DuplexStreamingOnLaneAsync(TestService.Chat, port.Endpoints, port.Grant(), local ? port.LocalName : null).WaitAsync(Timeout);

        await call.RequestStream.WriteAsync(new Pong { EngineId = 1 });
        await gone.Task.WaitAsync(Timeout);
        var broken = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var unsent = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new Pong { EngineId = 2 }).WaitAsync(Timeout));

        Assert.Equal("the stream lane for /capcluster.test.Echo/Chat was closed by the other end", broken.Status.Detail);
        Assert.False(ChannelFailures.NotSent(broken));
        Assert.Equal(StatusCode.Unavailable, unsent.StatusCode);
        Assert.True(ChannelFailures.NotSent(unsent), unsent.ToString());
    }

    private static GrpcChannel Channel(Action<GrpcChannelOptions>? configure = null) =>
        TestServer.CreateChannel(new DnsEndPoint("127.0.0.1", 1), configure);

    /// <summary>
    /// A stand-in data port and local socket that serve stream lanes for <see cref="TestService.Chat"/>: answer the
    /// preamble of a granted id, accept TLS with the controller's certificate and the one pinned client certificate
    /// (on the local socket: nothing, and answer it is local, as the controller does), then run a handler.
    /// </summary>
    private sealed class StreamPort : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly Socket local = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private int joinedTls;
        private int joinedLocal;
        private readonly Func<IAsyncStreamReader<Pong>, IServerStreamWriter<Pong>, Task> handler;
        private readonly X509Certificate2 pinned;
        private readonly X509Certificate2 serverCertificate;
        private readonly HashSet<string> grants = [];
        private readonly TaskCompletionSource<LaneException> refusal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task accepting;

        public StreamPort(Func<IAsyncStreamReader<Pong>, IServerStreamWriter<Pong>, Task> handler, X509Certificate2? pinned = null, X509Certificate2? serverCertificate = null)
        {
            this.handler = handler;
            this.pinned = pinned ?? TestCertificates.Main.Client;
            this.serverCertificate = serverCertificate ?? TestCertificates.Main.Server;
            listener.Start();
            LocalName = $"capcluster-test-{Guid.NewGuid():N}";
            local.Bind(new UnixDomainSocketEndPoint("\0" + LocalName));
            local.Listen();
            accepting = Task.WhenAll(Task.Run(() => AcceptAllAsync(listener.Server)), Task.Run(() => AcceptAllAsync(local)));
        }

        public IReadOnlyList<DnsEndPoint> Endpoints => [new DnsEndPoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port)];

        /// <summary>The local socket's name (abstract namespace).</summary>
        public string LocalName { get; }

        /// <summary>How many lanes joined with TLS on the data port, and how many on the local socket.</summary>
        public (int Tls, int Local) Joined => (Volatile.Read(ref joinedTls), Volatile.Read(ref joinedLocal));

        public Task<LaneException> Refusal => refusal.Task;

        public byte[] Grant()
        {
            var id = RandomNumberGenerator.GetBytes(LanePreamble.IdLength);
            lock (grants)
            {
                grants.Add(Convert.ToHexString(id));
            }

            return id;
        }

        public async ValueTask DisposeAsync()
        {
            listener.Stop();
            local.Dispose();
            await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task AcceptAllAsync(Socket listening)
        {
            while (true)
            {
                var socket = await listening.AcceptAsync();
                _ = Task.Factory.StartNew(() => Serve(socket), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            }
        }

        private async Task Serve(Socket socket)
        {
            var preamble = new byte[LanePreamble.Length];
            socket.Receive(preamble);
            Assert.True(LanePreamble.TryParse(preamble, out var id, out var role));
            Assert.Equal(LaneRole.Stream, role);
            lock (grants)
            {
                Assert.True(grants.Remove(Convert.ToHexString(id)));
            }

            var isLocal = socket.AddressFamily == AddressFamily.Unix;
            socket.Send([isLocal ? LanePreamble.Local : LanePreamble.Spliced]);
            StreamLane<Pong, Pong> lane;
            try
            {
                var expected = SHA256.HashData(pinned.RawData);
                lane = StreamLaneEnds.Accept(TestService.Chat, socket, serverCertificate, LaneOptions.PinnedTo(expected), 1024 * 1024, "the test stream");
                Interlocked.Increment(ref isLocal ? ref joinedLocal : ref joinedTls);
            }
            catch (LaneException e)
            {
                refusal.TrySetResult(e);
                return;
            }

            try
            {
                await handler(lane, lane);
                lane.Finish(Status.DefaultSuccess);
            }
            catch (RpcException e)
            {
                lane.Finish(e.Status);
            }
        }
    }
}
