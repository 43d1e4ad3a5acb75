namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>How the controller carries a data lane once both ends have joined: a splice, or a hand-over.</summary>
internal interface ILaneRelay
{
    /// <summary>How the audit and the log say the lane is carried.</summary>
    string How { get; }

    /// <summary>
    /// The path the lane's bytes take, as the audit says it: "local" (a Unix socket between two processes of this
    /// host, through the kernel only, without TLS) or "tls" (TLS between the ends, over TCP for at least one of them).
    /// </summary>
    string Path { get; }

    /// <summary>False once the lane has closed or been aborted.</summary>
    bool IsOpen { get; }

    /// <summary>Tells both ends they are joined; from then on the lane's bytes are theirs.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">An end has gone.</exception>
    /// <exception cref="IOException">An end has gone.</exception>
    void Answer();

    /// <summary>Runs until the lane has closed, then lets go of both ends.</summary>
    Task RunAsync();

    /// <summary>Ends the lane for both ends (a revocation, or the engine gone).</summary>
    void Abort();
}
