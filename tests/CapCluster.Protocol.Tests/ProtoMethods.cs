using Google.Protobuf;
using Grpc.Core;

namespace CapCluster.Protocol.Tests;

/// <summary>gRPC method descriptors for protobuf messages made up by a test (methods no .proto declares), as protoc's generated code makes them.</summary>
internal static class ProtoMethods
{
    /// <summary>A method of <paramref name="serviceName"/> whose messages are serialized with protobuf.</summary>
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(MethodType type, string serviceName, string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(type, serviceName, name, ProtoMarshaller<TRequest>.Instance, ProtoMarshaller<TResponse>.Instance);
}

/// <summary>The protobuf parser and gRPC marshaller of one message type.</summary>
/// <typeparam name="T">The message type.</typeparam>
internal static class ProtoMarshaller<T>
    where T : class, IMessage<T>, new()
{
    /// <summary>The message type's parser.</summary>
    public static MessageParser<T> Parser { get; } = (MessageParser<T>)new T().Descriptor.Parser;

    /// <summary>Writes a message straight into the call's buffer and reads one from the received frame, without copies.</summary>
    public static Marshaller<T> Instance { get; } = Marshallers.Create<T>(Serialize, Deserialize);

    private static void Serialize(T message, SerializationContext context)
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    private static T Deserialize(DeserializationContext context) => Parser.ParseFrom(context.PayloadAsReadOnlySequence());
}
