using System.Net.Security;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

public sealed partial class LaneConnection
{
    private static readonly SslApplicationProtocol LaneProtocol = new(LanePreamble.ApplicationProtocol);

    /// <summary>
    /// Joins a lane: connects to the controller's data port, sends the preamble, waits until the
    /// controller has spliced the other end in, runs TLS 1.3 with that end and exchanges record keys
    /// inside it. When both ends joined on the controller's local socket (<see cref="LaneOptions.HandoffSocket"/>),
    /// the controller says so and there is nothing more to set up: the lane is a Unix socket between the two
    /// (<see cref="IsLocal"/>). All of it with blocking calls on a thread of its own (see the class remarks); the
    /// timeout and the token close the socket.
    /// </summary>
    /// <exception cref="LaneException">The data port cannot be reached, the controller refused the lane, the other end never joined, or it is not the one named.</exception>
    public static Task<LaneConnection> ConnectAsync(LaneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.Factory.StartNew(() => Connect(options, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private static LaneConnection Connect(LaneOptions options, CancellationToken cancellationToken) =>
        LaneDialer.Dial(options.Endpoints, options.HandoffSocket, options.LaneId, options.Role, options.ConnectTimeout, options.Name, (network, local) =>
        {
            if (local)
            {
                // The controller checked the grant and both ends' uids before it answered; the kernel carries the rest.
                network.Reads = LaneReads.Direct;
                return new LaneConnection(network, null, null, options.Name);
            }

            // The dialer closes the socket if this fails; TLS has done its part either way (authentication
            // and the keys), and the records take over the socket.
            using var tls = new SslStream(network, leaveInnerStreamOpen: true);
            network.Reads = LaneReads.TlsRecords;
            Handshake(tls, options);
            var (send, receive) = LaneKeyExchange.Run(tls, options.Role, options.LaneId, System.Security.Cryptography.SHA256.HashData(options.Certificate.RawData), options.Name);
            network.Reads = LaneReads.Direct;
            return new LaneConnection(network, send, receive, options.Name);
        }, cancellationToken);

    private static void Handshake(SslStream ssl, LaneOptions options)
    {
        var refused = $"{options.Name}: the other end presented a certificate other than the one the controller named";
        if (options.Role == LaneRole.Engine)
        {
            LaneTls.AuthenticateAsServer(ssl, options.Certificate, LaneProtocol, options.AcceptPeer, refused);
        }
        else
        {
            LaneTls.AuthenticateAsClient(ssl, "capcluster-lane", options.Certificate, LaneProtocol, (peer, _, _) => options.AcceptPeer(peer), refused);
        }
    }
}
