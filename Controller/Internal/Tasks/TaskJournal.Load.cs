using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace CapCluster.Controller.Internal.Tasks;

internal sealed partial class TaskJournal
{
    /// <summary>A journaled task: unfinished (its spec, and what its attempts have used) or finished (its result).</summary>
    public sealed record Entry(long Id, string Owner, long SubmittedUs, TaskSpec? Spec, TaskResult? Result, AttemptCounts Attempts = default);

    /// <summary>The journaled assembly images and closures. Called once, before <see cref="LoadTasks"/>.</summary>
    /// <exception cref="CapClusterException">They cannot be read; the message names the journal.</exception>
    public AssemblyRecords LoadAssemblies()
    {
        var assemblies = new AssemblyRecords();
        try
        {
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT hash, image, owner FROM assemblies";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    assemblies.Images.Add((reader.GetString(0), ByteString.CopyFrom((byte[])reader[1]), reader.IsDBNull(2) ? null : reader.GetString(2)));
                }
            }

            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id, hashes FROM closures";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    assemblies.Closures.Add((reader.GetString(0), reader.GetString(1).Split('\n')));
                }
            }
        }
        catch (SqliteException e)
        {
            throw new CapClusterException(
                $"{Path.Combine(Folder, DatabaseName)}: the task journal's assemblies cannot be read ({Reason(e)}). Move it aside to start without the journaled tasks",
                e);
        }

        return assemblies;
    }

    /// <summary>
    /// Hands every journaled task to <paramref name="each"/>, in id order, one at a time: a restart with a million queued
    /// tasks never holds all their specs at once. Called once, before the farm takes work.
    /// </summary>
    /// <exception cref="CapClusterException">A record cannot be read; the message names the journal and the task.</exception>
    public void LoadTasks(Action<Entry> each)
    {
        var path = Path.Combine(Folder, DatabaseName);
        long current = 0;
        try
        {
            using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT t.id, t.owner, t.submitted_us, t.spec, r.result, r.in_file, a.attempts, a.engine_losses, a.recovering
                    FROM tasks t LEFT JOIN results r ON r.id = t.id LEFT JOIN attempts a ON a.id = t.id ORDER BY t.id
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    current = reader.GetInt64(0);
                    var inFile = !reader.IsDBNull(5) && reader.GetInt64(5) == 1;
                    if (inFile)
                    {
                        filed.Add(current);
                    }

                    // One record that cannot be read loses that task, said in its result, not the journal: the others start.
                    TaskResult? result;
                    try
                    {
                        result = inFile
                            ? TaskResult.Parser.ParseFrom(File.ReadAllBytes(ResultFile(current)))
                            : reader.IsDBNull(4) ? null : TaskResult.Parser.ParseFrom((byte[])reader[4]);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
                    {
                        result = Lost(current, inFile ? $"its result file {ResultFile(current)}" : "its journaled result", e);
                    }

                    TaskSpec? spec = null;
                    if (result is null)
                    {
                        try
                        {
                            spec = TaskSpec.Parser.ParseFrom((byte[])reader[3]);
                        }
                        catch (InvalidProtocolBufferException e)
                        {
                            result = Lost(current, "its journaled spec", e);
                        }
                    }

                    var attempts = default(AttemptCounts);
                    if (!reader.IsDBNull(6))
                    {
                        attempted.Add(current);
                        attempts = new AttemptCounts(reader.GetInt32(6), reader.GetInt32(7), reader.GetInt64(8) == 1);
                    }

                    each(new Entry(current, reader.GetString(1), reader.GetInt64(2), spec, result, attempts));
                }
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or InvalidProtocolBufferException)
        {
            throw new CapClusterException(
                $"{path}: the task journal cannot be read{(current > 0 ? $" at task {current}" : "")} ({Reason(e)}). Move it aside to start without the journaled tasks",
                e);
        }
    }

    /// <summary>A failed result for task <paramref name="id"/>, whose <paramref name="what"/> could not be read back; logged.</summary>
    private TaskResult Lost(long id, string what, Exception e)
    {
        var failure = $"lost at the controller's restart: {what} could not be read ({Reason(e)})";
        ControllerLog.JournalRecordLost(logger, id, failure);
        return new TaskResult { TaskId = id, State = TaskState.Failed, Failure = failure };
    }

    /// <summary>
    /// The specs of queued tasks whose specs were dropped from memory, by id (on a reading connection of its own). Spilled
    /// tasks are mostly runs of consecutive ids, so the ids are read a run at a time, through one prepared statement kept
    /// with the connection: a query naming every id was parsed anew for each batch of tasks about to run.
    /// </summary>
    /// <exception cref="CapClusterException">They cannot be read.</exception>
    public Dictionary<long, TaskSpec> ReadSpecs(IReadOnlyList<long> ids)
    {
        var specs = new Dictionary<long, TaskSpec>(ids.Count);
        var sorted = ids.ToArray();
        Array.Sort(sorted);
        lock (readerGate)
        {
            try
            {
                reader ??= OpenReader();
                specRange ??= PrepareSpecRange(reader);
                for (var start = 0; start < sorted.Length;)
                {
                    var end = start;
                    while (end + 1 < sorted.Length && sorted[end + 1] <= sorted[end] + 1)
                    {
                        end++;
                    }

                    specRange.Parameters[0].Value = sorted[start];
                    specRange.Parameters[1].Value = sorted[end];
                    using var rows = specRange.ExecuteReader();
                    while (rows.Read())
                    {
                        specs[rows.GetInt64(0)] = TaskSpec.Parser.ParseFrom(rows.GetFieldValue<byte[]>(1));
                    }

                    start = end + 1;
                }
            }
            catch (Exception e) when (e is SqliteException or InvalidProtocolBufferException)
            {
                throw new CapClusterException($"{Path.Combine(Folder, DatabaseName)}: queued tasks cannot be read back from the task journal ({Reason(e)})", e);
            }
        }

        return specs;
    }

    private static SqliteCommand PrepareSpecRange(SqliteConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = "SELECT id, spec FROM tasks WHERE id BETWEEN $first AND $last";
        command.Parameters.Add("$first", SqliteType.Integer);
        command.Parameters.Add("$last", SqliteType.Integer);
        command.Prepare();
        return command;
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Folder, DatabaseName), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
