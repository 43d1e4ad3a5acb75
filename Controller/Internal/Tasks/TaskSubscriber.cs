using System.Threading.Channels;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// A client's task stream: the results of the tasks it submitted are written to it, in batches. Synchronous
/// continuations: when the stream's writer is idle, the thread that delivers (the one that read the engine's
/// answer) writes the results at once, with no thread hop; deliveries that arrive while it writes go in the next message.
/// </summary>
internal sealed class TaskSubscriber
{
    private readonly Channel<IReadOnlyList<TaskResult>> results = Channel.CreateUnbounded<IReadOnlyList<TaskResult>>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });

    public ChannelReader<IReadOnlyList<TaskResult>> Results => results.Reader;

    public void Deliver(IReadOnlyList<TaskResult> finished) => results.Writer.TryWrite(finished);

    public void Close() => results.Writer.TryComplete();
}
