namespace CapCluster.Protocol.Internal;

/// <summary>
/// A stream's message that was not written because the other end had already closed the connection: it never
/// reached the other end, so it may be sent again elsewhere (see <see cref="ChannelFailures.NotSent"/>). Carried
/// as the debug exception of the call's UNAVAILABLE status.
/// </summary>
internal sealed class MessageNotSentException(string message) : IOException(message);
