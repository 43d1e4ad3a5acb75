using System.Text.Json;
using CapCluster.Security;

namespace CapCluster.Launcher.Internal;

/// <summary>The processes <c>capcluster start</c> launched, so that <c>stop</c> can make sure they end.</summary>
/// <param name="ControllerPid">The capcontroller process.</param>
/// <param name="EnginePids">Local engine (or mpirun) processes; empty for ssh and batch jobs.</param>
/// <param name="Scheduler">The launcher that started the engines (local, mpi, ssh, slurm, pbs); null in records from before launchers.</param>
/// <param name="JobId">The slurm or pbs job running the engines, which <c>stop</c> cancels.</param>
internal sealed record ClusterRecord(int ControllerPid, IReadOnlyList<int> EnginePids, string? Scheduler = null, string? JobId = null)
{
    private const string FileName = "cluster.json";

    /// <summary>Engines started directly, or the mpirun (OpenMPI's orterun / prterun) that started them.</summary>
    public static readonly string[] EngineProcessNames = ["capengine", "mpirun", "orterun", "prterun"];

    /// <summary>
    /// When the controller <c>start</c> launched is gone (killed, crashed) but engines it launched still run, waiting for
    /// it to come back: what to do, in one message; otherwise null.
    /// </summary>
    public static string? OrphanedEngines(ClusterPaths paths, string? profile)
    {
        if (TryRead(paths) is not { } record || LiveProcess.IsRunning(record.ControllerPid, "capcontroller"))
        {
            return null;
        }

        var waiting = record.EnginePids.Count(pid => LiveProcess.IsRunning(pid, EngineProcessNames));
        return waiting == 0 ? null
            : $"the controller of {Tools.ProfileText.Name(profile)} (pid {record.ControllerPid}) is no longer running, but {waiting} of the engine " +
              $"processes started with it are, waiting for it to come back. Restart it on the same ports with `capcontroller --reuse{Tools.ProfileText.Flag(profile)}` " +
              $"(the engines register again, journaled tasks resume, clients reconnect), or end them with `capcluster stop{Tools.ProfileText.Flag(profile)}`";
    }

    public static ClusterRecord? TryRead(ClusterPaths paths)
    {
        var path = Path.Combine(paths.SecurityFolder, FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), ClusterRecordJson.Default.ClusterRecord) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(ClusterPaths paths) => File.WriteAllText(Path.Combine(paths.SecurityFolder, FileName), JsonSerializer.Serialize(this, ClusterRecordJson.Default.ClusterRecord));

    public static void Delete(ClusterPaths paths)
    {
        // No folder yet (nothing ever started in this profile): nothing to delete.
        if (Directory.Exists(paths.SecurityFolder))
        {
            File.Delete(Path.Combine(paths.SecurityFolder, FileName));
        }
    }
}

/// <summary><c>cluster.json</c>, through source-generated metadata (no converters to JIT-compile as <c>start</c> runs), in the default options it always had.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(ClusterRecord))]
internal sealed partial class ClusterRecordJson : System.Text.Json.Serialization.JsonSerializerContext;
