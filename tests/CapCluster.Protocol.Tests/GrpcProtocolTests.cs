using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Tests;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("1500u", 15_000L)]
    [InlineData("99999999n", 999_999L)]
    public void TryParseTimeout_EveryUnit_GivesTheDuration(string value, long ticks)
    {
        Assert.True(GrpcProtocol.TryParseTimeout(value, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    public void TryParseTimeout_Malformed_Rejected(string? value) => Assert.False(GrpcProtocol.TryParseTimeout(value, out _));

    [Fact]
    public void FormatTimeout_RoundsUpAndFitsEightDigits()
    {
        Assert.Equal("1m", GrpcProtocol.FormatTimeout(TimeSpan.FromTicks(1)));
        Assert.Equal("1500m", GrpcProtocol.FormatTimeout(TimeSpan.FromMilliseconds(1500)));
        Assert.Equal("200000S", GrpcProtocol.FormatTimeout(TimeSpan.FromSeconds(200_000)));
        Assert.True(GrpcProtocol.TryParseTimeout(GrpcProtocol.FormatTimeout(TimeSpan.FromDays(10_000)), out var parsed));
        Assert.True(parsed >= TimeSpan.FromDays(10_000));
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("line\nbreak", "line%0Abreak")]
    public void EncodeMessage_PercentEncodesAsTheSpecSays(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcProtocol.EncodeMessage(message));
        Assert.Equal(message, GrpcProtocol.DecodeMessage(encoded));
    }

    [Fact]
    public void DecodeMessage_MalformedEscape_KeptAsIs() => Assert.Equal("50%zz", GrpcProtocol.DecodeMessage("50%zz"));

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
    public void RpcException_Message_ShowsCodeAndDetail()
    {
        var ex = new RpcException(new Status(StatusCode.PermissionDenied, "capability revoked"));

        Assert.Equal("Status(StatusCode=\"PermissionDenied\", Detail=\"capability revoked\")", ex.Message);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    [Fact]
    public void Method_FullName_IsThePath()
    {
        var method = new Method<V1.Pong, V1.Pong>(MethodType.Unary, "capcluster.v1.MultiEngine", "GetIds");

        Assert.Equal("/capcluster.v1.MultiEngine/GetIds", method.FullName);
    }

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
        var context = ServerCallContext.CreateForTest(
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
        var context = ServerCallContext.CreateForTest("/s/m", remoteEndPoint: new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), 5555));

        Assert.Equal(peer, context.Peer);
    }
}
