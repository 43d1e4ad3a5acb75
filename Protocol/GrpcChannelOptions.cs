using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol;

/// <summary>Options of a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The client certificate, with its private key, presented when the server asks; default none.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Decides whether the server's certificate is acceptable (e.g. chains to the pinned controller CA).
    /// Required. The <see cref="SslPolicyErrors"/> are those of the OS trust store, for information only.
    /// </summary>
    public required Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> ValidateServerCertificate { get; set; }

    /// <summary>Headers added to every call, e.g. <c>("authorization", "Capability &lt;secret&gt;")</c>; default none.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> DefaultHeaders { get; set; } = [];

    /// <summary>Largest response message accepted, in bytes; larger fails the call with RESOURCE_EXHAUSTED. Default 64 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest request message sent, in bytes; larger fails with RESOURCE_EXHAUSTED before sending. Default 64 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Time allowed for TCP connect plus TLS handshake, per endpoint. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>HTTP/2 per-stream receive window, in bytes (at most 16 MiB, the .NET limit). Default 16 MiB.</summary>
    public int InitialStreamWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Interval of HTTP/2 keep-alive pings while calls are open, to notice a dead peer. Default 30 seconds.</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keep-alive ping may go unanswered before the connection is closed. Default 20 seconds.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Where the channel logs connection attempts and failed calls; default none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
