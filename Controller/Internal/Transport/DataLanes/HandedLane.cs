using System.Net.Sockets;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>
/// A data lane whose engine joined on the local socket: the controller hands the engine the client's own
/// connection (see <see cref="SocketPassing"/>), so the lane's bytes go from client to engine on one
/// connection and never through the controller. When the client joined on the local socket too, that
/// connection is a Unix socket and the two ends are told so (<see cref="LanePreamble.Local"/>): they send plain
/// records, through the kernel only; a client's TCP connection carries TLS as on the data port. It keeps its own descriptor of that connection without
/// reading it, only to end the lane on a revocation or when the engine goes (shutdown(2) acts on the
/// connection, whoever holds it), and lets go of it once the client has hung up or either end has ended it.
/// </summary>
internal sealed class HandedLane(Socket client, Socket engineLocal) : ILaneRelay
{
    private int aborted;
    private int ended;

    private readonly bool local = client.AddressFamily == AddressFamily.Unix;

    public string How => "handed to the engine";

    public string Path => local ? "local" : "tls";

    public bool IsOpen => Volatile.Read(ref aborted) == 0 && Volatile.Read(ref ended) == 0;

    public void Answer()
    {
        var answer = local ? LanePreamble.Local : LanePreamble.Spliced;
        client.Send([answer], SocketFlags.None);
        SocketPassing.Send(engineLocal, answer, client);
        engineLocal.Dispose();
    }

    public Task RunAsync() => Task.Factory.StartNew(
        () =>
        {
            try
            {
                // Wakes only for the hang-up: the client's data is the engine's to read.
                Descriptors.WaitUntilPeerCloses(client);
            }
            finally
            {
                Volatile.Write(ref ended, 1);
                client.Dispose(); // close(2) only: the engine's descriptor keeps the connection
            }
        },
        CancellationToken.None,
        TaskCreationOptions.LongRunning,
        TaskScheduler.Default);

    public void Abort()
    {
        if (Interlocked.Exchange(ref aborted, 1) == 0)
        {
            try
            {
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }
}
