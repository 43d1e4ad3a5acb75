using System.Diagnostics;

namespace CapCluster.Bench;

/// <summary>
/// The floor under a no-op task's round trip on this machine: the processes and crossings a task takes through
/// CapCluster (client to controller to engine and back, the controller answering the submission with an acceptance on
/// the way), moved as its stream lanes move them (blocking calls, a reader thread a connection), with no work at any
/// hop: no framing, no queue, no scheduling, no task. Set beside <c>bench/run tasks</c>' warm round trip, it tells
/// what of that is the transport's and the operating system's, and what is CapCluster's own.
/// </summary>
internal static class FloorBench
{
    private const int WarmUp = 5_000;
    private const int Measured = 20_000;

    // How long a hop may take to start listening, to answer or to exit before the run is taken for hung.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static void Run()
    {
        // Created 0700: it holds the certificates' keys and the Unix sockets.
        var folder = Directory.CreateTempSubdirectory("capcluster-bench-floor-").FullName;
        try
        {
            FloorCertificates.Create(folder);
            var transports = FloorTransport.Names.Select(name => FloorTransport.Open(name, folder)).ToArray();
            Console.WriteLine($"Floor of a no-op task's round trip: 3 processes, 4 crossings + an acknowledgement, no work at any hop (warm, n={Measured:N0})");
            // Each transport twice, in turn, so that on a noisy machine no transport is measured only in a bad spell.
            for (var round = 0; round < 2; round++)
            {
                foreach (var transport in transports)
                {
                    Measure(transport, folder);
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// One run: a fresh relay and worker on <paramref name="transport"/>, the warm-up, then the measured round trips from
    /// this thread; prints the median, the p99 and the CPU each process spent a measured round trip.
    /// </summary>
    private static void Measure(FloorTransport transport, string folder)
    {
        using var worker = FloorChild.Start(FloorHops.Worker, transport.Name, Patience, folder);
        using var relay = FloorChild.Start(FloorHops.Relay, transport.Name, Patience, folder, worker.Endpoint);
        int[] processes = [Environment.ProcessId, relay.Pid, worker.Pid];
        var trips = new List<double>(Measured);
        double[] cpu;
        using (var connection = transport.Connect(relay.Endpoint, receiveTimeout: Patience))
        {
            var submission = new byte[FloorTransport.MessageSize];
            var answer = new byte[FloorTransport.MessageSize];
            for (var i = 0; i < WarmUp; i++)
            {
                RoundTrip(connection, submission, answer, relay);
            }

            cpu = TaskBench.CpuOf(processes);
            for (var i = 0; i < Measured; i++)
            {
                var start = Stopwatch.GetTimestamp();
                RoundTrip(connection, submission, answer, relay);
                trips.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }

            cpu = TaskBench.CpuOf(processes, since: cpu);
        }

        // The connection's end ends the relay, whose end ends the worker.
        relay.WaitForExit(Patience);
        worker.WaitForExit(Patience);
        trips.Sort();
        var perTrip = cpu.Select(ms => ms * 1000 / Measured).ToArray();
        Console.WriteLine($"  {transport.Name,-5} median {Bench.Percentile(trips, 0.5):0} µs, p99 {Bench.Percentile(trips, 0.99):0} µs; " +
            $"CPU a round trip: client {perTrip[0]:0} µs, relay {perTrip[1]:0} µs, worker {perTrip[2]:0} µs");
    }

    /// <summary>Sends <paramref name="submission"/> to the relay and reads its acceptance and the worker's result, in whichever order they come.</summary>
    private static void RoundTrip(Stream connection, byte[] submission, byte[] answer, FloorChild relay)
    {
        try
        {
            connection.Write(submission);
            var kinds = Answer(connection, answer, relay) | Answer(connection, answer, relay);
            if (kinds != (FloorTransport.Accepted | FloorTransport.Result))
            {
                throw new InvalidOperationException($"{relay.Description} answered a submission with messages of kinds {kinds:x}, not an acceptance and a result");
            }
        }
        catch (IOException e)
        {
            throw new IOException($"a round trip through {relay.Description} failed: {e.Message}", e);
        }
    }

    /// <summary>Reads one message from the relay into <paramref name="answer"/>; its kind, the first byte.</summary>
    private static int Answer(Stream connection, byte[] answer, FloorChild relay) =>
        FloorTransport.Receive(connection, answer)
            ? answer[0]
            : throw new InvalidOperationException($"{relay.Description} ended the connection in a round trip (its error, if any, is above)");
}
