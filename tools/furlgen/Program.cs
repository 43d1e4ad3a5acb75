using System.CommandLine;
using CapCluster.Furlgen.Internal;
using CapCluster.Security;
using Spectre.Console;

var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME", Recursive = true };

var showFile = new Argument<string>("FILE") { Description = "A .cap file" };
var show = new Command("show", "What a capability file grants (never its secret or key)") { showFile };
show.SetAction(parse => Run(parse, () => new CapabilityCommands(AnsiConsole.Console).Show(parse.GetValue(showFile)!, Paths(parse))));

var verifyFile = new Argument<string>("FILE") { Description = "A .cap file" };
var verify = new Command("verify", "Check a capability file: its structure, the CA pin, the holder certificate's chain and validity") { verifyFile };
verify.SetAction(parse => Run(parse, () => new CapabilityCommands(AnsiConsole.Console).Verify(parse.GetValue(verifyFile)!)));

var verifyChain = new Option<bool>("--verify") { Description = "Check the hash chain and say where it breaks" };
var denied = new Option<bool>("--denied") { Description = "Only refusals" };
var label = new Option<string?>("--label") { Description = "Only records of capabilities with this label" };
var since = new Option<DateTimeOffset?>("--since") { Description = "Only records at or after this time (ISO 8601)" };
var audit = new Command("audit", "The audit log: who connected, when, with what, and what was refused") { verifyChain, denied, label, since };
audit.SetAction(parse => Run(parse, () => new AuditCommands(AnsiConsole.Console).Run(
    Paths(parse).AuditLogFile, parse.GetValue(verifyChain), parse.GetValue(denied), parse.GetValue(label), parse.GetValue(since))));

var root = new RootCommand("furlgen: inspect and verify CapCluster capabilities, and read the audit log") { profile, show, verify, audit };
return await root.Parse(args).InvokeAsync();

ClusterPaths Paths(ParseResult parse) => ClusterPaths.Resolve(parse.GetValue(profile));

static int Run(ParseResult parse, Func<int> action)
{
    try
    {
        return action();
    }
    catch (CapClusterException e)
    {
        Console.Error.WriteLine($"furlgen {parse.CommandResult.Command.Name}: {e.Message}");
        return 2;
    }
}
