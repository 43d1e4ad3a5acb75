using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// Open connections by id, so a call can close its whole connection (on HTTP/2, <c>HttpContext.Abort</c> only resets
/// one stream); and the connection budgets: each port admits connections within its <see cref="ConnectionLimits"/>,
/// and one that presented no client certificate is closed soon, and after its first refused call at once.
/// </summary>
internal sealed class ConnectionRegistry(GrpcServerOptions options)
{
    /// <summary>How long after its first refused call a connection without a certificate is closed.</summary>
    public static readonly TimeSpan RefusedCloseDelay = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<string, Entry> _connections = new(StringComparer.Ordinal);

    /// <summary>The first middleware of <paramref name="endpoint"/>'s connections, before TLS: counts them against its budget.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Track(GrpcEndpoint endpoint)
    {
        var limits = options.Limits;
        var budget = new ConnectionBudget($"connections on the {endpoint.Name} port", limits.MaxPerAddress, limits.MaxTotal, "--max-connections-per-address", "--max-connections");
        return next => async connection =>
        {
            var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
            if (budget.TryTake(address) is { } refusal)
            {
                Refused(endpoint, connection, refusal);
                return;
            }

            _connections[connection.ConnectionId] = new Entry(connection);
            try
            {
                await next(connection).ConfigureAwait(false);
                if (connection.Features.Get<ITlsConnectionFeature>() is null)
                {
                    Refused(endpoint, connection, $"no TLS handshake completed within {limits.HandshakeTimeout.TotalSeconds:0.#} s " +
                        "(TLS 1.3 is required, with a client certificate from this controller's .cap file)");
                }
            }
            finally
            {
                _connections.TryRemove(connection.ConnectionId, out _);
                budget.Release(address);
            }
        };
    }

    /// <summary>The middleware after TLS: a connection without a client certificate is closed after <see cref="ConnectionLimits.CertificateLessTimeout"/>.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> LimitCertificateLess(GrpcEndpoint endpoint) => next => async connection =>
    {
        if (connection.Features.Get<ITlsConnectionFeature>() is { ClientCertificate: null } && _connections.TryGetValue(connection.ConnectionId, out var entry))
        {
            entry.CertificateLess = true;
            var timeout = options.Limits.CertificateLessTimeout;
            using var timer = new Timer(_ =>
            {
                Refused(endpoint, connection, $"no client certificate: closed after {timeout.TotalSeconds:0.#} s (a connection without one can only be refused)");
                connection.Abort(new ConnectionAbortedException("no client certificate"));
            }, null, timeout, Timeout.InfiniteTimeSpan);
            await next(connection).ConfigureAwait(false);
            return;
        }

        await next(connection).ConfigureAwait(false);
    };

    public bool IsOpen(string connectionId) => _connections.ContainsKey(connectionId);

    /// <summary>True when the connection presented no client certificate.</summary>
    public bool IsCertificateLess(string connectionId) => _connections.TryGetValue(connectionId, out var entry) && entry.CertificateLess;

    /// <summary>Closes the connection gracefully (HTTP/2 GOAWAY): calls under way end, no new one starts.</summary>
    public void RequestClose(string connectionId)
    {
        if (_connections.TryGetValue(connectionId, out var entry))
        {
            if (entry.Connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime)
            {
                lifetime.RequestClose();
            }
            else
            {
                entry.Connection.Abort(new ConnectionAbortedException("The server closed the connection."));
            }
        }
    }

    public bool Abort(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return false;
        }

        entry.Connection.Abort(new ConnectionAbortedException("The server closed the connection."));
        return true;
    }

    private void Refused(GrpcEndpoint endpoint, ConnectionContext connection, string reason) =>
        options.ConnectionRefused?.Invoke(new ConnectionRefusal(endpoint.Name, connection.RemoteEndPoint?.ToString() ?? "unknown", reason));

    private sealed class Entry(ConnectionContext connection)
    {
        public ConnectionContext Connection { get; } = connection;

        public volatile bool CertificateLess;
    }
}
