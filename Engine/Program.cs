using System.CommandLine;
using CapCluster.Client;
using CapCluster.Engine;
using CapCluster.Hosting;
using CapCluster.Security;

var capFile = new Option<string?>("--cap-file") { Description = "The engine capability (default: the security folder's engine.cap)" };
var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME" };
var logFolder = new Option<string?>("--log-folder") { Description = "Where the engine writes its log" };
var root = new RootCommand("capengine: a CapCluster engine") { capFile, profile, logFolder };

root.SetAction(async (parse, _) =>
{
    var options = new EngineOptions
    {
        CapFile = parse.GetValue(capFile),
        Profile = parse.GetValue(profile),
        LogFolder = parse.GetValue(logFolder),
    };

    using var shutdown = new CancellationTokenSource();
    using var signals = ComponentLogging.HandleSignals(shutdown);
    var cancellationToken = shutdown.Token;
    try
    {
        var paths = ClusterPaths.Resolve(options.Profile, logFolder: options.LogFolder);
        Directory.CreateDirectory(paths.LogFolder);
        using var loggerFactory = ComponentLogging.Create("capengine", paths.LogFolder);
        var capPath = options.CapFile ?? paths.CapFile(CapabilityInterfaces.Engine);
        using var connection = ControllerConnection.Open(capPath, CapabilityInterfaces.Engine);
        using var host = new EngineHost(connection, options, TimeProvider.System, loggerFactory.CreateLogger("CapCluster.Engine"));
        await host.RunAsync(cancellationToken);
        return 0;
    }
    catch (CapClusterException e)
    {
        Console.Error.WriteLine($"capengine: {e.Message}");
        return e is EngineRefusedException ? 3 : 2;
    }
});

return await root.Parse(args).InvokeAsync();
