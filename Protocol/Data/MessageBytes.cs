using Google.Protobuf;

namespace CapCluster.Protocol.Data;

/// <summary>
/// A message's encoding, written through a span into an array of its exact size. <c>ToByteArray</c> and
/// <c>ToByteString</c> also make a stream object per call, which the task path would pay per task.
/// </summary>
public static class MessageBytes
{
    /// <summary>The encoding of <paramref name="message"/>.</summary>
    public static byte[] Of(IMessage message)
    {
        var bytes = new byte[message.CalculateSize()];
        message.WriteTo(bytes.AsSpan());
        return bytes;
    }

    /// <summary>The encoding of <paramref name="message"/> as a ByteString over the array (no copy: nothing else holds it).</summary>
    public static ByteString StringOf(IMessage message) => UnsafeByteOperations.UnsafeWrap(Of(message));
}
