using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace CapCluster.Controller.Internal.Tasks;

internal sealed partial class TaskJournal
{
    /// <summary>A journaled task: unfinished (its spec) or finished (its result).</summary>
    public sealed record Entry(long Id, string Owner, long SubmittedUs, TaskSpec? Spec, TaskResult? Result);

    /// <summary>Everything journaled, tasks in id order. Called once, before the farm takes work.</summary>
    /// <exception cref="CapClusterException">A record cannot be read; the message names the journal and the task.</exception>
    public (IReadOnlyList<Entry> Tasks, IReadOnlyList<(string Hash, ByteString Image)> Images) Load()
    {
        var path = Path.Combine(Folder, DatabaseName);
        var images = new List<(string, ByteString)>();
        var tasks = new List<Entry>();
        long current = 0;
        try
        {
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT hash, image FROM assemblies";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    images.Add((reader.GetString(0), ByteString.CopyFrom((byte[])reader[1])));
                }
            }

            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id, owner, submitted_us, spec, result, result_file FROM tasks ORDER BY id";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    current = reader.GetInt64(0);
                    var result = reader.GetInt64(5) == 1
                        ? TaskResult.Parser.ParseFrom(File.ReadAllBytes(ResultFile(current)))
                        : reader.IsDBNull(4) ? null : TaskResult.Parser.ParseFrom((byte[])reader[4]);
                    var spec = result is null ? TaskSpec.Parser.ParseFrom((byte[])reader[3]) : null;
                    tasks.Add(new Entry(current, reader.GetString(1), reader.GetInt64(2), spec, result));
                }
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or InvalidProtocolBufferException)
        {
            throw new CapClusterException(
                $"{path}: the task journal cannot be read{(current > 0 ? $" at task {current}" : "")} ({Reason(e)}). Move it aside to start without the journaled tasks",
                e);
        }

        return (tasks, images);
    }
}
