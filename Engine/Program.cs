using System.CommandLine;
using CapCluster;
using CapCluster.Connection;
using CapCluster.Engine;
using CapCluster.Hosting;
using CapCluster.Security;

var capFile = new Option<string?>("--cap-file") { Description = "The engine capability (default: the security folder's engine.cap)" };
var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME" };
var logFolder = new Option<string?>("--log-folder") { Description = "Where the engine writes its log" };
var logFormat = new Option<string>(LogFormatOption.Name) { Description = LogFormatOption.Description, DefaultValueFactory = _ => LogFormatOption.Choices[0] };
var mpi = new Option<bool>("--mpi") { Description = "Initialise MPI before any user code (start under mpirun); code can then use CapCluster.Mpi" };
var controllerTimeout = new Option<double>("--controller-timeout")
{
    Description = "Seconds to keep trying to reach a controller that is gone before exiting with code 4",
    DefaultValueFactory = _ => new EngineOptions().ControllerTimeout.TotalSeconds,
};
var controllerPid = new Option<int?>("--controller-pid")
{
    Description = "Wait until the controller with this pid has written its state to the security folder, then connect (capcluster start starts engines beside their controller with it)",
};
var notifyFd = new Option<int?>("--notify-fd")
{
    Description = "A pipe inherited from the process that started the engine: once registered, the engine writes its id and a newline to it and closes it (capcluster start waits on it)",
};
var root = new RootCommand("capengine: a CapCluster engine") { capFile, profile, logFolder, logFormat, mpi, controllerTimeout, controllerPid, notifyFd };

root.SetAction(async (parse, _) =>
{
    var options = new EngineOptions
    {
        CapFile = parse.GetValue(capFile),
        Profile = parse.GetValue(profile),
        LogFolder = parse.GetValue(logFolder),
        Mpi = parse.GetValue(mpi),
        ControllerTimeout = TimeSpan.FromSeconds(parse.GetValue(controllerTimeout)),
        ControllerPid = parse.GetValue(controllerPid),
        NotifyFd = parse.GetValue(notifyFd),
    };

    using var shutdown = new CancellationTokenSource();
    using var signals = ComponentLogging.HandleSignals(shutdown);
    var cancellationToken = shutdown.Token;
    try
    {
        options.Validate();
        var format = LogFormatOption.Parse(parse.GetValue(logFormat)!);
        var paths = ClusterPaths.Resolve(options.Profile, logFolder: options.LogFolder);
        Directory.CreateDirectory(paths.LogFolder);
        using var loggerFactory = ComponentLogging.Create("capengine", paths.LogFolder, format);
        var capPath = options.CapFile ?? paths.CapFile(CapabilityInterfaces.Engine);
        using var notice = options.NotifyFd is { } fd ? CapCluster.Engine.Internal.RegistrationNotice.Open(fd) : null;
        if (options.Mpi)
        {
            // Before any user code, as mpi4py engines did; the rank becomes the engine's id when it is free.
            CapCluster.Mpi.Mpi.Initialize();
            var world = CapCluster.Mpi.Mpi.World;
            options.Properties["mpi"] = "yes";
            options.Properties["mpi.rank"] = world.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture);
            options.Properties["mpi.size"] = world.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
            options.PreferredId = world.Rank;
        }

        if (options.ControllerPid is { } pid)
        {
            // While the controller starts, the capability is opened as it stands (if it is there): the controller then
            // rewrites it for its new ports, so it is opened again below, but the code that reads and checks it, and
            // OpenSSL, are ready by then. Measured: opening it took 80-100 ms of an engine's start after the controller's.
            try
            {
                ControllerConnection.Open(capPath, CapabilityInterfaces.Engine).Dispose();
            }
            catch (Exception e) when (e is CapClusterException or IOException or UnauthorizedAccessException)
            {
                // A first start (no file yet) or a file the controller replaces: what counts is the open below.
            }

            await CapCluster.Engine.Internal.ControllerStart.WaitAsync(paths.SecurityFolder, pid, options.ControllerTimeout, TimeProvider.System, cancellationToken);
        }

        using var connection = ControllerConnection.Open(capPath, CapabilityInterfaces.Engine);
        // Started by hand at a terminal, it says what it does there; under a launcher its output goes to a file, and the log says it.
        using var host = new EngineHost(connection, options, TimeProvider.System, loggerFactory.CreateLogger("CapCluster.Engine"))
        {
            Progress = Console.IsErrorRedirected ? null : line => Console.Error.WriteLine($"capengine: {line}"),
        };
        notice?.SendWhen(host.Registered);
        try
        {
            await host.RunAsync(cancellationToken);
        }
        finally
        {
            if (options.Mpi && CapCluster.Mpi.Mpi.IsInitialized)
            {
                CapCluster.Mpi.Mpi.Finalize();   // mpirun takes an exit without it for a crash and kills the other ranks
            }
        }

        return 0;
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        return 0; // stopped (SIGTERM) while waiting for its controller
    }
    catch (Exception e) when (FolderErrors.IsFolderError(e))
    {
        Console.Error.WriteLine($"capengine: {FolderErrors.Describe(e)}");
        return 2;
    }
    catch (CapClusterException e)
    {
        Console.Error.WriteLine($"capengine: {e.Message}");
        Console.Error.Flush();
        return e switch
        {
            EngineRefusedException => 3,
            ControllerGoneException => ControllerGoneException.ExitCode,
            _ => 2,
        };
    }
});

controllerTimeout.Expect(OptionValues.Seconds);
controllerPid.Expect("a process id, a whole number from 1", min: 1);
notifyFd.Expect("a file descriptor, a whole number from 0", min: 0);
return await root.WithNumberErrors().Parse(args).InvokeAsync();
