using System.CommandLine;
using CapCluster.Launcher.Internal;
using CapCluster.Security;
using Spectre.Console;

var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME", Recursive = true };

var engines = new Option<int>("-n", "--engines") { Description = "How many engines to start", DefaultValueFactory = _ => 2 };
var enginePort = new Option<int>("--engine-port") { Description = "Pin the engine port (default: random)" };
var clientPort = new Option<int>("--client-port") { Description = "Pin the client port (default: random)" };
var ip = new Option<string?>("--ip") { Description = "Address the controller listens on (default 127.0.0.1)" };
var locations = new Option<string[]>("--location") { Description = "Host or address written into the .cap files (repeatable)", Arity = ArgumentArity.ZeroOrMore };
var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for every engine to register", DefaultValueFactory = _ => 60 };

var launcher = new Option<string>("--launcher") { Description = "How engines start: local (default) or mpi (mpirun -n N capengine --mpi)", DefaultValueFactory = _ => "local" };
launcher.AcceptOnlyFromAmong("local", "mpi");
var mpirunArgs = new Option<string[]>("--mpirun-arg") { Description = "An extra argument for mpirun (repeatable), e.g. --mpirun-arg=--bind-to --mpirun-arg=none", Arity = ArgumentArity.ZeroOrMore };

var start = new Command("start", "Start a controller and N engines on this machine, in the background") { engines, enginePort, clientPort, ip, locations, timeout, launcher, mpirunArgs };
start.SetAction((parse, ct) => Start(parse, parse.GetValue(launcher)!, ct));

var mpirun = new Command("mpirun", "Start a controller and N MPI engines with mpirun (the same as start --launcher mpi)") { engines, enginePort, clientPort, ip, locations, timeout, mpirunArgs };
mpirun.SetAction((parse, ct) => Start(parse, "mpi", ct));

var stop = new Command("stop", "Stop the controller and its engines");
stop.SetAction((parse, ct) => Run(parse, () => new ClusterStopper(Paths(parse), Console.Out).StopAsync(parse.GetValue(profile), ct)));

var status = new Command("status", "Show the controller and a table of its engines");
status.SetAction((parse, ct) => Run(parse, () => new ClusterStatus(Paths(parse), AnsiConsole.Console, Console.Out).ShowAsync(parse.GetValue(profile), ct)));

var engineId = new Option<int?>("--engine") { Description = "Show this engine's log instead of the controller's" };
var lineCount = new Option<int>("--lines") { Description = "How many of the last lines to show", DefaultValueFactory = _ => 50 };
var logs = new Command("logs", "Show the controller's log, or an engine's, from the log folder") { engineId, lineCount };
logs.SetAction((parse, ct) => Run(parse, () => new ClusterLogs(Paths(parse), Console.Out).ShowAsync(parse.GetValue(engineId), parse.GetValue(lineCount), ct)));

var root = new RootCommand("capcluster: start, inspect and stop a CapCluster controller and its engines") { profile, start, mpirun, stop, status, logs };
return await root.Parse(args).InvokeAsync();

ClusterPaths Paths(ParseResult parse) => ClusterPaths.Resolve(parse.GetValue(profile));

Task<int> Start(ParseResult parse, string how, CancellationToken ct) => Run(parse, () =>
{
    var n = parse.GetValue(engines);
    if (n < 0)
    {
        throw new CapClusterException($"-n {n}: the number of engines cannot be negative");
    }

    var options = new StartOptions(n, parse.GetValue(profile), parse.GetValue(enginePort), parse.GetValue(clientPort),
        parse.GetValue(ip), parse.GetValue(locations) ?? [], TimeSpan.FromSeconds(parse.GetValue(timeout)), how, parse.GetValue(mpirunArgs));
    return new ClusterStarter(Paths(parse), Console.Out).StartAsync(options, ct);
});

static async Task<int> Run(ParseResult parse, Func<Task<int>> action)
{
    try
    {
        return await action();
    }
    catch (CapClusterException e)
    {
        Console.Error.WriteLine($"capcluster {parse.CommandResult.Command.Name}: {e.Message}");
        return 2;
    }
}
