using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// A launcher that writes a batch script into the log folder, submits it, and records the
/// job id so that <c>stop</c> (or a failed start) cancels the job. Slurm and PBS differ
/// only in the commands, the built-in template and how the job id is printed.
/// </summary>
internal abstract class BatchLauncher(ClusterPaths paths, TextWriter output) : IEngineLauncher
{
    /// <summary>"slurm" or "pbs": the --launcher name, also recorded as the cluster's scheduler.</summary>
    public abstract string Name { get; }

    /// <summary>The built-in script template.</summary>
    public abstract string DefaultTemplate { get; }

    protected abstract string InstallHint { get; }

    protected ClusterPaths Paths => paths;

    public string ScriptPath => Path.Combine(paths.LogFolder, $"{Name}-engines.sh");

    public async Task<LaunchedEngines> LaunchAsync(StartOptions options, CancellationToken cancellationToken)
    {
        var script = Script(options);
        File.WriteAllText(ScriptPath, script);
        var submit = SubmitCommand(ScriptPath, options);
        var result = await ExternalCommand.RunAsync(submit, InstallHint, cancellationToken).ConfigureAwait(false);
        var jobId = result.ExitCode == 0 ? ParseJobId(result.Output) : null;
        if (jobId is null)
        {
            throw new CapClusterException(
                $"`{string.Join(' ', submit)}` failed (exit code {result.ExitCode}): {result.Describe()}; the script is {ScriptPath}");
        }

        output.WriteLine($"Submitted {options.Engines} engines as {Name} job {jobId} (script {ScriptPath})");
        return new LaunchedEngines(options.Engines, [], _ => true, TimeoutHint(jobId), jobId);
    }

    public async Task CleanUpAsync(ClusterRecord record, CancellationToken cancellationToken)
    {
        if (record.JobId is null)
        {
            return;
        }

        var result = await ExternalCommand.RunAsync(CancelCommand(record.JobId), InstallHint, cancellationToken).ConfigureAwait(false);
        output.WriteLine(result.ExitCode == 0
            ? $"Cancelled {Name} job {record.JobId}."
            : $"{CancelCommand(record.JobId)[0]} {record.JobId}: {result.Describe()} (the job may have ended already)");
    }

    /// <summary>The script for these options: the <c>--batch-template</c> file or the built-in template, filled.</summary>
    public string Script(StartOptions options)
    {
        var file = options.Launch.BatchTemplate;
        string template;
        try
        {
            template = file is null ? DefaultTemplate : File.ReadAllText(file);
        }
        catch (IOException e)
        {
            throw new CapClusterException($"--batch-template {file}: {e.Message}");
        }

        return BatchScript.Render(template, new BatchScript.Values(
            options.Engines,
            Programs.Engine,
            paths.CapFile(CapabilityInterfaces.Engine),
            paths.LogFolder,
            "capcluster" + (options.Profile is null ? string.Empty : "-" + options.Profile),
            options.Profile,
            options.Launch.Partition,
            options.Launch.TimeLimit,
            options.Launch.Account,
            options.LogFormat));
    }

    public abstract IReadOnlyList<string> SubmitCommand(string script, StartOptions options);

    public abstract IReadOnlyList<string> CancelCommand(string jobId);

    /// <summary>The job id in what the submit command printed, or null when there is none.</summary>
    public abstract string? ParseJobId(string submitOutput);

    protected abstract string TimeoutHint(string jobId);
}
