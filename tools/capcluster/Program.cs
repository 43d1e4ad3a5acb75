using System.CommandLine;
using CapCluster;
using CapCluster.Hosting;
using CapCluster.Launcher.Internal;
using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;
using CapCluster.Tools;

var profile = ProfileText.Option(recursive: true);

var engines = new Option<int>("-n", "--engines") { Description = "How many engines to start", DefaultValueFactory = _ => 2 };
var enginePort = new Option<int>("--engine-port") { Description = "Pin the engine port (default: random)" };
var clientPort = new Option<int>("--client-port") { Description = "Pin the client port (default: random)" };
var dataPort = new Option<int>("--data-port") { Description = "Pin the data lanes' port, for bulk pushes and pulls (default: random)" };
var ip = new Option<string?>("--ip") { Description = "Address the controller listens on (default 127.0.0.1)" };
var locations = new Option<string[]>("--location") { Description = "Host or address written into the .cap files (repeatable)", Arity = ArgumentArity.ZeroOrMore };
var noJournal = new Option<bool>("--no-journal") { Description = "Keep the controller's tasks in memory only (by default they are journaled, so a restarted controller resumes them)" };
var logFormat = new Option<string?>(LogFormatOption.Name) { Description = LogFormatOption.Description + "; passed to the controller and every engine" };
var auditInterval = new Option<double?>("--audit-interval") { Description = "Passed to the controller: seconds over which a holder's repeated connections, and a peer's refusals, become one audit record with a count (default 10; 0: one record each)" };
var auditSegment = new Option<long?>("--audit-segment-bytes") { Description = "Passed to the controller: size past which its audit log is sealed into a read-only segment, bounding what a start verifies (default 1 MiB; 0: never)" };
var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for every engine to register", DefaultValueFactory = _ => 60 };

var launcher = new Option<string>("--launcher")
{
    Description = "How engines start: local (default), mpi (mpirun -n N capengine --mpi), ssh (--hosts FILE), slurm (sbatch) or pbs (qsub)",
    DefaultValueFactory = _ => "local",
};
launcher.AcceptOnlyFromAmong(EngineLaunchers.Names);
var mpirunArgs = new Option<string[]>("--mpirun-arg") { Description = "An extra argument for mpirun (repeatable), e.g. --mpirun-arg=--bind-to --mpirun-arg=none", Arity = ArgumentArity.ZeroOrMore };

var partition = new Option<string?>("--partition") { Description = "slurm: the partition; pbs: the queue (default: the scheduler's default)" };
var timeLimit = new Option<string?>("--time-limit") { Description = "slurm/pbs: the job's time limit, e.g. 1:00:00 (default: the scheduler's default)" };
var account = new Option<string?>("--account") { Description = "slurm/pbs: the account to charge" };
var batchTemplate = new Option<string?>("--batch-template")
{
    Description = "slurm/pbs: a script template replacing the built-in one; placeholders {engines} {engine} {profile_args} (--profile, --log-format) {cap_file} {log_folder} {job_name} {partition} {time} {account}",
};
var hosts = new Option<string?>("--hosts") { Description = "ssh: a file of `host [count]` lines (# starts a comment)" };
var remoteEngine = new Option<string?>("--remote-engine") { Description = "ssh: capengine's path on the other hosts (default: its path here)" };
var sharedFolder = new Option<bool>("--shared-folder") { Description = "ssh: the security and log folders are shared (same paths on every host), so engine.cap is not copied" };
var sshOptions = new Option<string[]>("--ssh-option") { Description = "ssh: an -o option for ssh and scp (repeatable), e.g. --ssh-option Port=2222", Arity = ArgumentArity.ZeroOrMore };

var start = new Command("start", "Start a controller and N engines, in the background")
{
    engines, enginePort, clientPort, dataPort, ip, locations, noJournal, auditInterval, auditSegment, logFormat, timeout, launcher, mpirunArgs,
    partition, timeLimit, account, batchTemplate, hosts, remoteEngine, sharedFolder, sshOptions,
};
start.SetAction((parse, ct) => Start(parse, parse.GetValue(launcher)!, ct));

var mpirun = new Command("mpirun", "Start a controller and N MPI engines with mpirun (the same as start --launcher mpi)") { engines, enginePort, clientPort, dataPort, ip, locations, logFormat, timeout, mpirunArgs };
mpirun.SetAction((parse, ct) => Start(parse, "mpi", ct));

var stop = new Command("stop", "Stop the controller and its engines");
stop.SetAction((parse, ct) => Run(parse, () => new ClusterStopper(Paths(parse), Console.Out).StopAsync(parse.GetValue(profile), ct)));

var status = new Command("status", "Show the controller and a table of its engines");
status.SetAction((parse, ct) => Run(parse, () => ClusterRecord.OrphanedEngines(Paths(parse), parse.GetValue(profile)) is { } orphaned
    ? throw new CapClusterException(orphaned)
    : new ClusterStatus(Paths(parse), Terminal.Create(redirectedWidth: 240), Console.Out).ShowAsync(parse.GetValue(profile), ct)));

var engineId = new Option<int?>("--engine") { Description = "Show this engine's log instead of the controller's" };
var lineCount = new Option<int>("--lines") { Description = "How many of the last lines to show", DefaultValueFactory = _ => 50 };
var logs = new Command("logs", "Show the controller's log, or an engine's, from the log folder") { engineId, lineCount };
logs.SetAction((parse, ct) => Run(parse, () => new ClusterLogs(Paths(parse), Console.Out).ShowAsync(parse.GetValue(engineId), parse.GetValue(lineCount), ct)));

var consoleCapFile = new Option<string?>("--cap-file") { Description = "The multiengine.cap to connect with (default: the profile's); task.cap beside it gives tc. A task.cap alone gives tc only, without the engine magics" };
var console = new Command("console", "An interactive C# console on the cluster: mec and tc defined, %px, %%px, %autopx, %result (%help lists them)") { consoleCapFile };
// The console compiles C# as it runs (Roslyn), which this native program cannot: it is a program of its own, which
// takes this process's place (tools/capconsole).
console.SetAction((parse, ct) => Run(parse, () =>
{
    var options = new List<string>();
    if (parse.GetValue(profile) is { } name)
    {
        options.AddRange(["--profile", name]);
    }

    if (parse.GetValue(consoleCapFile) is { } file)
    {
        options.AddRange(["--cap-file", file]);
    }

    ProgramImage.Replace(Programs.Console, options);
    return Task.FromResult(0);
}));

var root = new RootCommand("capcluster: start, inspect and stop a CapCluster controller and its engines") { profile, start, mpirun, stop, status, logs, console };
engines.Expect("a whole number, 0 or more (0: the controller alone)", min: 0);
OptionValues.ExpectPorts(enginePort, clientPort, dataPort);
auditInterval.Expect(OptionValues.Seconds);
timeout.Expect(OptionValues.Seconds);
return await root.WithNumberErrors().Parse(args).InvokeAsync();

ClusterPaths Paths(ParseResult parse) => ClusterPaths.Resolve(parse.GetValue(profile));

Task<int> Start(ParseResult parse, string how, CancellationToken ct) => Run(parse, () =>
{
    var n = parse.GetValue(engines);
    if (n < 0)
    {
        throw new CapClusterException($"-n {n}: the number of engines cannot be negative");
    }

    // Checked before the controller starts: a wait it cannot make would fail only once the controller runs.
    const double MaxTimeoutSeconds = 7 * 24 * 3600;
    if (parse.GetValue(timeout) is var seconds && !(seconds > 0 && seconds <= MaxTimeoutSeconds))
    {
        throw new CapClusterException($"--timeout {seconds}: the seconds to wait for the engines must be more than 0 and at most {MaxTimeoutSeconds} (a week)");
    }

    // Checked before the controller starts, so a forgotten --hosts or a mistyped format costs nothing.
    if (parse.GetValue(logFormat) is { } format)
    {
        LogFormatOption.Parse(format);
    }

    if (how == "ssh" && parse.GetValue(hosts) is null)
    {
        throw new CapClusterException("--launcher ssh needs --hosts FILE (lines `host [count]`)");
    }

    var options = new StartOptions(n, parse.GetValue(profile), parse.GetValue(enginePort), parse.GetValue(clientPort),
        parse.GetValue(ip), parse.GetValue(locations) ?? [], TimeSpan.FromSeconds(parse.GetValue(timeout)), how, parse.GetValue(mpirunArgs),
        how is "mpi" or "local" ? null : new LaunchOptions(
            parse.GetValue(partition), parse.GetValue(timeLimit), parse.GetValue(account), parse.GetValue(batchTemplate),
            parse.GetValue(hosts), parse.GetValue(remoteEngine), parse.GetValue(sharedFolder)) { SshOptions = parse.GetValue(sshOptions) ?? [] })
    {
        DataPort = parse.GetValue(dataPort),
        NoJournal = parse.GetValue(noJournal),
        AuditInterval = parse.GetValue(auditInterval),
        AuditSegmentBytes = parse.GetValue(auditSegment),
        LogFormat = parse.GetValue(logFormat),
    };
    return new ClusterStarter(Paths(parse), Console.Out).StartAsync(options, ct);
});

static Task<int> Run(ParseResult parse, Func<Task<int>> action) => CommandErrors.RunAsync(parse.CommandResult.Command.Name, action);
