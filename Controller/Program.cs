using System.CommandLine;
using CapCluster;
using CapCluster.Controller;
using CapCluster.Hosting;
using CapCluster.Protocol;
using CapCluster.Security;

var enginePort = new Option<int>("--engine-port") { Description = "Port engines connect to (0 or absent: a random free port)" };
var clientPort = new Option<int>("--client-port") { Description = "Port clients connect to (0 or absent: a random free port)" };
var dataPort = new Option<int>("--data-port") { Description = "Port of the data lanes for bulk pushes and pulls (0 or absent: a random free port)" };
var ip = new Option<string>("--ip") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
var locations = new Option<string[]>("--location") { Description = "Host or address written into the .cap files (repeatable)", Arity = ArgumentArity.ZeroOrMore };
var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME" };
var reuse = new Option<bool>("--reuse") { Description = "Reuse the last run's ports (and its capability files, which always outlive restarts)" };
var securityFolder = new Option<string?>("--security-folder") { Description = "Where the CA, registry and .cap files live" };
var logFolder = new Option<string?>("--log-folder") { Description = "Where the component logs and the audit log go" };
var logFormat = new Option<string>(LogFormatOption.Name) { Description = LogFormatOption.Description, DefaultValueFactory = _ => LogFormatOption.Choices[0] };
var heartbeat = new Option<double>("--heartbeat-period") { Description = "Seconds between engine heartbeats", DefaultValueFactory = _ => 1.0 };
var misses = new Option<int>("--heartbeat-misses") { Description = "Heartbeats an engine may miss before it is unregistered", DefaultValueFactory = _ => 5 };
var auditInterval = new Option<double>("--audit-interval", "--audit-refusal-interval")
{
    Description = "Seconds over which refusals from one peer for one reason, and connections of one capability from one address, become one audit record with a count (0: one record each)",
    DefaultValueFactory = _ => 10.0,
};
var auditSegment = new Option<long>("--audit-segment-bytes")
{
    Description = "Size past which the live audit log is sealed into a read-only segment and continued in a new file, bounding what a start verifies (0: never)",
    DefaultValueFactory = _ => new ControllerOptions().AuditSegmentBytes,
};
var noJournal = new Option<bool>("--no-journal") { Description = "Keep tasks and results in memory only: they are lost with the controller (by default they are journaled and a restart resumes them)" };
var journalFolder = new Option<string?>("--journal-folder") { Description = "Where the task journal lives (default: <profile>/tasks)" };
var journalSync = new Option<bool>("--journal-sync") { Description = "fsync the task journal at every commit, so accepted tasks survive a power loss too (slower)" };
var noHandoff = new Option<bool>("--no-lane-handoff") { Description = "No local socket: every data lane is spliced through the controller and every stream lane runs TLS on the data port, also for clients and engines on its host (by default they join on the local socket)" };
var maxConnections = new Option<int>("--max-connections") { Description = "Open connections allowed on each port", DefaultValueFactory = _ => new ConnectionLimits().MaxTotal };
var maxPerAddress = new Option<int>("--max-connections-per-address") { Description = "Open connections allowed from one remote address on each port", DefaultValueFactory = _ => new ConnectionLimits().MaxPerAddress };
var maxLanes = new Option<int>("--max-lanes") { Description = "Data lanes granted or open at once in all", DefaultValueFactory = _ => new ControllerOptions().MaxLanes };
var maxLanesPer = new Option<int>("--max-lanes-per-capability") { Description = "Data lanes granted or open at once per capability", DefaultValueFactory = _ => new ControllerOptions().MaxLanesPerCapability };
var maxCallsPer = new Option<int>("--max-calls-per-capability") { Description = "Calls in progress at once per client capability (a waiting GetResults, an open session or task stream)", DefaultValueFactory = _ => new ControllerOptions().MaxCallsPerCapability };
var handoffUids = new Option<uint[]>("--handoff-uid") { Description = "A user id, besides the controller's own, whose engines may join on the local hand-over socket (repeatable)", Arity = ArgumentArity.ZeroOrMore };
var maxCallBytes = new Option<long>("--max-call-bytes") { Description = "The most data one MultiEngine call may carry", DefaultValueFactory = _ => new ControllerOptions().MaxCallBytes };
var maxSessionBytes = new Option<long>("--max-session-bytes") { Description = "The most call data one client session may have the controller hold at once", DefaultValueFactory = _ => new ControllerOptions().MaxSessionBytes };
var maxBufferedBytes = new Option<long>("--max-buffered-bytes") { Description = "The most call data the controller holds for all sessions at once", DefaultValueFactory = _ => new ControllerOptions().MaxBufferedBytes };
var maxSessionCalls = new Option<int>("--max-session-calls") { Description = "The most calls one client session may have whose results the client has not read yet (past it, its next call waits)", DefaultValueFactory = _ => new ControllerOptions().MaxSessionCalls };
var maxUnreadBytes = new Option<long>("--max-unread-bytes") { Description = "The most bytes of results one client session may leave unread (past it, its next call waits)", DefaultValueFactory = _ => new ControllerOptions().MaxUnreadBytes };
var maxUnreadPerCapability = new Option<long>("--max-unread-bytes-per-capability") { Description = "The most bytes of results all sessions of one capability may leave unread together (past it, their next calls wait)", DefaultValueFactory = _ => new ControllerOptions().MaxUnreadBytesPerCapability };
var laneJoinTimeout = new Option<double>("--lane-join-timeout") { Description = "Seconds the two ends of a granted data or stream lane have to join it", DefaultValueFactory = _ => new ControllerOptions().LaneJoinTimeout.TotalSeconds };
var taskBatchSize = new Option<int>("--task-batch-size") { Description = "Most tasks sent to an engine in one batch", DefaultValueFactory = _ => new TaskFarmOptions().BatchSize };
var taskBatchTime = new Option<double>("--task-batch-time") { Description = "Milliseconds a batch of tasks should run on its engine, judged by its last tasks (it holds at most --task-batch-size)", DefaultValueFactory = _ => new TaskFarmOptions().BatchTime.TotalMilliseconds };
var maxEngineLosses = new Option<int>("--max-engine-losses") { Description = "Times an engine may be lost while it runs one task: at this many the task fails, whatever retries it asked for", DefaultValueFactory = _ => new TaskFarmOptions().MaxEngineLosses };
var maxFinishedResults = new Option<int>("--max-finished-results") { Description = "Finished task results kept for retrieval by id (the oldest beyond it are evicted)", DefaultValueFactory = _ => new TaskFarmOptions().MaxFinishedResults };
var maxAssemblyBytes = new Option<long>("--max-assembly-bytes") { Description = "The most bytes of assembly images (shipped with delegate tasks) one capability may have the controller keep", DefaultValueFactory = _ => new TaskFarmOptions().MaxAssemblyBytesPerCapability };
var maxResultBytes = new Option<long>("--max-result-bytes") { Description = "The most bytes of finished task results one capability may have the controller hold (its oldest beyond it are evicted)", DefaultValueFactory = _ => new TaskFarmOptions().MaxResultBytesPerCapability };
var maxQueuedBytes = new Option<long>("--max-queued-bytes") { Description = "The most bytes of unfinished tasks one capability may have at the controller (past it, submissions are refused)", DefaultValueFactory = _ => new TaskFarmOptions().MaxQueuedBytesPerCapability };
var maxResultWait = new Option<double>("--max-result-wait") { Description = "Seconds a GetResults call may wait for unfinished tasks", DefaultValueFactory = _ => new TaskFarmOptions().MaxResultWait.TotalSeconds };

var root = new RootCommand("capcontroller: the CapCluster controller, certificate authority and capability gate")
{
    enginePort, clientPort, dataPort, ip, locations, profile, reuse, securityFolder, logFolder, logFormat, heartbeat, misses, noHandoff, auditInterval, auditSegment,
    noJournal, journalFolder, journalSync, maxConnections, maxPerAddress, maxLanes, maxLanesPer, maxCallsPer, handoffUids,
    maxCallBytes, maxSessionBytes, maxBufferedBytes, maxSessionCalls, maxUnreadBytes, maxUnreadPerCapability, laneJoinTimeout, taskBatchSize, taskBatchTime, maxEngineLosses, maxFinishedResults, maxResultWait, maxAssemblyBytes, maxResultBytes, maxQueuedBytes,
};

OptionValues.ExpectPorts(enginePort, clientPort, dataPort);
foreach (var seconds in new[] { heartbeat, auditInterval, laneJoinTimeout, maxResultWait })
{
    seconds.Expect(OptionValues.Seconds);
}

taskBatchTime.Expect("a number of milliseconds, such as 50 or 0.5");
handoffUids.Expect("a user id, a whole number from 0");
root.WithNumberErrors();

root.SetAction(async (parse, _) =>
{
    var options = new ControllerOptions
    {
        EnginePort = parse.GetValue(enginePort),
        ClientPort = parse.GetValue(clientPort),
        DataPort = parse.GetValue(dataPort),
        ListenAddress = parse.GetValue(ip)!,
        Locations = parse.GetValue(locations) ?? [],
        Profile = parse.GetValue(profile),
        Reuse = parse.GetValue(reuse),
        SecurityFolder = parse.GetValue(securityFolder),
        LogFolder = parse.GetValue(logFolder),
        HeartbeatPeriod = TimeSpan.FromSeconds(parse.GetValue(heartbeat)),
        AllowedHeartbeatMisses = parse.GetValue(misses),
        LaneHandoff = !parse.GetValue(noHandoff),
        AuditAggregationInterval = TimeSpan.FromSeconds(parse.GetValue(auditInterval)),
        AuditSegmentBytes = parse.GetValue(auditSegment),
        Journal = !parse.GetValue(noJournal),
        JournalFolder = parse.GetValue(journalFolder),
        JournalSyncEveryCommit = parse.GetValue(journalSync),
        Limits = new ConnectionLimits { MaxTotal = parse.GetValue(maxConnections), MaxPerAddress = parse.GetValue(maxPerAddress) },
        MaxLanes = parse.GetValue(maxLanes),
        MaxLanesPerCapability = parse.GetValue(maxLanesPer),
        MaxCallsPerCapability = parse.GetValue(maxCallsPer),
        HandoffUids = parse.GetValue(handoffUids) ?? [],
        MaxCallBytes = parse.GetValue(maxCallBytes),
        MaxSessionBytes = parse.GetValue(maxSessionBytes),
        MaxBufferedBytes = parse.GetValue(maxBufferedBytes),
        MaxSessionCalls = parse.GetValue(maxSessionCalls),
        MaxUnreadBytes = parse.GetValue(maxUnreadBytes),
        MaxUnreadBytesPerCapability = parse.GetValue(maxUnreadPerCapability),
        LaneJoinTimeout = Seconds(parse.GetValue(laneJoinTimeout)),
        Tasks = new TaskFarmOptions
        {
            BatchSize = parse.GetValue(taskBatchSize),
            BatchTime = Seconds(parse.GetValue(taskBatchTime) / 1000),
            MaxEngineLosses = parse.GetValue(maxEngineLosses),
            MaxFinishedResults = parse.GetValue(maxFinishedResults),
            MaxResultWait = Seconds(parse.GetValue(maxResultWait)),
            MaxAssemblyBytesPerCapability = parse.GetValue(maxAssemblyBytes),
            MaxResultBytesPerCapability = parse.GetValue(maxResultBytes),
            MaxQueuedBytesPerCapability = parse.GetValue(maxQueuedBytes),
        },
    };

    using var shutdown = new CancellationTokenSource();
    using var signals = ComponentLogging.HandleSignals(shutdown);
    var cancellationToken = shutdown.Token;
    try
    {
        var format = LogFormatOption.Parse(parse.GetValue(logFormat)!);
        var paths = ClusterPaths.Resolve(options.Profile, options.SecurityFolder, options.LogFolder);
        paths.EnsureCreated();
        using var loggerFactory = ComponentLogging.Create("capcontroller", paths.LogFolder, format);
        await using var host = await ControllerHost.StartAsync(options, loggerFactory, TimeProvider.System, cancellationToken);
        PrintReady(host);
        try
        {
            await host.StopRequested.WaitAsync(cancellationToken);
            Console.WriteLine("Stop requested by a client; shutting down.");
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Signal received; shutting down.");
        }

        return 0;
    }
    catch (Exception e) when (e is CapClusterException or GrpcBindException)
    {
        Console.Error.WriteLine($"capcontroller: {e.Message}");
        return 2;
    }
    catch (Exception e) when (FolderErrors.IsFolderError(e))
    {
        Console.Error.WriteLine($"capcontroller: {FolderErrors.Describe(e)}");
        return 2;
    }
});

return await root.Parse(args).InvokeAsync();

// Seconds beyond what a TimeSpan holds become its largest (or smallest) value, which Validate refuses naming the option, instead of an overflow here.
static TimeSpan Seconds(double seconds) =>
    double.IsNaN(seconds) ? TimeSpan.MinValue
    : Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(seconds)
    : seconds > 0 ? TimeSpan.MaxValue : TimeSpan.MinValue;

static void PrintReady(ControllerHost host)
{
    var s = host.State;
    Console.WriteLine($"CapCluster controller (pid {s.Pid}) ready");
    Console.WriteLine($"  engine port      {s.ListenAddress}:{s.EnginePort}");
    Console.WriteLine($"  client port      {s.ListenAddress}:{s.ClientPort}");
    Console.WriteLine($"  data port        {s.ListenAddress}:{s.DataPort}");
    Console.WriteLine($"  locations        {string.Join(", ", s.Locations)}");
    foreach (var (iface, path) in host.CapabilityFiles)
    {
        Console.WriteLine($"  {iface + ".cap",-16} {path}");
    }

    Console.WriteLine($"  task journal     {host.TaskJournal}");
    Console.WriteLine($"  audit log        {host.Paths.AuditLogFile}");
    Console.WriteLine($"  log              {ComponentLogging.FileFor(host.Paths.LogFolder, "capcontroller", s.Pid)}");
    Console.Out.Flush();
}
