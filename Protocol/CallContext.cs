using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Internal;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol;

/// <summary>
/// What a server handler or <see cref="ICallAuthorizer"/> knows about the call it serves: who called (address,
/// certificate, connection), on which port, and what the authorizer learned. The same for a call on HTTP/2 and on a
/// stream lane.
/// </summary>
public sealed partial class CallContext
{
    private readonly HttpContext? _http;
    private readonly ServerRuntime? _runtime;
    private readonly StreamLaneEnd? _lane;
    private readonly CancellationTokenSource _callCts;
    private CancellationTokenRegistration? _binding;
    private Dictionary<object, object?>? _items;

    internal CallContext(HttpContext http, ServerRuntime runtime, string path)
    {
        _http = http;
        _runtime = runtime;
        Method = path;
        var slash = path.LastIndexOf('/');
        ServiceName = slash > 0 ? path[1..slash] : string.Empty;
        MethodName = slash >= 0 ? path[(slash + 1)..] : path;

        // Captured now: Kestrel recycles the HttpContext when the call ends.
        LocalPort = http.Connection.LocalPort;
        ConnectionId = http.Connection.Id;
        ClientCertificate = http.Connection.ClientCertificate;
        var remote = http.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            if (remote.IsIPv4MappedToIPv6)
            {
                remote = remote.MapToIPv4();
            }

            RemoteEndPoint = new IPEndPoint(remote, http.Connection.RemotePort);
            Peer = (remote.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6:" : "ipv4:") + RemoteEndPoint;
        }
        else
        {
            Peer = "unknown";
        }

        _callCts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, runtime.Stopping);
    }

    private CallContext(CallContext granting, string method, StreamLaneEnd lane)
    {
        _lane = lane;
        Method = method;
        var slash = method.LastIndexOf('/');
        ServiceName = slash > 0 ? method[1..slash] : string.Empty;
        MethodName = slash >= 0 ? method[(slash + 1)..] : method;
        LocalPort = granting.LocalPort;
        ConnectionId = lane.ConnectionId;
        ClientCertificate = granting.ClientCertificate;
        RemoteEndPoint = granting.RemoteEndPoint;
        Peer = granting.Peer;
        _items = granting._items is null ? null : new Dictionary<object, object?>(granting._items);
        _callCts = CancellationTokenSource.CreateLinkedTokenSource(lane.Ended);
    }

    /// <summary>The key of the <see cref="CallContext"/> in a served call's <see cref="ServerCallContext.UserState"/>.</summary>
    internal static readonly object UserStateKey = new();

    /// <summary>The method path, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</summary>
    public string Method { get; }

    /// <summary>The service part of <see cref="Method"/>, e.g. <c>capcluster.v1.MultiEngine</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The method part of <see cref="Method"/>, e.g. <c>GetIds</c>.</summary>
    public string MethodName { get; }

    /// <summary>The caller's address in gRPC form: <c>ipv4:127.0.0.1:5555</c> or <c>ipv6:[::1]:5555</c>.</summary>
    public string Peer { get; }

    /// <summary>The caller's address; IPv4-mapped IPv6 addresses are given as IPv4.</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The local port the call arrived on, which tells which <see cref="GrpcEndpoint"/> it used.</summary>
    public int LocalPort { get; }

    /// <summary>The id of the underlying connection, shared by every call on it.</summary>
    public string ConnectionId { get; }

    /// <summary>
    /// The certificate the client presented in the TLS handshake, or null. It has NOT been validated:
    /// that is the <see cref="ICallAuthorizer"/>'s job.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>When the call must be finished (UTC), from the caller's deadline; <see cref="DateTime.MaxValue"/> when none.</summary>
    public DateTime Deadline { get; private set; } = DateTime.MaxValue;

    /// <summary>Cancelled when the client cancels or resets the call, the deadline passes, or the server stops.</summary>
    public CancellationToken CancellationToken => _callCts.Token;

    /// <summary>Per-call state, e.g. what the authorizer learned about the caller.</summary>
    public IDictionary<object, object?> Items => _items ??= [];

    internal bool ServerStopping => _runtime?.Stopping.IsCancellationRequested ?? false;

    /// <summary>True once <see cref="AbortConnection"/> has been called for this call.</summary>
    public bool ConnectionAbortRequested { get; private set; }

    /// <summary>
    /// Returns the value of a request header (comma-joined when repeated), or null. Only valid while the call runs. A
    /// stream on a stream lane has no headers: the gated call that granted it had them.
    /// </summary>
    /// <param name="name">The header name, case-insensitive.</param>
    public string? GetRequestHeader(string name) =>
        _http is not null && _http.Request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>Whether the underlying connection is still open (valid after the call ended, unlike the call's own state).</summary>
    public bool ConnectionOpen => _lane?.IsOpen() ?? _runtime!.Connections.IsOpen(ConnectionId);

    /// <summary>
    /// The context of a stream that this call granted and that travels on a stream lane (its own TLS connection, beside
    /// HTTP/2), for the handler that serves it as it would serve the same stream on HTTP/2: the certificate, peer,
    /// port and items (what the authorizer learned) of this call, the lane's own end and connection. Call it once the
    /// lane is joined: this call has ended by then, and only what it captured is used.
    /// </summary>
    /// <param name="method">The stream's method path.</param>
    /// <param name="lane">The lane the stream travels on.</param>
    public CallContext ForStreamLane(string method, StreamLaneEnd lane) => new(this, method, lane);

    /// <summary>
    /// The context of a call that a <see cref="GrpcServer"/> serves (on HTTP/2 or on a stream lane): what a handler of a
    /// protoc-generated service base, which is given the <see cref="ServerCallContext"/>, asks for who called.
    /// </summary>
    /// <exception cref="InvalidOperationException">The call was not served through a <see cref="GrpcRouter"/> (so no gate saw it).</exception>
    public static CallContext Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(UserStateKey, out var call) && call is CallContext known
            ? known
            : throw new InvalidOperationException($"{context.Method} was not served through a GrpcRouter, so no gate saw it.");
    }

    /// <summary>
    /// Closes the whole underlying TCP/TLS connection at once, e.g. for a revoked credential:
    /// every call on it ends, and the client must reconnect (and present its credentials again).
    /// </summary>
    public void AbortConnection()
    {
        ConnectionAbortRequested = true;
        if (_lane is not null)
        {
            _lane.Abort();
            return;
        }

        GrpcLog.AbortingConnection(_runtime!.Logger, ConnectionId, Peer);
        if (!_runtime.Connections.Abort(ConnectionId))
        {
            _http!.Abort();
        }
    }

    /// <summary>Ties the call to the gRPC layer's own view of it: its cancellation (client gone, deadline passed) cancels this one.</summary>
    internal void Bind(DateTime deadline, CancellationToken grpcCall)
    {
        Deadline = deadline;
        if (grpcCall.CanBeCanceled && _binding is null)
        {
            _binding = grpcCall.UnsafeRegister(static s => ((CallContext)s!).Cancel(), this);
        }
    }

    private void Cancel()
    {
        try
        {
            _callCts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call already ended.
        }
    }

    internal void Release()
    {
        _binding?.Dispose();
        _callCts.Dispose();
    }
}
