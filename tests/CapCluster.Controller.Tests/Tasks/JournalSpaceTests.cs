using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>The journal gives the space of cleared tasks back to the file system when little is left in it.</summary>
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
    public async Task AJournalThatStillHoldsMoreThanAGiveBackMayCopy_KeepsItsSize_SayingSo_UntilItMay()
    {
        using var folder = new TempFolder();
        var ids = Enumerable.Range(1, 20_000).Select(i => (long)i).ToList();
        var logger = new ListLogger();
        long full;
        using (var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions { MaxGiveBackCopy = 1 << 20 }, logger))
        {
            await journal.Submit([.. ids.Select(id => (id, "cap_a", 0L, Spec))], new AssemblyRecords()).Within();
            await journal.Flush().Within();
            full = FilesSize(folder.Path);

            // Three quarters forgotten: the rest (about 2.5 MB) is more than this journal may copy.
            journal.Forget(ids[..15_000]);
            await journal.Flush().Within();
            await journal.GiveBackSpace().Within();
            Assert.True(FilesSize(folder.Path) >= full, "a give-back over its limit rewrote the journal");
            Assert.Contains(logger.Lines, l => l.Contains("keeps its size", StringComparison.Ordinal) && l.Contains("at most 1 MiB", StringComparison.Ordinal));
        }

        // With the default limit the same journal gives the forgotten three quarters back, and keeps the rest.
        using var reopened = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        await reopened.GiveBackSpace().Within();
        Assert.True(FilesSize(folder.Path) < full / 2, $"{FilesSize(folder.Path)} bytes after the give-back, {full} before");
        var entries = new List<TaskJournal.Entry>();
        reopened.LoadTasks(entries.Add);
        Assert.Equal(ids[15_000..], entries.Select(e => e.Id));
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
