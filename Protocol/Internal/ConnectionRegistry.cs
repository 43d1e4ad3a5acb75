using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// Open connections by id, so a call can close its whole connection: on HTTP/2,
/// <c>HttpContext.Abort</c> only resets one stream.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ConnectionContext> _connections = new(StringComparer.Ordinal);

    public ConnectionDelegate Track(ConnectionDelegate next) => async connection =>
    {
        _connections[connection.ConnectionId] = connection;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection.ConnectionId, out _);
        }
    };

    public bool IsOpen(string connectionId) => _connections.ContainsKey(connectionId);

    public bool Abort(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var connection))
        {
            return false;
        }

        connection.Abort(new ConnectionAbortedException("The server closed the connection."));
        return true;
    }
}
