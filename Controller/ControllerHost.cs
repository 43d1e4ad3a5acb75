using System.Diagnostics;
using System.Net;
using CapCluster.Controller.Internal;
using CapCluster.Controller.Internal.Transport;
using CapCluster.Controller.Internal.Transport.DataLanes;
using CapCluster.Controller.Internal.Transport.StreamLanes;
using CapCluster.Protocol;
using CapCluster.Security;
using Microsoft.Extensions.Logging;
using V1 = CapCluster.Protocol.V1;

namespace CapCluster.Controller;

/// <summary>
/// A running controller: the CA and capability registry of its security folder, the
/// gate, the engine registry, and the gRPC server on the engine and client ports.
/// </summary>
public sealed class ControllerHost : IAsyncDisposable
{
    private readonly GrpcServer server;
    private readonly LaneListener lanes;
    private readonly AuditLog audit;
    private readonly CancellationTokenSource lifetime;
    private readonly Task heartbeats;
    private readonly Task registryWatch;
    private readonly Internal.Tasks.TaskJournal? journal;
    private readonly TaskCompletionSource stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ControllerHost(GrpcServer server, LaneListener lanes, AuditLog audit, Internal.Tasks.TaskJournal? journal, CancellationTokenSource lifetime, Task heartbeats, Task registryWatch, ControllerState state, ClusterPaths paths, IReadOnlyDictionary<string, string> capabilityFiles)
    {
        this.server = server;
        this.journal = journal;
        this.lanes = lanes;
        this.audit = audit;
        this.lifetime = lifetime;
        this.heartbeats = heartbeats;
        this.registryWatch = registryWatch;
        State = state;
        Paths = paths;
        CapabilityFiles = capabilityFiles;
    }

    /// <summary>Ports, locations and pid of this run, as written to the security folder.</summary>
    public ControllerState State { get; }

    /// <summary>The folders this controller uses.</summary>
    public ClusterPaths Paths { get; }

    /// <summary>The .cap file of each interface.</summary>
    public IReadOnlyDictionary<string, string> CapabilityFiles { get; }

    /// <summary>What keeps this run's tasks, in words for the ready banner: the journal's file, or memory only.</summary>
    public string TaskJournal { get; private init; } = "";

    /// <summary>Completes when a client with the right capability asked the controller to stop.</summary>
    public Task StopRequested => stopRequested.Task;

    /// <summary>Creates or loads the CA and registry, binds both ports, writes the .cap files.</summary>
    /// <exception cref="CapClusterException">Bad options, a controller already running on this folder, or unreadable security files.</exception>
    /// <exception cref="GrpcBindException">A port cannot be bound.</exception>
    public static async Task<ControllerHost> StartAsync(ControllerOptions options, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        options.Validate();
        var logger = loggerFactory.CreateLogger("CapCluster.Controller");
        var paths = ClusterPaths.Resolve(options.Profile, options.SecurityFolder, options.LogFolder);
        paths.EnsureCreated();
        var last = ControllerState.TryRead(paths.SecurityFolder);
        RefuseIfRunning(last, paths);
        var (enginePort, clientPort, dataPort) = options.Reuse && last is not null
            ? (Reused(options.EnginePort, last.EnginePort), Reused(options.ClientPort, last.ClientPort), Reused(options.DataPort, last.DataPort))
            : (options.EnginePort, options.ClientPort, options.DataPort);

        var authority = CertificateAuthority.LoadOrCreate(paths.SecurityFolder, time);
        var registry = CapabilityRegistry.LoadOrCreate(paths.SecurityFolder, time);
        var ledger = TaskLedger.Open(paths.SecurityFolder);
        var audit = AuditLog.Open(paths.AuditLogFile, paths.SecurityFolder, time, options.AuditLog());
        Internal.Tasks.TaskJournal? journal;
        Internal.Tasks.TaskFarm farm;
        var journalFolder = options.JournalFolder ?? Path.Combine(paths.BaseFolder, "tasks");
        try
        {
            journal = options.Journal
                ? Internal.Tasks.TaskJournal.Open(journalFolder, new() { SyncEveryCommit = options.JournalSyncEveryCommit }, logger)
                : null;
        }
        catch
        {
            audit.Dispose();
            throw;
        }
        var journalFile = Path.Combine(journalFolder, Internal.Tasks.TaskJournal.DatabaseName);
        var leftAlone = journal is null && File.Exists(journalFile);
        if (leftAlone)
        {
            ControllerLog.JournalLeftAlone(logger, journalFile);
        }

        var hosts = LocationHosts(options);
        var started = time.GetUtcNow();
        var lifetime = new CancellationTokenSource();
        ControllerHost? host = null;
        var engines = new EngineRegistry(time, logger);
        var controllerInfo = new V1.ControllerInfo
        {
            Pid = Environment.ProcessId,
            Host = Dns.GetHostName(),
            Version = typeof(ControllerHost).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            StartedUnixMs = started.ToUnixTimeMilliseconds(),
        };

        var enginePortBound = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new CapabilityGate(authority, registry, audit, enginePortBound.Task, time, logger, options.MaxCallsPerCapability);
        var address = IPAddress.Parse(options.ListenAddress);
        var broker = new LaneBroker(gate, audit, options.MaxLanesPerCapability, options.MaxLanes, options.LaneJoinTimeout, time, logger);
        var serverCertificate = authority.IssueServerCertificate([options.ListenAddress, .. hosts, Dns.GetHostName()], options.ServerCertificateLifetime);
        LaneListener lanes;
        try
        {
            lanes = LaneListener.Start(address, dataPort, options, broker, time, logger);
        }
        catch
        {
            journal?.Dispose();
            audit.Dispose();
            lifetime.Dispose();
            throw;
        }

        var router = new GrpcRouter();
        var valueRoutes = new DataLaneRoutes(engines, broker, () => lanes.EndPoint.Port, lanes.LocalName);
        var endpoints = new ServiceEndpoints(router,
            new StreamLaneHost(broker, gate, audit, serverCertificate, options.MaxMessageSize, () => lanes.EndPoint.Port, lanes.LocalName, time, logger, lifetime.Token), valueRoutes);
        endpoints.Bind(V1.EngineLink.BindService, new EngineLinkService(engines, options, time, logger));
        endpoints.Bind(V1.MultiEngine.BindService, new MultiEngineService(engines, registry, controllerInfo, () => host?.stopRequested.TrySetResult(), valueRoutes,
            new CallBudgets(options.MaxCallBytes, options.MaxSessionBytes, new ByteBudget(options.MaxBufferedBytes), options.MaxSessionCalls, options.MaxUnreadBytes,
                new CapabilityBacklogs(options.MaxUnreadBytesPerCapability)), audit, time, logger));
        farm = new Internal.Tasks.TaskFarm(engines, options.Tasks, ledger, journal, registry.Find, time,
            loggerFactory.CreateLogger<Internal.Tasks.TaskFarm>());
        endpoints.Bind(V1.TaskFarm.BindService, new TaskFarmService(farm, audit, time, logger));
        router.Describe(V1.EngineLink.Descriptor, V1.MultiEngine.Descriptor, V1.TaskFarm.Descriptor);

        GrpcServer server;
        try
        {
            var (queued, finished) = farm.Restore();
            if (queued + finished > 0)
            {
                ControllerLog.JournalResumed(logger, queued, finished);
            }

            server = await GrpcServer.StartAsync(
                [new GrpcEndpoint("engine", address, enginePort), new GrpcEndpoint("client", address, clientPort)],
                router,
                gate,
                new GrpcServerOptions
                {
                    ServerCertificate = serverCertificate,
                    MaxReceiveMessageSize = options.MaxMessageSize,
                    MaxSendMessageSize = options.MaxMessageSize,
                    Limits = options.Limits,
                    ConnectionRefused = refusal => audit.Append(new AuditRecord(
                        time.GetUtcNow(), refusal.Peer, null, null, null,
                        refusal.Endpoint == "engine" ? CapClusterMethods.EngineLinkService : null, "Connect", AuditRecord.Refused, refusal.Reason)),
                },
                loggerFactory,
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await lanes.DisposeAsync().ConfigureAwait(false);
            journal?.Dispose();
            audit.Dispose();
            lifetime.Dispose();
            throw;
        }

        var engineEndPoint = server.BoundEndpoints["engine"];
        var clientEndPoint = server.BoundEndpoints["client"];
        enginePortBound.SetResult(engineEndPoint.Port);
        ControllerLog.Listening(logger, engineEndPoint.ToString(), clientEndPoint.ToString());

        var files = Internal.CapabilityFiles.Ensure(
            paths,
            authority,
            registry,
            [.. hosts.Select(h => new CapabilityLocation(h, engineEndPoint.Port))],
            [.. hosts.Select(h => new CapabilityLocation(h, clientEndPoint.Port))],
            audit,
            time,
            logger);
        var state = new ControllerState(Environment.ProcessId, controllerInfo.Host, options.ListenAddress, engineEndPoint.Port, clientEndPoint.Port, hosts, started, lanes.EndPoint.Port);
        state.Write(paths.SecurityFolder);

        var heartbeats = new HeartbeatMonitor(engines, options, time, logger).RunAsync(lifetime.Token);
        var registryWatch = new RegistryWatcher(registry, gate, options.RegistryPollPeriod, time, logger).RunAsync(lifetime.Token);
        host = new ControllerHost(server, lanes, audit, journal, lifetime, heartbeats, registryWatch, state, paths, files)
        {
            TaskJournal = journal is not null ? journalFile
                : leftAlone ? $"none (--no-journal): the earlier run's journal at {journalFile} is left alone, and a later start with it runs its tasks again (delete it to drop them)"
                : "none (--no-journal): tasks are kept in memory only",
        };
        return host;
    }

    /// <summary>Stops listening and ends every engine stream. Engines keep running and reconnect to the next controller on these ports.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await lifetime.CancelAsync().ConfigureAwait(false);
        await server.StopAsync(cancellationToken).ConfigureAwait(false);
        await lanes.DisposeAsync().ConfigureAwait(false);
        await heartbeats.ConfigureAwait(false);
        await registryWatch.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await server.DisposeAsync().ConfigureAwait(false);
        journal?.Dispose();
        audit.Dispose();
        lifetime.Dispose();
    }

    private static int Reused(int asked, int last) => asked == 0 ? last : asked;

    private static IReadOnlyList<string> LocationHosts(ControllerOptions options)
    {
        if (options.Locations.Count > 0)
        {
            return [.. options.Locations.Distinct()];
        }

        var address = IPAddress.Parse(options.ListenAddress);
        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            ? [Dns.GetHostName()]
            : [options.ListenAddress];
    }

    private static void RefuseIfRunning(ControllerState? last, ClusterPaths paths)
    {
        if (last is null || last.Pid == Environment.ProcessId)
        {
            return;
        }

        if (LiveProcess.IsRunning(last.Pid, "capcontroller"))
        {
            throw new CapClusterException(
                $"a controller (pid {last.Pid}) is already running with the security folder {paths.SecurityFolder}; " +
                "stop it first (capcluster stop) or use another --profile");
        }
    }
}
