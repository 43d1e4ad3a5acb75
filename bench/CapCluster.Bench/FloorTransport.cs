using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Bench;

/// <summary>
/// How the floor's processes connect and what they send: fixed-size messages on blocking streams, over TLS 1.3 with
/// certificates both ends check against the floor's CA (<c>tls</c>, on TCP), plain TCP (<c>tcp</c>), or a Unix domain
/// socket (<c>unix</c>); TCP always with Nagle off, as CapCluster's stream lanes.
/// </summary>
internal sealed class FloorTransport
{
    /// <summary>The size of every message: a small task's submission, its acceptance and its result are about this size.</summary>
    public const int MessageSize = 120;

    /// <summary>The first byte of a message the relay sends back at once, as the controller answers a submission with the task's id.</summary>
    public const byte Accepted = 1;

    /// <summary>The first byte of the worker's answer.</summary>
    public const byte Result = 2;

    private readonly FloorCertificates? certificates;

    private FloorTransport(string name, FloorCertificates? certificates)
    {
        Name = name;
        this.certificates = certificates;
    }

    /// <summary>The transports, in the order a run measures them.</summary>
    public static string[] Names { get; } = ["tls", "tcp", "unix"];

    /// <summary>tls, tcp or unix.</summary>
    public string Name { get; }

    /// <summary>The transport <paramref name="name"/>; for tls, with the certificates in <paramref name="folder"/>.</summary>
    public static FloorTransport Open(string name, string folder) => name switch
    {
        "tls" => new FloorTransport(name, FloorCertificates.Load(folder)),
        "tcp" or "unix" => new FloorTransport(name, null),
        _ => throw new ArgumentException($"unknown floor transport {name}; known: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>
    /// A socket listening for one connection: on a free loopback port, or at a socket file named for <paramref name="role"/>
    /// and this process in <paramref name="folder"/>; <paramref name="endpoint"/> is what <see cref="Connect"/> takes to reach it.
    /// </summary>
    public Socket Listen(string folder, string role, out string endpoint)
    {
        var listener = NewSocket();
        if (Name == "unix")
        {
            endpoint = Path.Combine(folder, $"{role}-{Environment.ProcessId}.sock");
            listener.Bind(new UnixDomainSocketEndPoint(endpoint));
        }
        else
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            endpoint = ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
        }

        listener.Listen(1);
        return listener;
    }

    /// <summary>Takes the connection <paramref name="listener"/> waits for; for tls, runs the handshake as the server.</summary>
    public Stream Accept(Socket listener) =>
        Wrap(listener.Accept(), (ssl, certificates) => ssl.AuthenticateAsServer(new SslServerAuthenticationOptions
        {
            ServerCertificate = certificates.Server,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = TrustOnly(certificates.Authority),
        }));

    /// <summary>
    /// Connects to what <see cref="Listen"/> named <paramref name="endpoint"/>; for tls, runs the handshake as the client.
    /// A read that waits longer than <paramref name="receiveTimeout"/> (when set) fails.
    /// </summary>
    public Stream Connect(string endpoint, TimeSpan? receiveTimeout = null)
    {
        var socket = NewSocket();
        socket.Connect(Name == "unix"
            ? new UnixDomainSocketEndPoint(endpoint)
            : new IPEndPoint(IPAddress.Loopback, int.Parse(endpoint, CultureInfo.InvariantCulture)));
        if (receiveTimeout is { } timeout)
        {
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        }

        return Wrap(socket, (ssl, certificates) => ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = FloorCertificates.ServerName,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = TrustOnly(certificates.Authority),
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificates.Client,
        }));
    }

    /// <summary>The stream on a connected <paramref name="socket"/> (Nagle off on TCP); for tls, after <paramref name="handshake"/>.</summary>
    private Stream Wrap(Socket socket, Action<SslStream, FloorCertificates> handshake)
    {
        TurnNagleOff(socket);
        var stream = new NetworkStream(socket, ownsSocket: true);
        if (certificates is null)
        {
            return stream;
        }

        var ssl = new SslStream(stream);
        handshake(ssl, certificates);
        return ssl;
    }

    /// <summary>Reads one message into <paramref name="message"/>; false if the connection ended before it.</summary>
    /// <exception cref="EndOfStreamException">The connection ended inside a message.</exception>
    public static bool Receive(Stream connection, byte[] message)
    {
        var read = 0;
        while (read < message.Length)
        {
            var count = connection.Read(message, read, message.Length - read);
            if (count == 0 && read == 0)
            {
                return false;
            }

            if (count == 0)
            {
                throw new EndOfStreamException($"the connection ended {read} bytes into a {message.Length}-byte message");
            }

            read += count;
        }

        return true;
    }

    /// <summary>On TCP, sends each write at once instead of holding it for the previous one's acknowledgement (a Unix socket has no such delay).</summary>
    private void TurnNagleOff(Socket socket)
    {
        if (Name != "unix")
        {
            socket.NoDelay = true;
        }
    }

    private Socket NewSocket() => Name == "unix"
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>A peer's certificate is good only if it chains to <paramref name="authority"/> alone, as CapCluster trusts only its own CA.</summary>
    private static X509ChainPolicy TrustOnly(X509Certificate2 authority)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(authority);
        return policy;
    }
}
