using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Tests;

/// <summary>
/// A request stream's write that fails under grpc-dotnet with a bare IOException (the connection reset under it),
/// thrown at once or from the task, fails with a status that says the connection was lost, never the bare exception.
/// </summary>
public sealed class TranslatingWriterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWriteFailingWithAnIOException_FailsAsALostConnection(bool thrownAtOnce)
    {
        var writer = new TranslatingWriter<string>(
            new FailingWriter(thrownAtOnce), "/svc/M", new ChannelTarget("controller:1"), () => throw new InvalidOperationException("the call is not finished"), CancellationToken.None);

        var write = await Assert.ThrowsAsync<RpcException>(() => writer.WriteAsync("x").WaitAsync(Timeout));
        var complete = await Assert.ThrowsAsync<RpcException>(() => writer.CompleteAsync().WaitAsync(Timeout));

        foreach (var e in new[] { write, complete })
        {
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.StartsWith("the connection to controller:1 was lost during /svc/M (Connection reset by peer)", e.Status.Detail, StringComparison.Ordinal);
            Assert.IsType<IOException>(e.Status.DebugException);
        }
    }

    private sealed class FailingWriter(bool thrownAtOnce) : IClientStreamWriter<string>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(string message) => Fail();

        public Task CompleteAsync() => Fail();

        private Task Fail()
        {
            var e = new IOException("The request was aborted.", new IOException("Connection reset by peer"));
            return thrownAtOnce ? throw e : Task.FromException(e);
        }
    }
}
