using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Protocol;

/// <summary>Options of a <see cref="GrpcServer"/>.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes; larger gets RESOURCE_EXHAUSTED naming size and limit. Default 64 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest response message sent, in bytes; larger fails the call with RESOURCE_EXHAUSTED. Default 64 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>HTTP/2 connection receive window, in bytes. Default 32 MiB.</summary>
    public int InitialConnectionWindowSize { get; set; } = 32 * 1024 * 1024;

    /// <summary>HTTP/2 per-stream receive window, in bytes. Default 16 MiB.</summary>
    public int InitialStreamWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest HTTP/2 frame payload the server accepts, in bytes (16 KiB to 16 MiB - 1). Default 1 MiB.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>Concurrent streams (calls) allowed per connection. Default 1000.</summary>
    public int MaxStreamsPerConnection { get; set; } = 1000;

    /// <summary>Time an idle connection (no open stream) is kept. Default 1 day: clients hold connections for the cluster's life.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Interval of HTTP/2 pings on a quiet connection, to notice a client that vanished without closing. Default 60 seconds.</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a ping may go unanswered before the connection is closed. Default 20 seconds.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Connections admitted per port and per remote address, and the time a peer has to present a certificate.</summary>
    public ConnectionLimits Limits { get; set; } = new();

    /// <summary>
    /// Told of every connection closed before any call could be made on it: over a <see cref="Limits"/> limit, or
    /// without a client certificate when <see cref="ConnectionLimits.CertificateLessTimeout"/> passed. Null: not told.
    /// </summary>
    public Action<ConnectionRefusal>? ConnectionRefused { get; set; }

    /// <summary>The server's TLS certificate, with its private key. Required.</summary>
    public X509Certificate2 ServerCertificate { get; set; } = null!;

    internal void Validate()
    {
        if (ServerCertificate is null || !ServerCertificate.HasPrivateKey)
        {
            throw new ArgumentException("GrpcServerOptions.ServerCertificate must be set to a certificate with its private key.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceiveMessageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendMessageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStreamsPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, 16 * 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, (16 * 1024 * 1024) - 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamWindowSize, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialConnectionWindowSize, InitialStreamWindowSize);
        ArgumentNullException.ThrowIfNull(Limits);
        Limits.Validate();
    }

    /// <summary>How much Kestrel buffers per connection for responses and requests before writers wait. Default 16 MiB.</summary>
    public long MaxResponseBufferSize { get; set; } = 16 * 1024 * 1024;
}
