namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// The ssh and scp command lines of <c>--launcher ssh</c>. Without a shared folder, engine.cap goes
/// to <c>~/.capcluster-remote/&lt;fingerprint prefix&gt;/engine.cap</c> (0600 in a 0700 folder), and the
/// engines log beside it; with one, the engines read the local paths, which must be the same there.
/// </summary>
/// <param name="Engine">capengine's path on the other hosts.</param>
/// <param name="LocalCapFile">engine.cap here.</param>
/// <param name="LocalLogFolder">The log folder here (the engines' log folder with a shared folder).</param>
/// <param name="RemoteFolder">The per-controller folder under the remote home, e.g. ".capcluster-remote/abcdefghijklmnop".</param>
/// <param name="SharedFolder">The folders are at the same paths on the other hosts: copy nothing.</param>
/// <param name="SshOptions">Extra <c>-o</c> options for both ssh and scp (Port=2222, IdentityFile=...).</param>
internal sealed record SshCommands(
    string Engine,
    string LocalCapFile,
    string LocalLogFolder,
    string RemoteFolder,
    bool SharedFolder,
    IReadOnlyList<string> SshOptions)
{
    /// <summary>The engines' <c>--log-format</c>; null (the default) passes none.</summary>
    public string? LogFormat { get; init; }

    /// <summary>How the engines on the other host find engine.cap (a shell word: the remote shell expands $HOME).</summary>
    public string RemoteCapFile => SharedFolder ? ShellQuote.Quote(LocalCapFile) : $"\"$HOME\"/{ShellQuote.Quote(RemoteFolder)}/engine.cap";

    public string RemoteLogFolder => SharedFolder ? ShellQuote.Quote(LocalLogFolder) : $"\"$HOME\"/{ShellQuote.Quote(RemoteFolder)}/log";

    /// <summary>Creates the remote folder, private to the user, before the copy.</summary>
    public IReadOnlyList<string> Prepare(string host) =>
        Ssh(host, $"umask 077 && mkdir -p \"$HOME\"/{ShellQuote.Quote(RemoteFolder)}/log");

    /// <summary>scp -p keeps engine.cap's 0600; the path is relative to the remote home.</summary>
    public IReadOnlyList<string> Copy(string host) =>
        ["scp", .. Options(), "-q", "-p", LocalCapFile, $"{host}:{RemoteFolder}/engine.cap"];

    /// <summary>Starts <paramref name="count"/> engines that outlive the ssh session.</summary>
    public IReadOnlyList<string> Start(string host, int count)
    {
        var one = $"nohup {ShellQuote.Quote(Engine)} --cap-file {RemoteCapFile} --log-folder {RemoteLogFolder}{LogFormatArguments} >/dev/null 2>&1 &";
        return Ssh(host, string.Join(' ', Enumerable.Repeat(one, count)));
    }

    private string LogFormatArguments => LogFormat is null ? string.Empty : " " + ShellQuote.Join(StartOptions.LogFormatArguments(LogFormat));

    private IReadOnlyList<string> Ssh(string host, string remoteCommand) => ["ssh", .. Options(), "-n", host, remoteCommand];

    // BatchMode: fail instead of asking for a password nobody will type.
    private IEnumerable<string> Options() => new[] { "BatchMode=yes" }.Concat(SshOptions).SelectMany(o => new[] { "-o", o });
}
