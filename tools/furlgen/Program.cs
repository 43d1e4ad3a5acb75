using System.CommandLine;
using CapCluster;
using CapCluster.Furlgen.Internal;
using CapCluster.Security;
using CapCluster.Hosting;

// Piped into grep or a file, tables keep whole ids and times on one line instead of wrapping at 80 columns.
var console = Terminal.Create(redirectedWidth: 240);

var profile = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME", Recursive = true };

var showFile = new Argument<string>("FILE") { Description = "A .cap file" };
var show = new Command("show", "What a capability file grants (never its secret or key)") { showFile };
show.SetAction(parse => Run(parse, () => new CapabilityCommands(console).Show(parse.GetValue(showFile)!, Paths(parse))));

var verifyFile = new Argument<string>("FILE") { Description = "A .cap file" };
var online = new Option<bool>("--online") { Description = "Also ask the controller whether it still accepts the file (one real call)" };
var verify = new Command("verify", "Check a capability file: its structure, the CA pin, the holder certificate's chain and validity, and (where the registry is) that its URL and certificate are one capability's") { verifyFile, online };
verify.SetAction(parse => Run(parse, () => new CapabilityCommands(console).Verify(parse.GetValue(verifyFile)!, parse.GetValue(online), Paths(parse))));

var parentFile = new Argument<string>("FILE") { Description = "The .cap file to derive from" };
var attenuateLabel = new Option<string>("--label") { Description = "Who the new capability is for", Required = true };
var expires = new Option<string?>("--expires") { Description = "Expiry: a duration (30m, 1h, 24h, 7d) or an ISO 8601 date; default the parent's" };
var methods = new Option<string?>("--methods") { Description = "Comma-separated methods it may call (e.g. GetIds,Pull,Keys,QueueStatus); default the parent's" };
var maxTasks = new Option<long?>("--max-tasks") { Description = "At most this many tasks; default the parent's quota" };
var ownEngines = new Option<bool>("--own-engines") { Description = "A task capability: its tasks run only on engines whose capability serves it (see --serves), never on the shared ones" };
var serves = new Option<string?>("--serves") { Description = "An engine capability: its engines run only the tasks of this task capability (ID or .cap file) and those derived from it, no MultiEngine work" };
var output = new Option<string>("-o", "--output") { Description = "Where to write the new .cap file (0600)", Required = true };
var attenuate = new Command("attenuate", "Derive a narrower capability (never wider than FILE's) and register it with the controller") { parentFile, attenuateLabel, expires, methods, maxTasks, ownEngines, serves, output };
attenuate.SetAction(parse => Run(parse, () => new AdminCommands(console, Paths(parse)).Attenuate(
    parse.GetValue(parentFile)!, parse.GetValue(attenuateLabel)!, parse.GetValue(expires), parse.GetValue(methods), parse.GetValue(maxTasks),
    parse.GetValue(ownEngines), parse.GetValue(serves), parse.GetValue(output)!)));

var list = new Command("list", "Every capability the controller issued: id, interface, label, parent, expiry, revoked, last used");
list.SetAction(parse => Run(parse, () => new AdminCommands(console, Paths(parse)).List(Paths(parse).AuditLogFile)));

var revokeTarget = new Argument<string>("ID|FILE") { Description = "A capability id (see furlgen list) or a .cap file" };
var revoke = new Command("revoke", "Revoke a capability and every capability derived from it; a running controller refuses it within 1 s") { revokeTarget };
revoke.SetAction(parse => Run(parse, () => new AdminCommands(console, Paths(parse)).Revoke(parse.GetValue(revokeTarget)!)));

var rotateInterface = new Argument<string>("INTERFACE") { Description = "engine, multiengine or task" };
rotateInterface.AcceptOnlyFromAmong([.. CapabilityInterfaces.All]);
var rotate = new Command("rotate", "Issue a new capability for INTERFACE over the security folder's .cap file and revoke the old one") { rotateInterface };
rotate.SetAction(parse => Run(parse, () => new AdminCommands(console, Paths(parse)).Rotate(parse.GetValue(rotateInterface)!)));

var verifyChain = new Option<bool>("--verify") { Description = "Check the keyed chain against the audit key and anchor: say whether lines were edited, removed, reordered, the tail cut or the file replaced, and where" };
var denied = new Option<bool>("--denied") { Description = "Only refusals (and closed connections)" };
var label = new Option<string?>("--label") { Description = "Only records of capabilities with this label" };
var since = new Option<DateTimeOffset?>("--since") { Description = "Only records at or after this time (ISO 8601)" };
var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new records as they are appended, until Ctrl-C" };
var json = new Option<bool>("--json") { Description = "Print the raw JSON lines" };
var audit = new Command("audit", "The audit log: who connected, when, with what, and what was refused") { verifyChain, denied, label, since, follow, json };
audit.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, () => new AuditCommands(console).Run(
    Paths(parse).AuditLogFile, Paths(parse).SecurityFolder, parse.GetValue(verifyChain), new AuditFilter(parse.GetValue(denied), parse.GetValue(label), parse.GetValue(since)),
    parse.GetValue(json), parse.GetValue(follow), cancellationToken))));

var root = new RootCommand("furlgen: inspect, attenuate, share, rotate and revoke CapCluster capabilities, and read the audit log")
{
    profile, show, verify, attenuate, list, revoke, rotate, audit,
};
return await root.WithNumberErrors().Parse(args).InvokeAsync();

ClusterPaths Paths(ParseResult parse) => ClusterPaths.Resolve(parse.GetValue(profile));

static int Run(ParseResult parse, Func<int> action) => CapCluster.Hosting.CommandErrors.Run("furlgen", parse.CommandResult.Command.Name, action);
