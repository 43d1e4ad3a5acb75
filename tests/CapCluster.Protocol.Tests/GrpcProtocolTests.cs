using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Tests;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("line\nbreak", "line%0Abreak")]
    public void EncodeMessage_PercentEncodesAsTheSpecSays(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcProtocol.EncodeMessage(message));
        Assert.Equal(message, Uri.UnescapeDataString(encoded));
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("application/grpcx", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void IsGrpcContentType_AcceptsGrpcVariantsOnly(string? contentType, bool expected) =>
        Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));

    [Fact]
    public void Router_MethodTypeMismatchOrDuplicate_Refused()
    {
        var router = new GrpcRouter();
        router.MapUnary(TestService.Echo, (r, _) => Task.FromResult(r));

        Assert.Throws<ArgumentException>(() => router.MapUnary(TestService.Echo, (r, _) => Task.FromResult(r)));
        Assert.Throws<ArgumentException>(() => router.MapUnary(TestService.Chat, (r, _) => Task.FromResult(r)));
    }

    [Fact]
    public async Task ServerCallContext_CreateForTest_CarriesWhatAnAuthorizerNeeds()
    {
        using var cts = new CancellationTokenSource();
        var context = CallContext.CreateForTest(
            "/capcluster.v1.MultiEngine/GetIds",
            TestCertificates.Main.Client,
            [new("authorization", "Capability x")],
            new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.1.2.3"), 4567),
            cancellationToken: cts.Token);

        Assert.Equal("capcluster.v1.MultiEngine", context.ServiceName);
        Assert.Equal("GetIds", context.MethodName);
        Assert.Equal("ipv4:10.1.2.3:4567", context.Peer);
        Assert.Equal("Capability x", context.GetRequestHeader("authorization"));
        Assert.Same(TestCertificates.Main.Client, context.ClientCertificate);
        context.AbortConnection();
        Assert.True(context.ConnectionAbortRequested);
        await cts.CancelAsync();
        Assert.True(context.CancellationToken.IsCancellationRequested);
    }

    [Theory]
    [InlineData("::1", "ipv6:[::1]:5555")]
    [InlineData("::ffff:127.0.0.1", "ipv4:127.0.0.1:5555")]
    public void ServerCallContext_Peer_InGrpcForm(string address, string peer)
    {
        var context = CallContext.CreateForTest("/s/m", remoteEndPoint: new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), 5555));

        Assert.Equal(peer, context.Peer);
    }
}
