using System.Buffers;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// The task farm's journal: every accepted task (its spec, owner and submission time), the shipped assemblies and the
/// closures specs name them by, and every result until it is cleared or evicted, in SQLite (WAL) in the journal folder, so that a
/// controller restarted on the same folder resumes. Writes are group-committed: whatever arrived while the last
/// transaction ran goes in the next, and the farm's lock never waits for the disk. A submission is written by its
/// submitter when no write runs (<see cref="WriteNow"/>), otherwise by a thread of the journal's own, and answered only
/// once its transaction committed (<see cref="Submit"/>); results and deletions are written behind
/// (a result lost with the controller means its task runs again, and a client takes the first result it gets).
/// Results larger than <see cref="TaskJournalOptions.LargeResult"/> are files beside the database. A task's failed or lost
/// attempts are written behind too, when they happen (<see cref="Attempted"/>), never at dispatch: a restart resumes the
/// task with them, and only the attempt the lost controller was running is not charged. The database gives the space of
/// forgotten tasks back to the file system after a large clear (<see cref="GiveBackSpace"/>) when little is left in it.
/// </summary>
internal sealed partial class TaskJournal : IDisposable
{
    public const string DatabaseName = "journal.db";
    // 2 added the closures table; a version 1 journal (its specs list their assemblies) is read, and becomes version 2.
    // 3 added the capability each image is charged to; images of an older journal are charged to no one.
    // 4 added the attempts table; the tasks of an older journal resume with none used.
    private const int SchemaVersion = 4;

    private readonly SqliteConnection connection;
    private readonly TaskJournalOptions options;
    private readonly ILogger logger;
    private readonly Thread writer;
    private readonly Commands commands;
    private readonly object gate = new();
    private readonly object readerGate = new();

    // Ids whose result is a file in results/ (touched by the writer thread, and by Load before any write).
    private readonly HashSet<long> filed = [];
    // Ids with a row in attempts (likewise): a forgotten task's row is deleted only if it has one, so a clear of tasks
    // that never failed costs that table nothing.
    private readonly HashSet<long> attempted = [];
    // One transaction's rows, kept for the next (see Apply); used by whoever writes (see writing).
    private readonly JournalRows rows = new();
    private List<Op> pending = [];
    private List<Op> spare = [];
    private SqliteConnection? reader;
    private SqliteCommand? specRange;
    private bool waited;
    private bool asleep;

    // A batch is being written, by the writer thread or by a submitter (WriteNow); the writer thread waits for one
    // written elsewhere when it has something to write (waitsForWrite), and is woken when it ends.
    private bool writing;
    private bool waitsForWrite;
    private bool stopping;
    private bool failing;

    // Free pages are to be given back (see GiveBackSpace), and who waits for it.
    private bool givingBack;
    private TaskCompletionSource? givenBack;

    private TaskJournal(string folder, SqliteConnection connection, TaskJournalOptions options, ILogger logger)
    {
        Folder = folder;
        this.connection = connection;
        this.options = options;
        this.logger = logger;
        // Prepared here, not on the writer's thread: Load runs next on this one, with the same connection, and a
        // connection must not be used from two threads at once (seen as a NullReferenceException in its Close).
        commands = new Commands(connection);
        writer = new Thread(WriteLoop) { IsBackground = true, Name = "task journal" };
        writer.Start();
    }

    /// <summary>The folder holding the database and the large results.</summary>
    public string Folder { get; }

    private string ResultsFolder => Path.Combine(Folder, "results");

    /// <summary>Opens (or creates) the journal in <paramref name="folder"/> (created 0700).</summary>
    /// <exception cref="CapClusterException">It cannot be opened or is not a journal; the message names the path.</exception>
    public static TaskJournal Open(string folder, TaskJournalOptions options, ILogger logger)
    {
        var path = Path.Combine(folder, DatabaseName);
        SqliteConnection? connection = null;
        try
        {
            CreatePrivateFolder(folder);
            CreatePrivateFolder(Path.Combine(folder, "results"));
            // SQLite gives the -wal and -shm files the database file's mode: a new one is made 0600 first (the folder
            // may be one the user gave, and readable by others).
            if (!OperatingSystem.IsWindows() && !File.Exists(path))
            {
                using var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile });
            }

            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            connection.Open();
            Execute(connection, $"""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = {(options.SyncEveryCommit ? "FULL" : "NORMAL")};
                CREATE TABLE IF NOT EXISTS tasks (
                    id INTEGER PRIMARY KEY,
                    owner TEXT NOT NULL,
                    submitted_us INTEGER NOT NULL,
                    spec BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, result BLOB, in_file INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS assemblies (hash TEXT PRIMARY KEY, image BLOB NOT NULL, owner TEXT);
                CREATE TABLE IF NOT EXISTS closures (id TEXT PRIMARY KEY, hashes TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS attempts (
                    id INTEGER PRIMARY KEY,
                    attempts INTEGER NOT NULL,
                    engine_losses INTEGER NOT NULL,
                    recovering INTEGER NOT NULL);
                """);
            var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
            if (version is 0 or 1 or 2 or 3)
            {
                if (!HasColumn(connection, "assemblies", "owner"))
                {
                    Execute(connection, "ALTER TABLE assemblies ADD COLUMN owner TEXT");
                }

                Execute(connection, $"PRAGMA user_version = {SchemaVersion}");
            }
            else if (version != SchemaVersion)
            {
                throw new CapClusterException($"{path}: the task journal has schema version {version}, this controller reads {SchemaVersion}; start it with another --journal-folder");
            }

            if (!OperatingSystem.IsWindows())
            {
                // Also those of a journal made before its files were private: the WAL holds task code and values.
                foreach (var file in new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists))
                {
                    File.SetUnixFileMode(file, PrivateFile);
                }
            }

            return new TaskJournal(folder, connection, options, logger);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new CapClusterException($"{path}: the task journal cannot be opened ({Reason(e)}). Free space or fix the folder's permissions, or start with --journal-folder elsewhere", e);
        }
    }

    /// <summary>
    /// Journals newly accepted tasks (and assembly images and closures seen for the first time); completes once they are
    /// durable. With <paramref name="wakeLater"/>, they are written only at <see cref="WriteNow"/>, which the caller must
    /// then call (or sooner, if the writer wakes for another reason): the farm first sends the tasks to their engines, so
    /// that on a machine of few cores their commit does not take the core the dispatch needs.
    /// </summary>
    public Task Submit(IReadOnlyList<(long Id, string Owner, long SubmittedUs, TaskSpec Spec)> tasks, AssemblyRecords assemblies, bool wakeLater = false)
    {
        // Completed on the thread that writes it (WriteNow's caller, or the writer thread), which then answers the client
        // itself: no thread hop on a task's way.
        var durable = new TaskCompletionSource();
        Enqueue(new Op(OpKind.Submit, tasks, assemblies, durable), wake: !wakeLater);
        return durable.Task;
    }

    /// <summary>
    /// Writes the submissions that wait (see <see cref="Submit"/>) now, on this thread, when no write is running: the
    /// submission is then acknowledged without waking the writer thread, whose wake-up on a machine of few cores costs
    /// the round trip more than the commit. When a write is running, the writer thread takes them next.
    /// </summary>
    public void WriteNow()
    {
        List<Op> batch;
        lock (gate)
        {
            if (!waited)
            {
                return;
            }

            if (writing || stopping)
            {
                Monitor.Pulse(gate);
                return;
            }

            batch = Take();
        }

        WriteTaken(batch);
    }

    /// <summary>Completes once everything handed to the journal before it is durable.</summary>
    public Task Flush()
    {
        var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Op(OpKind.Flush, null, null, durable));
        return durable.Task;
    }

    /// <summary>Journals a task's result, behind.</summary>
    public void Finish(long id, byte[] result) => Enqueue(new Op(OpKind.Finish, null, null, null, id, result));

    /// <summary>
    /// Journals, behind, what a task's attempts so far have used (after one failed or lost its engine, and the task goes on):
    /// a restarted controller resumes it with them, so a task that fails or ends its engine every time does not get its
    /// retries again at each restart.
    /// </summary>
    public void Attempted(long id, AttemptCounts counts) => Enqueue(new Op(OpKind.Attempt, null, null, null, id, Counts: counts));

    /// <summary>
    /// Gives the pages of forgotten tasks back to the file system, behind, on the writer thread between its writes: when
    /// most of the file is free pages and what is left is at most <see cref="TaskJournalOptions.MaxGiveBackCopy"/>, the
    /// database is rewritten with what is left (VACUUM), then a checkpoint truncates it and its write-ahead log. Call it
    /// after a large clear, once the clear is journaled. Completes when done (or stopped).
    /// </summary>
    public Task GiveBackSpace()
    {
        lock (gate)
        {
            if (stopping)
            {
                return Task.CompletedTask;
            }

            givingBack = true;
            givenBack ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (asleep)
            {
                Monitor.Pulse(gate);
            }

            return givenBack.Task;
        }
    }

    /// <summary>Forgets tasks (cleared or evicted results, or tasks never acknowledged), behind.</summary>
    public void Forget(IReadOnlyList<long> ids)
    {
        if (ids.Count > 0)
        {
            Enqueue(new Op(OpKind.Forget, null, null, null, Ids: ids));
        }
    }

    /// <summary>Writes what is pending and stops the writer.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.Pulse(gate);
        }

        writer.Join();
        givenBack?.TrySetResult();
        connection.Dispose();
        lock (readerGate)
        {
            specRange?.Dispose();
            reader?.Dispose();
        }
    }

    private void Enqueue(Op op, bool wake = true)
    {
        lock (gate)
        {
            if (stopping)
            {
                op.Durable?.TrySetException(new CapClusterException("the controller is stopping"));
                return;
            }

            pending.Add(op);
            if (op.Durable is not null && !waited)
            {
                // Somebody waits for this one: write now.
                waited = true;
                if (wake)
                {
                    Monitor.Pulse(gate);
                }
            }
            else if ((pending.Count == 1 && asleep) || pending.Count == options.FlushCount)
            {
                // The first, if the writer sleeps, starts its short wait for more; a full batch ends it.
                Monitor.Pulse(gate);
            }
        }
    }

    /// <summary>
    /// Writes what is pending: at once when a submission waits for it, otherwise (results, forgetting) once
    /// <see cref="TaskJournalOptions.FlushCount"/> ops are pending or <see cref="TaskJournalOptions.FlushDelay"/> passed.
    /// After a write the writer lingers that long before it sleeps: what is written behind meanwhile (the result of the
    /// task just submitted, typically) needs no wake of its own, and goes with the next submission or at the linger's end.
    /// On two cores a wake is CPU the round trip of a task pays for.
    /// </summary>
    private void WriteLoop()
    {
        using var owned = commands;
        var lingering = false;
        while (true)
        {
            List<Op> batch;
            bool giveBack;
            lock (gate)
            {
                while (true)
                {
                    if (writing)
                    {
                        // A submitter writes (WriteNow): what waits goes after it.
                        waitsForWrite = true;
                        Monitor.Wait(gate);
                        waitsForWrite = false;
                        continue;
                    }

                    if (stopping || waited || pending.Count >= options.FlushCount)
                    {
                        break;
                    }

                    if (pending.Count == 0 && !lingering && !givingBack)
                    {
                        asleep = true;
                        Monitor.Wait(gate);
                        asleep = false;
                    }
                    else if (!Monitor.Wait(gate, options.FlushDelay))
                    {
                        lingering = false;
                        if ((pending.Count > 0 || givingBack) && !writing)
                        {
                            break;
                        }
                    }
                }

                if (pending.Count == 0 && (stopping || !givingBack))
                {
                    if (stopping)
                    {
                        return;
                    }

                    continue;
                }

                giveBack = givingBack && !stopping;
                givingBack = false;
                batch = Take();
            }

            WriteTaken(batch, giveBack);
            lingering = true;
        }
    }

    /// <summary>Takes what is pending for one write (under <see cref="gate"/>); nothing else writes until <see cref="WriteTaken"/> ends.</summary>
    private List<Op> Take()
    {
        writing = true;
        waited = false;
        var batch = pending;
        pending = spare;
        return batch;
    }

    /// <summary>
    /// Writes a batch <see cref="Take"/> took (and, on the writer thread, a give-back after it), then wakes the
    /// writer thread if something waits for it.
    /// </summary>
    private void WriteTaken(List<Op> batch, bool giveBack = false)
    {
        try
        {
            if (batch.Count > 0)
            {
                Write(batch);
            }

            if (giveBack)
            {
                GiveBack();
            }
        }
        finally
        {
            batch.Clear();
            lock (gate)
            {
                spare = batch;
                writing = false;
                if (waitsForWrite || waited || stopping)
                {
                    Monitor.Pulse(gate);
                }
            }
        }
    }

    private void Write(List<Op> batch)
    {
        try
        {
            commands.InTransaction(c => Apply(batch, c));

            if (failing)
            {
                failing = false;
                ControllerLog.JournalWritable(logger, Folder);
            }

            foreach (var op in batch)
            {
                op.Durable?.TrySetResult();
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            var error = new CapClusterException(
                $"{Path.Combine(Folder, DatabaseName)}: the task journal could not be written ({Reason(e)}); tasks are accepted again once it can. Free space or fix the folder's permissions",
                e);
            if (!failing)
            {
                failing = true;
                ControllerLog.JournalWriteFailed(logger, error.Message);
            }

            foreach (var op in batch)
            {
                op.Durable?.TrySetException(error);
            }
        }
    }

    /// <summary>
    /// One transaction's rows, by table: the tasks, then their attempts, the results, then what is forgotten (a task is forgotten only
    /// after its result was journaled, so within a transaction this order keeps every id's history). The row lists and
    /// the specs' encodings (all in one buffer) are kept from one transaction to the next: a burst's journal otherwise
    /// made an array a task and grew lists of 100,000 rows again each time.
    /// </summary>
    private void Apply(List<Op> batch, Commands commands)
    {
        var (inserted, attempts, results, forgotten, specs) = (rows.Tasks, rows.Attempts, rows.Results, rows.Forgotten, rows.Specs);
        try
        {
            foreach (var op in batch)
            {
                switch (op.Kind)
                {
                    case OpKind.Submit:
                        foreach (var (hash, image, owner) in op.Assemblies!.Images)
                        {
                            commands.AddAssembly(hash, image.ToByteArray(), owner);
                        }

                        foreach (var (id, hashes) in op.Assemblies.Closures)
                        {
                            commands.AddClosure(id, string.Join('\n', hashes));
                        }

                        // A run of tasks that share one spec shares its encoding: each row binds the same slice.
                        var encoded = new SpecRun<(int At, int Size)>();
                        foreach (var (id, owner, submittedUs, spec) in op.Tasks!)
                        {
                            if (encoded.StartsWith(spec))
                            {
                                var size = spec.CalculateSize();
                                Google.Protobuf.MessageExtensions.WriteTo(spec, specs.GetSpan(size)[..size]);
                                specs.Advance(size);
                                encoded.Value = (specs.WrittenCount - size, size);
                            }

                            inserted.Add((id, owner, submittedUs, encoded.Value.At, encoded.Value.Size));
                        }

                        break;
                    case OpKind.Finish when op.Result!.Length > options.LargeResult:
                        WriteResultFile(op.Id, op.Result);
                        results.Add((op.Id, null));
                        break;
                    case OpKind.Finish:
                        results.Add((op.Id, op.Result));
                        break;
                    case OpKind.Attempt:
                        attempts.Add((op.Id, op.Counts));
                        attempted.Add(op.Id);
                        break;
                    case OpKind.Forget:
                        forgotten.AddRange(op.Ids!);
                        break;
                }
            }

            commands.InsertTasks(inserted, specs.WrittenMemory);
            commands.InsertAttempts(attempts);
            commands.InsertResults(results);
            commands.Forget(forgotten);
            if (attempted.Count > 0)
            {
                commands.ForgetAttempts([.. forgotten.Where(attempted.Remove)]);
            }

            foreach (var id in forgotten.Where(filed.Remove))
            {
                File.Delete(ResultFile(id));
            }
        }
        finally
        {
            rows.Clear();
        }
    }

    private void WriteResultFile(long id, byte[] result)
    {
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(ResultFile(id), create))
        {
            stream.Write(result);
            if (options.SyncEveryCommit)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        filed.Add(id);
    }

    private string ResultFile(long id) => Path.Combine(ResultsFolder, id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".result");

    private static string Reason(Exception e) => e is SqliteException sqlite ? sqlite.SqliteErrorCode switch
    {
        13 => "the disk is full",
        8 or 23 => "the folder or file is not writable",
        _ => sqlite.Message.Replace("SQLite Error ", "SQLite error ", StringComparison.Ordinal),
    } : e.Message;

    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static void CreatePrivateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static bool HasColumn(SqliteConnection connection, string table, string column) =>
        Convert.ToInt32(Scalar(connection, $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'"), System.Globalization.CultureInfo.InvariantCulture) > 0;

    private enum OpKind
    {
        Submit,
        Finish,
        Attempt,
        Forget,
        Flush,
    }

    /// <summary>What <see cref="Apply"/> gathers for one transaction: rows by table, and the tasks' specs encoded one after another.</summary>
    private sealed class JournalRows
    {
        /// <summary>Past this many bytes of specs (a burst of large ones), the buffer is not kept for the next transaction.</summary>
        private const int KeptSpecBytes = 16 << 20;

        public List<(long Id, string Owner, long SubmittedUs, int SpecAt, int SpecLength)> Tasks { get; } = [];

        public List<(long Id, AttemptCounts Counts)> Attempts { get; } = [];

        public List<(long Id, byte[]? Result)> Results { get; } = [];

        public List<long> Forgotten { get; } = [];

        public ArrayBufferWriter<byte> Specs { get; private set; } = new();

        public void Clear()
        {
            Tasks.Clear();
            Attempts.Clear();
            Results.Clear();
            Forgotten.Clear();
            if (Specs.Capacity > KeptSpecBytes)
            {
                Specs = new ArrayBufferWriter<byte>();
            }
            else
            {
                Specs.ResetWrittenCount();
            }
        }
    }

    private sealed record Op(
        OpKind Kind,
        IReadOnlyList<(long Id, string Owner, long SubmittedUs, TaskSpec Spec)>? Tasks,
        AssemblyRecords? Assemblies,
        TaskCompletionSource? Durable,
        long Id = 0,
        byte[]? Result = null,
        IReadOnlyList<long>? Ids = null,
        AttemptCounts Counts = default);
}
