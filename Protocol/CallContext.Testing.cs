using System.Net;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Protocol;

public sealed partial class CallContext
{
    /// <summary>
    /// Creates a context without a server, for unit tests of handlers and authorizers.
    /// <see cref="AbortConnection"/> only sets <see cref="ConnectionAbortRequested"/>.
    /// </summary>
    /// <param name="method">The method path, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</param>
    /// <param name="clientCertificate">The certificate the client presented; default none.</param>
    /// <param name="headers">Request headers; default none.</param>
    /// <param name="remoteEndPoint">The caller's address; default 127.0.0.1:50000.</param>
    /// <param name="localPort">The local port the call arrived on; default 0.</param>
    /// <param name="cancellationToken">Becomes the call's <see cref="CancellationToken"/> (with the server stopping).</param>
    public static CallContext CreateForTest(
        string method,
        X509Certificate2? clientCertificate = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        IPEndPoint? remoteEndPoint = null,
        int localPort = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        remoteEndPoint ??= new IPEndPoint(IPAddress.Loopback, 50000);
        var http = new DefaultHttpContext { RequestAborted = cancellationToken };
        http.Connection.Id = "test-" + Guid.NewGuid().ToString("N");
        http.Connection.ClientCertificate = clientCertificate;
        http.Connection.RemoteIpAddress = remoteEndPoint.Address;
        http.Connection.RemotePort = remoteEndPoint.Port;
        http.Connection.LocalPort = localPort;
        http.Request.Path = method;
        foreach (var (name, value) in headers ?? [])
        {
            http.Request.Headers.Append(name, value);
        }

        var runtime = new ServerRuntime(new GrpcServerOptions(), null, NullLogger.Instance, CancellationToken.None);
        return new CallContext(http, runtime, method);
    }
}
