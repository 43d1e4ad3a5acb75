using System.Net;
using CapCluster.Connection.Internal;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Connection;

/// <summary>
/// A mutual-TLS channel to the controller a .cap file names: the holder certificate
/// as client certificate, the server pinned to the file's CA, the secret in every call's
/// metadata. Both clients and engines use it; errors come out as CapCluster exceptions
/// that say what to do.
/// </summary>
public sealed class ControllerConnection : IDisposable
{
    private ControllerConnection(CapabilityFile capability, string capabilityPath, GrpcChannel channel)
    {
        Capability = capability;
        CapabilityPath = capabilityPath;
        Channel = channel;
        MultiEngine = new(channel.Invoker);
        TaskFarm = new(channel.Invoker);
    }

    /// <summary>The capability this connection presents.</summary>
    public CapabilityFile Capability { get; }

    /// <summary>Where the capability was read from.</summary>
    public string CapabilityPath { get; }

    /// <summary>The underlying channel.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The protoc-generated client of the MultiEngine service on <see cref="Channel"/>; call it through <see cref="CallAsync"/>.</summary>
    public MultiEngine.MultiEngineClient MultiEngine { get; }

    /// <summary>The protoc-generated client of the TaskFarm service on <see cref="Channel"/>; call it through <see cref="CallAsync"/>.</summary>
    public TaskFarm.TaskFarmClient TaskFarm { get; }

    /// <summary>
    /// How calls that cannot reach the controller are tried again. <see cref="ReconnectOptions.Never"/> until a client
    /// connected (see <see cref="ConnectAsync{TClient}(string?, string, Func{ControllerConnection, TClient}, ReconnectOptions, CancellationToken)"/>),
    /// so that a first connection to a controller that is not running fails at once.
    /// </summary>
    public ReconnectOptions Reconnect { get; private set; } = ReconnectOptions.Never;

    /// <summary>
    /// Where the connection's events (category <c>CapCluster.Connection</c>) and those of the client using it go:
    /// <see cref="ReconnectOptions.LoggerFactory"/> from <see cref="ConnectAsync{TClient}(string?, string, Func{ControllerConnection, TClient}, ReconnectOptions, CancellationToken)"/>
    /// (set before the client is created); <see cref="NullLoggerFactory.Instance"/> for a connection only opened.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; private set; } = NullLoggerFactory.Instance;

    /// <summary>Where the reconnection backoff, the clients' result deadlines and the lane retry-after take their time: the system clock.</summary>
    public TimeProvider Time { get; } = TimeProvider.System;

    private ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>
    /// Opens a connection with the capability file at <paramref name="capabilityPath"/>, or, when it is null,
    /// the <paramref name="iface"/>.cap of the default security folder (under CAPCLUSTER_DIR when set).
    /// </summary>
    /// <exception cref="CapabilityNotFoundException">No file at the path or in the default folder.</exception>
    /// <exception cref="CapabilityFileException">The file is malformed or was edited.</exception>
    public static ControllerConnection Open(string? capabilityPath, string iface, int maxMessageSize = 64 * 1024 * 1024)
    {
        var path = Locate(capabilityPath, iface);
        var capability = CapabilityFile.Read(path);
        if (capability.Interface != iface)
        {
            throw new CapabilityFileException(path, $"this is a {capability.Interface} capability, not a {iface} capability");
        }

        var channel = new GrpcChannel(
            [.. capability.Url.Locations.Select(l => new DnsEndPoint(l.Host, l.Port))],
            new GrpcChannelOptions
            {
                ClientCertificate = capability.HolderCertificate,
                ValidateServerCertificate = ControllerCertificateValidator.For(capability.CaCertificate),
                DefaultHeaders = [CapabilityMetadata.For(capability.Url.Secret)],
                MaxReceiveMessageSize = maxMessageSize,
                MaxSendMessageSize = maxMessageSize,
            });
        return new ControllerConnection(capability, path, channel);
    }

    /// <summary>
    /// Opens a connection (see <see cref="Open"/>), wraps it in a client, and asks the controller whether it accepts the
    /// capability (<see cref="CheckAsync"/>), so that an unreachable controller or a refused capability shows at connect
    /// time whatever methods the capability allows. Once that answered, calls that cannot reach the controller are tried
    /// again as <paramref name="reconnect"/> says.
    /// </summary>
    public static async Task<TClient> ConnectAsync<TClient>(
        string? capabilityPath,
        string iface,
        Func<ControllerConnection, TClient> create,
        ReconnectOptions reconnect,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reconnect);
        reconnect.Validate();
        var connection = Open(capabilityPath, iface);
        connection.LoggerFactory = reconnect.LoggerFactory;
        connection.Logger = reconnect.LoggerFactory.CreateLogger(ConnectionLog.Category);
        try
        {
            var client = create(connection);
            await connection.CheckAsync(cancellationToken).ConfigureAwait(false);
            connection.Reconnect = reconnect;
            return client;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the controller knows of this connection's capability, asked with its service's Check method (which the gate
    /// admits for any live capability, whatever its allowed methods).
    /// </summary>
    /// <exception cref="CapabilityRefusedException">The controller no longer accepts it, with the gate's reason.</exception>
    public Task<CheckReply> CheckAsync(CancellationToken cancellationToken) => CallAsync(Check, cancellationToken, idempotent: true);

    /// <summary>
    /// The controller's refusal of this connection's capability, asked with its service's Check method without waiting
    /// for a controller out of reach; null when it accepts the capability, cannot be reached, or gives no answer within
    /// <paramref name="wait"/>. A stream the controller closed looks the same whether the controller stopped or closed
    /// the connections of a capability it no longer accepts (revoked, expired): this tells the two apart.
    /// </summary>
    public async Task<CapabilityRefusedException?> RefusalAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(wait, Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            while (true)
            {
                try
                {
                    await CallOnceAsync(Check, deadline.Token).ConfigureAwait(false);
                    return null;
                }
                catch (ControllerUnreachableException e) when (!ChannelFailures.NeverReached(e))
                {
                    // Reached, and the connection closed under the call: the controller closes every connection of a
                    // capability it refuses, the one this call went on among them. The next goes on a new one.
                    await Task.Delay(Reconnect.FirstDelay, Time, deadline.Token).ConfigureAwait(false);
                }
            }
        }
        catch (CapabilityRefusedException refused)
        {
            return refused;
        }
        catch (Exception e) when (e is CapClusterException or RpcException or OperationCanceledException)
        {
            return null; // out of reach, or no answer in time: nothing says the capability is refused
        }
    }

    /// <summary>
    /// A unary call, made by <paramref name="call"/> with the options it is given (for example
    /// <c>o =&gt; connection.TaskFarm.QueueStatusAsync(request, o)</c>), whose failures become CapCluster exceptions.
    /// While the controller cannot be reached it is tried again as <see cref="Reconnect"/> says; a call that reached it
    /// and lost the connection fails at once, unless it is <paramref name="idempotent"/> (asking it twice does no harm),
    /// when it too is tried again.
    /// </summary>
    public Task<TResponse> CallAsync<TResponse>(Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken, bool idempotent = false) =>
        ReconnectingAsync(ct => CallOnceAsync(call, ct), cancellationToken, idempotent);

    /// <summary>
    /// Runs <paramref name="attempt"/>, and again with backoff while it fails because the controller cannot be reached
    /// (nothing was sent), or for an <paramref name="idempotent"/> attempt also because the connection broke under it
    /// (a controller killed while the pool still held its connection), until <see cref="ReconnectOptions.Timeout"/>
    /// has passed since the first such failure.
    /// </summary>
    public async Task<T> ReconnectingAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken, bool idempotent = false)
    {
        var backoff = new Backoff(Reconnect, Time);
        IDisposable? told = null;
        try
        {
            while (true)
            {
                try
                {
                    var result = await attempt(cancellationToken).ConfigureAwait(false);
                    if (backoff.Waited > TimeSpan.Zero)
                    {
                        ConnectionLog.Reconnected(Logger, Controller, Capability.CapabilityId, backoff.Waited);
                    }

                    return result;
                }
                catch (ControllerUnreachableException e) when (Reconnect.Timeout > TimeSpan.Zero && (idempotent || ChannelFailures.NeverReached(e)))
                {
                    var first = backoff.Waited == TimeSpan.Zero;
                    if (backoff.Next() is not { } delay)
                    {
                        ConnectionLog.GaveUp(Logger, Controller, Capability.CapabilityId, backoff.Waited, e.Message);
                        throw backoff.GaveUp(e, this);
                    }

                    if (first)
                    {
                        ConnectionLog.Unreachable(Logger, Controller, Capability.CapabilityId, e.Message, Reconnect.Timeout);
                        told = Reconnect.Waiting?.Invoke(new ReconnectWait(Controller, CapabilityPath, Reconnect.Timeout));
                    }

                    ConnectionLog.Retrying(Logger, delay, backoff.Waited);
                    await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            told?.Dispose();
        }
    }

    private async Task<TResponse> CallOnceAsync<TResponse>(Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken)
    {
        try
        {
            using var started = call(new CallOptions(cancellationToken: cancellationToken));
            return await started.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw Translate(e);
        }
    }

    /// <summary>
    /// How this capability's holder joins a data lane the controller granted: the controller's data port at each
    /// location of the capability, this holder's certificate, and the one peer certificate the controller named.
    /// </summary>
    public LaneOptions LaneOptions(int dataPort, Google.Protobuf.ByteString laneId, LaneRole role, Google.Protobuf.ByteString peerCertificateSha256, string name) =>
        new(
            DataPort(dataPort),
            laneId.ToByteArray(),
            role,
            Capability.HolderCertificate,
            Protocol.Lanes.LaneOptions.PinnedTo(peerCertificateSha256.Memory),
            name);

    /// <summary>
    /// Opens the long-lived stream <paramref name="stream"/> on a stream lane (granted by its <c>OpenStream</c>), a
    /// connection of its own to the controller's data port, or on its host to its local socket, that skips HTTP/2; when
    /// no lane can be had (an older controller, a data port out of reach) the same stream opens over HTTP/2, whose
    /// errors then say what is wrong.
    /// With <see cref="Reconnect"/> on, a controller out of reach is waited for, and when it stays out of reach this
    /// throws <see cref="ControllerUnreachableException"/>.
    /// </summary>
    public async Task<AsyncDuplexStreamingCall<TRequest, TResponse>> OpenStreamAsync<TRequest, TResponse>(
        StreamMethod<TRequest, TResponse> stream, CancellationToken cancellationToken)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new()
    {
        try
        {
            // The grant waits for a controller that is out of reach, as Reconnect says; having waited in vain it fails.
            // A grant not taken up expires, so asking again after a broken connection does no harm.
            var granted = await CallAsync(o => Channel.Invoker.AsyncUnaryCall(stream.Grant, null, o, new OpenStreamRequest()), cancellationToken, idempotent: true).ConfigureAwait(false);
            return await Channel.DuplexStreamingOnLaneAsync(stream.Method, DataPort(granted.DataPort), granted.LaneId.ToByteArray(), granted.LocalSocket.Length > 0 ? granted.LocalSocket : null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is CapClusterException or LaneException or OperationCanceledException)
            && !(e is ControllerUnreachableException && Reconnect.Timeout > TimeSpan.Zero && !cancellationToken.IsCancellationRequested))
        {
            // Cancelled, the HTTP/2 call fails at once, as a cancelled stream always has.
            return Channel.DuplexStreaming(stream.Method, new CallOptions(cancellationToken: cancellationToken));
        }
    }

    private AsyncUnaryCall<CheckReply> Check(CallOptions options) =>
        Channel.Invoker.AsyncUnaryCall(CapClusterMethods.CheckFor(CapabilityInterfaces.ServiceName(Capability.Interface)), null, options, new CheckRequest());

    /// <summary>The controller's addresses as the capability names them, for log lines.</summary>
    internal string Controller => ConnectionErrors.Locations(Capability);

    /// <summary>The controller's data port (its number from a grant) at each host the capability names, in order.</summary>
    private List<DnsEndPoint> DataPort(int port) => [.. Capability.Url.Locations.Select(l => new DnsEndPoint(l.Host, port))];

    /// <summary>The CapCluster exception for a failed call.</summary>
    public CapClusterException Translate(RpcException e) => ConnectionErrors.FromRpc(e, Capability, CapabilityPath);

    /// <summary>The error for a long-lived stream to the controller that broke with a transport error rather than a gRPC status.</summary>
    public ControllerUnreachableException Lost(Exception failure) => ConnectionErrors.StreamLost(failure, Capability, CapabilityPath);

    /// <inheritdoc />
    public void Dispose() => Channel.Dispose();

    private static string Locate(string? capabilityPath, string iface)
    {
        if (capabilityPath is not null)
        {
            return File.Exists(capabilityPath)
                ? capabilityPath
                : throw ConnectionErrors.NoCapabilityFile(iface, [Path.GetFullPath(capabilityPath)]);
        }

        var fallback = ClusterPaths.Resolve().CapFile(iface);
        return File.Exists(fallback) ? fallback : throw ConnectionErrors.NoCapabilityFile(iface, [fallback]);
    }
}
