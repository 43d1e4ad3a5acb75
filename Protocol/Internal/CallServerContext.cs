using Grpc.Core;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The <see cref="ServerCallContext"/> a generated service's handler is given for a call that did not come on HTTP/2
/// (a stream on a stream lane): its method, peer, deadline and cancellation are the <see cref="CallContext"/>'s, which
/// <see cref="CallContext.Of"/> returns. There are no headers (the gated call that granted the lane had them), and a
/// status or trailers set here are not sent: the lane ends with the status the handler returns or throws.
/// </summary>
internal sealed class CallServerContext(CallContext call) : ServerCallContext
{
    private readonly Dictionary<object, object> _userState = new() { [CallContext.UserStateKey] = call };

    protected override string MethodCore => call.Method;

    protected override string HostCore => string.Empty;

    protected override string PeerCore => call.Peer;

    protected override DateTime DeadlineCore => call.Deadline;

    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => call.CancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override IDictionary<object, object> UserStateCore => _userState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a call on a stream lane cannot propagate its deadline or cancellation to a child call");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
