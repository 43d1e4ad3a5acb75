using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests;

/// <summary>Test-only methods over existing messages: every call carries <see cref="Pong"/> both ways.</summary>
internal static class TestService
{
    public const string Service = "capcluster.test.Echo";

    public static readonly Method<Pong, Pong> Echo = ProtoMethods.Create<Pong, Pong>(MethodType.Unary, Service, "Echo");
    public static readonly Method<Pong, Pong> Count = ProtoMethods.Create<Pong, Pong>(MethodType.ServerStreaming, Service, "Count");
    public static readonly Method<Pong, Pong> Sum = ProtoMethods.Create<Pong, Pong>(MethodType.ClientStreaming, Service, "Sum");
    public static readonly Method<Pong, Pong> Chat = ProtoMethods.Create<Pong, Pong>(MethodType.DuplexStreaming, Service, "Chat");
    public static readonly Method<Pong, Pong> Missing = ProtoMethods.Create<Pong, Pong>(MethodType.Unary, Service, "Missing");

    /// <summary>The path the python interop scripts use.</summary>
    public static readonly Method<Pong, Pong> Ping = ProtoMethods.Create<Pong, Pong>(MethodType.Unary, "capcluster.v1.MultiEngine", "Ping");
    public static readonly Method<Pong, Pong> PingStream = ProtoMethods.Create<Pong, Pong>(MethodType.DuplexStreaming, "capcluster.v1.MultiEngine", "PingStream");
    public static readonly Method<Pong, Pong> PingMany = ProtoMethods.Create<Pong, Pong>(MethodType.ServerStreaming, "capcluster.v1.MultiEngine", "PingMany");
    public static readonly Method<Pong, Pong> PingFail = ProtoMethods.Create<Pong, Pong>(MethodType.Unary, "capcluster.v1.MultiEngine", "PingFail");

    public static Pong Message(int id, int payloadSize = 0) => new()
    {
        EngineId = id,
        Payload = payloadSize == 0 ? ByteString.Empty : ByteString.CopyFrom(Filled(payloadSize)),
    };

    public static byte[] Filled(int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 31);
        }

        return bytes;
    }

    /// <summary>The standard handlers: echo adds one to the id; count streams ids 0..n-1; sum adds ids.</summary>
    public static GrpcRouter StandardRouter()
    {
        var router = new GrpcRouter();
        router.MapUnary(Echo, (request, _) => Task.FromResult(new Pong { EngineId = request.EngineId + 1, Payload = request.Payload }));
        router.MapServerStreaming(Count, async (request, writer, context) =>
        {
            for (var i = 0; i < request.EngineId; i++)
            {
                await writer.WriteAsync(new Pong { EngineId = i }, context.CancellationToken);
            }
        });
        router.MapClientStreaming(Sum, async (requests, context) =>
        {
            var sum = 0;
            var count = 0;
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                sum += request.EngineId;
                count++;
            }

            return new Pong { EngineId = sum, Payload = ByteString.CopyFromUtf8(count.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        });
        router.MapDuplex(Chat, async (requests, writer, context) =>
        {
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                await writer.WriteAsync(new Pong { EngineId = request.EngineId + 1, Payload = request.Payload }, context.CancellationToken);
            }
        });
        return router;
    }
}
