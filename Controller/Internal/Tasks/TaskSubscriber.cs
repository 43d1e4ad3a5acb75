using System.Threading.Channels;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>A client's task stream: the results of the tasks it submitted are written to it, in batches.</summary>
internal sealed class TaskSubscriber
{
    private readonly Channel<TaskResult> results = Channel.CreateUnbounded<TaskResult>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<TaskResult> Results => results.Reader;

    public void Deliver(TaskResult result) => results.Writer.TryWrite(result);

    public void Close() => results.Writer.TryComplete();
}
