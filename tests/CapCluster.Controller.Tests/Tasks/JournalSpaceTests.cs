using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>The journal gives the space of cleared tasks back to the file system, and a journal made before it could is switched at open.</summary>
public sealed class JournalSpaceTests
{
    private static readonly TaskSpec Spec = new() { Code = new CodeTaskSpec { Code = new string('x', 400) } };

    [Fact]
    public async Task AfterTasksAreForgotten_GivingSpaceBack_ShrinksTheDatabaseAndItsLog_AndTheJournalWorksOn()
    {
        using var folder = new TempFolder();
        using var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        var result = new TaskResult { State = TaskState.Succeeded, Stdout = new string('y', 200) }.ToByteArray();
        var ids = Enumerable.Range(1, 20_000).Select(i => (long)i).ToList();
        await journal.Submit([.. ids.Select(id => (id, "cap_a", 0L, Spec))], new AssemblyRecords()).Within();
        foreach (var id in ids)
        {
            journal.Finish(id, result);
        }

        await journal.Flush().Within();
        var full = FilesSize(folder.Path);
        Assert.True(full > 10 << 20, $"{full} bytes: too few for the test to show anything");

        journal.Forget(ids);
        await journal.Flush().Within();
        Assert.True(FilesSize(folder.Path) >= full, "deleting rows alone gives nothing back (the test shows what the give-back does)");
        await journal.GiveBackSpace().Within();

        var after = FilesSize(folder.Path);
        Assert.True(after < full / 10, $"{after} bytes after the give-back, {full} before");
        _ = journal.Submit([(20_001, "cap_a", 0L, Spec)], new AssemblyRecords());
        // Not the submission's own wait: it goes on where the journal wrote it, which must not be where the journal is disposed.
        await journal.Flush().Within();
        journal.Dispose();
        using var reopened = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        var entries = new List<TaskJournal.Entry>();
        reopened.LoadTasks(entries.Add);
        Assert.Equal([20_001L], entries.Select(e => e.Id));
    }

    [Fact]
    public void AJournalMadeWithoutAutoVacuum_IsSwitchedAtOpen_SayingSo_AndItsTasksLoad()
    {
        using var folder = new TempFolder();
        var database = Path.Combine(folder.Path, TaskJournal.DatabaseName);
        using (var old = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE tasks (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, submitted_us INTEGER NOT NULL, spec BLOB NOT NULL);
                CREATE TABLE results (id INTEGER PRIMARY KEY, result BLOB, in_file INTEGER NOT NULL);
                CREATE TABLE assemblies (hash TEXT PRIMARY KEY, image BLOB NOT NULL, owner TEXT);
                CREATE TABLE closures (id TEXT PRIMARY KEY, hashes TEXT NOT NULL);
                INSERT INTO tasks (id, owner, submitted_us, spec) VALUES (7, 'cap_a', 70, $spec), (8, 'cap_b', 80, $spec);
                INSERT INTO results (id, result, in_file) VALUES (8, $result, 0);
                PRAGMA user_version = 3;
                """;
            command.Parameters.AddWithValue("$spec", Spec.ToByteArray());
            command.Parameters.AddWithValue("$result", new TaskResult { TaskId = 8, State = TaskState.Failed, Failure = "old" }.ToByteArray());
            command.ExecuteNonQuery();
            Assert.Equal(0L, AutoVacuum(old));
        }

        var logger = new ListLogger();
        using (var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions(), logger))
        {
            var entries = new List<TaskJournal.Entry>();
            journal.LoadTasks(entries.Add);
            Assert.Equal([(7L, "cap_a", 70L), (8L, "cap_b", 80L)], entries.Select(e => (e.Id, e.Owner, e.SubmittedUs)));
            Assert.Equal(Spec, entries[0].Spec);
            Assert.Equal("old", entries[1].Result!.Failure);
        }

        Assert.Contains(logger.Lines, l => l.Contains(database, StringComparison.Ordinal) && l.Contains("rewritten once", StringComparison.Ordinal));
        using (var reopened = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            reopened.Open();
            Assert.Equal(2L, AutoVacuum(reopened)); // INCREMENTAL
        }

        // Once switched, a later open rewrites nothing.
        var again = new ListLogger();
        TaskJournal.Open(folder.Path, new TaskJournalOptions(), again).Dispose();
        Assert.DoesNotContain(again.Lines, l => l.Contains("rewritten once", StringComparison.Ordinal));
    }

    private static long AutoVacuum(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA auto_vacuum";
        return (long)command.ExecuteScalar()!;
    }

    private static long FilesSize(string folder) =>
        new[] { TaskJournal.DatabaseName, TaskJournal.DatabaseName + "-wal" }.Select(f => new FileInfo(Path.Combine(folder, f))).Sum(f => f.Exists ? f.Length : 0);

    /// <summary>The log lines written, as text.</summary>
    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
