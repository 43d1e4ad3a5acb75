using System.CommandLine;
using CapCluster;
using CapCluster.Hosting;
using CapCluster.Repl;
using CapCluster.Security;
using CapCluster.Tools;

// `capcluster console` execs this program with the options it was given (tools/capcluster/Program.cs declares them,
// for its help); it can be run alone too.
var profile = ProfileText.Option(recursive: false);
var capFile = new Option<string?>("--cap-file") { Description = "The multiengine.cap to connect with (default: the profile's); task.cap beside it gives tc. A task.cap alone gives tc only, without the engine magics" };
var root = new RootCommand("capcluster console: an interactive C# console on the cluster: mec and tc defined, %px, %%px, %autopx, %result (%help lists them)")
{
    profile, capFile,
};
root.SetAction((parse, ct) => CommandErrors.RunAsync("console", () =>
    new ClusterConsole(ClusterPaths.Resolve(parse.GetValue(profile)), Terminal.Create(redirectedWidth: 1000), new ConsoleOptions())
        .RunAsync(parse.GetValue(profile), parse.GetValue(capFile), ct)));

// The console handles Ctrl-C itself (it stops a wait, not the console); System.CommandLine would end the process.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
