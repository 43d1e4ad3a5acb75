using System.Net.Http;
using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Tests;

/// <summary>
/// A new connection the server closed before accepting our certificate, reported by SocketsHttpHandler without its
/// cause ("the server did not complete the HTTP/2 handshake", when the refusal came as it handed the connection to the
/// call): the call says the certificate was not accepted, as it does when the handler keeps the cause.
/// </summary>
public sealed class ChannelErrorsTests
{
    private static readonly HttpRequestException NotEstablished =
        new("An HTTP/2 connection could not be established because the server did not complete the HTTP/2 handshake.");

    private static ConnectFailureException Refusal() =>
        new(new Status(StatusCode.Unavailable, "controller:1: refused by the controller (certificate not accepted)"));

    [Fact]
    public void AConnectionNotEstablished_AfterAConnectionWasRefused_IsTheRefusal()
    {
        var target = new ChannelTarget("controller:1");
        target.Saw(Refusal());

        var status = ChannelErrors.FromFailure(NotEstablished, "/svc/M", target).Status;

        Assert.Equal(StatusCode.Unavailable, status.StatusCode);
        Assert.Equal("controller:1: refused by the controller (certificate not accepted)", status.Detail);
        Assert.Same(NotEstablished, status.DebugException);
    }

    [Fact]
    public void AConnectionNotEstablished_WithNoRefusal_OrAfterAConnectionWasAccepted_IsALostConnection()
    {
        var target = new ChannelTarget("controller:1");
        var never = ChannelErrors.FromFailure(NotEstablished, "/svc/M", target).Status;
        target.Saw(Refusal());
        target.Saw(null);
        var accepted = ChannelErrors.FromFailure(NotEstablished, "/svc/M", target).Status;

        foreach (var status in new[] { never, accepted })
        {
            Assert.StartsWith("the connection to controller:1 was lost during /svc/M (An HTTP/2 connection could not be established", status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ALostConnectionWithItsCause_IsNotTakenForTheRefusal()
    {
        var target = new ChannelTarget("controller:1");
        target.Saw(Refusal());

        var status = ChannelErrors.FromFailure(new HttpRequestException("the connection was reset", new IOException("Connection reset by peer")), "/svc/M", target).Status;

        Assert.StartsWith("the connection to controller:1 was lost during /svc/M (Connection reset by peer)", status.Detail, StringComparison.Ordinal);
    }
}
