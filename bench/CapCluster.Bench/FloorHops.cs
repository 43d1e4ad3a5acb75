namespace CapCluster.Bench;

/// <summary>
/// The floor's other two processes, the bench app started again with a hidden suite: the relay, in the controller's
/// place, and the worker, in an engine's. Each prints where it listens on a line of its own, then serves one
/// connection until it ends; neither does anything with a message but pass it on.
/// </summary>
internal static class FloorHops
{
    /// <summary>The hidden suite that runs the relay.</summary>
    public const string Relay = "floor-relay";

    /// <summary>The hidden suite that runs the worker.</summary>
    public const string Worker = "floor-worker";

    /// <summary>Runs the hop <c>args[0]</c> names: <c>floor-worker TRANSPORT FOLDER</c> or <c>floor-relay TRANSPORT FOLDER WORKER-ENDPOINT</c>.</summary>
    public static int Run(string[] args)
    {
        ExitWhenParentGoes();
        switch (args)
        {
            case [Worker, var transport, var folder]:
                RunWorker(FloorTransport.Open(transport, folder), folder);
                return 0;
            case [Relay, var transport, var folder, var worker]:
                RunRelay(FloorTransport.Open(transport, folder), folder, worker);
                return 0;
            default:
                Console.Error.WriteLine($"usage: {Worker} TRANSPORT FOLDER | {Relay} TRANSPORT FOLDER WORKER-ENDPOINT (started by the floor suite)");
                return 2;
        }
    }

    /// <summary>Answers each message from the relay with a result, until the relay's connection ends.</summary>
    private static void RunWorker(FloorTransport transport, string folder)
    {
        using var relay = AcceptOne(transport, folder, Worker);
        var message = new byte[FloorTransport.MessageSize];
        var result = new byte[FloorTransport.MessageSize];
        result[0] = FloorTransport.Result;
        while (FloorTransport.Receive(relay, message))
        {
            relay.Write(result);
        }
    }

    /// <summary>
    /// Passes each message from the client to the worker and answers the client at once with an acceptance, as the
    /// controller does a submission; passes each of the worker's results back to the client. A reader thread for
    /// each connection, and the client's connection written by both under one lock. Ends when the client's
    /// connection does (its end closes the worker's connection, and the worker ends too).
    /// </summary>
    private static void RunRelay(FloorTransport transport, string folder, string workerEndpoint)
    {
        // Neither connection is disposed: the process's end closes both, whereas a close here would wake the thread
        // reading the worker's as if the worker had gone.
        var worker = transport.Connect(workerEndpoint);
        var client = AcceptOne(transport, folder, Relay);
        var clientWrites = new Lock();
        var results = new Thread(() =>
        {
            var result = new byte[FloorTransport.MessageSize];
            while (FloorTransport.Receive(worker, result))
            {
                lock (clientWrites)
                {
                    client.Write(result);
                }
            }

            Console.Error.WriteLine($"{Relay}: the worker ended its connection while the client's was still open");
            Environment.Exit(1);
        })
        { IsBackground = true, Name = "floor relay: worker's connection" };
        results.Start();

        var message = new byte[FloorTransport.MessageSize];
        var accepted = new byte[FloorTransport.MessageSize];
        accepted[0] = FloorTransport.Accepted;
        while (FloorTransport.Receive(client, message))
        {
            // Passed on first, so the worker can start before the acceptance is on its way.
            worker.Write(message);
            lock (clientWrites)
            {
                client.Write(accepted);
            }
        }
    }

    /// <summary>Listens, tells the parent where on standard output, and takes the one connection that comes.</summary>
    private static Stream AcceptOne(FloorTransport transport, string folder, string role)
    {
        using var listener = transport.Listen(folder, role, out var endpoint);
        Console.WriteLine(endpoint);
        return transport.Accept(listener);
    }

    /// <summary>
    /// The parent holds the other end of this process's standard input: when it goes, however it goes (even before a
    /// connection is made, or killed), the read there returns, and so this process ends instead of waiting forever.
    /// </summary>
    private static void ExitWhenParentGoes()
    {
        var watch = new Thread(() =>
        {
            // The parent never writes to it: this returns at the input's end.
            Console.OpenStandardInput().CopyTo(Stream.Null);
            Environment.Exit(1);
        })
        { IsBackground = true, Name = "floor hop: parent watch" };
        watch.Start();
    }
}
