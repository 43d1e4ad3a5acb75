using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>What the journal's rows keep, read back as a restart reads them: every kind of spec and result, and every batch size of the inserts.</summary>
public sealed class JournalRowsTests
{
    [Fact]
    public async Task TasksAndResults_OfEveryShape_AreReadBackAsWritten_ThroughEveryInsertSize()
    {
        using var folder = new TempFolder();
        var options = new TaskJournalOptions { LargeResult = 64 };
        static TaskSpec Code(int i) => new() { Code = new CodeTaskSpec { Code = $"{i} + {new string('1', i * 7)}" } };

        // 16 + 4 + 1 + 2 tasks: each of the insert statements' sizes is used, and the last rows go one at a time. Specs of
        // as many sizes (all encoded into one buffer), owners in any script; then a second transaction, after the first.
        var tasks = Enumerable.Range(1, 23).Select(i => ((long)i, $"cap_{i % 3}_ünï", 1000L + i, i == 5 ? new TaskSpec() : Code(i))).ToList();
        var later = Enumerable.Range(24, 3).Select(i => ((long)i, "", 1000L + i, Code(i))).ToList();
        var results = new Dictionary<long, byte[]>
        {
            [1] = new TaskResult { TaskId = 1, State = TaskState.Succeeded }.ToByteArray(),
            [2] = [], // a result of no bytes is a result, not "no result"
            [3] = new TaskResult { TaskId = 3, State = TaskState.Failed, Failure = new string('x', 200) }.ToByteArray(), // over LargeResult: a file
        };
        using (var journal = TaskJournal.Open(folder.Path, options, NullLogger.Instance))
        {
            await journal.Submit(tasks, new AssemblyRecords()).Within();
            foreach (var (id, result) in results)
            {
                journal.Finish(id, result);
            }

            await journal.Flush().Within();
            _ = journal.Submit(later, new AssemblyRecords());
            // Not the submission's own wait: it goes on where the journal wrote it, which must not be where the journal is disposed.
            await journal.Flush().Within();
        }

        tasks.AddRange(later);
        using var reopened = TaskJournal.Open(folder.Path, options, NullLogger.Instance);
        var entries = new List<TaskJournal.Entry>();
        reopened.LoadTasks(entries.Add);

        Assert.Equal(tasks.Select(t => t.Item1), entries.Select(e => e.Id));
        Assert.Equal(tasks.Select(t => (t.Item2, t.Item3)), entries.Select(e => (e.Owner, e.SubmittedUs)));
        Assert.Equal(TaskState.Succeeded, entries[0].Result!.State);
        Assert.Equal(new TaskResult(), entries[1].Result);
        Assert.Equal(new string('x', 200), entries[2].Result!.Failure);
        Assert.Equal(new TaskSpec(), entries[4].Spec);
        Assert.All(entries.Skip(3).Where(e => e.Id != 5), e => Assert.Equal(Code((int)e.Id), e.Spec)); // a finished task is loaded without its spec
        Assert.All(entries.Skip(3), e => Assert.Null(e.Result));
    }

    [Fact]
    public async Task ForgottenTasks_AndTheirResults_AreGoneAfterARestart_RunsAndStrayIds_ThroughEveryDeleteSize()
    {
        using var folder = new TempFolder();
        var spec = new TaskSpec { Code = new CodeTaskSpec { Code = "0" } };
        var result = new TaskResult { State = TaskState.Succeeded }.ToByteArray();
        // A run (41 to 50, named out of order and 45 twice: one range delete) and 21 stray ids (the odd ones to 39, and
        // 55: 16 + 4 + 1, so every delete statement's size is used); 40, beside both, stays.
        long[] run = [50, 41, 45, 42, 43, 44, 45, 46, 47, 48, 49];
        var strays = Enumerable.Range(0, 20).Select(i => (long)((2 * i) + 1)).Append(55).ToList();
        using (var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance))
        {
            await journal.Submit([.. Enumerable.Range(1, 60).Select(i => ((long)i, "cap_a", 0L, spec))], new AssemblyRecords()).Within();
            foreach (var id in Enumerable.Range(1, 60))
            {
                journal.Finish(id, result);
            }

            journal.Forget([.. strays.Take(10), .. run, .. strays.Skip(10)]);
            await journal.Flush().Within();
        }

        using var reopened = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        var entries = new List<TaskJournal.Entry>();
        reopened.LoadTasks(entries.Add);
        var kept = Enumerable.Range(1, 60).Select(i => (long)i).Except(run).Except(strays).ToList();
        Assert.Equal(kept, entries.Select(e => e.Id));
        Assert.Contains(40L, kept);
        Assert.All(entries, e => Assert.Equal(TaskState.Succeeded, e.Result!.State));

        // Their results are deleted too, not left behind where no task row joins them.
        using var database = new SqliteConnection($"Data Source={Path.Combine(folder.Path, TaskJournal.DatabaseName)};Mode=ReadOnly;Pooling=False");
        database.Open();
        using var count = database.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM results";
        Assert.Equal((long)kept.Count, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public async Task Attempts_AreReadBackWithTheirTasks_TheLatestKept_AndForgottenWithThem_ThroughEveryInsertSize()
    {
        using var folder = new TempFolder();
        var spec = new TaskSpec { Code = new CodeTaskSpec { Code = "0" } };
        // 21 tasks attempted (16 + 4 + 1 rows), task 3 twice (the second replaces the first), 22 never; then 5 to 8 forgotten.
        using (var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance))
        {
            await journal.Submit([.. Enumerable.Range(1, 22).Select(i => ((long)i, "cap_a", 0L, spec))], new AssemblyRecords()).Within();
            foreach (var id in Enumerable.Range(1, 21))
            {
                journal.Attempted(id, new AttemptCounts(id, id % 3, id % 2 == 0));
            }

            journal.Attempted(3, new AttemptCounts(4, 1, true));
            await journal.Flush().Within();
            journal.Forget([5, 6, 7, 8]);
            await journal.Flush().Within();
        }

        using var reopened = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        var entries = new List<TaskJournal.Entry>();
        reopened.LoadTasks(entries.Add);

        Assert.Equal([.. Enumerable.Range(1, 22).Where(i => i is < 5 or > 8).Select(i => (long)i)], entries.Select(e => e.Id));
        Assert.All(entries.Where(e => e.Id is not (3 or 22)), e => Assert.Equal(new AttemptCounts((int)e.Id, (int)e.Id % 3, e.Id % 2 == 0), e.Attempts));
        Assert.Equal(new AttemptCounts(4, 1, true), entries.Single(e => e.Id == 3).Attempts);
        Assert.Equal(default, entries.Single(e => e.Id == 22).Attempts);

        using var database = new SqliteConnection($"Data Source={Path.Combine(folder.Path, TaskJournal.DatabaseName)};Mode=ReadOnly;Pooling=False");
        database.Open();
        using var count = database.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM attempts";
        Assert.Equal(17L, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public async Task SpilledSpecs_AreReadBackByIdInAnyOrder_RunsAndStrayIdsAlike_TheMissingLeftOut()
    {
        using var folder = new TempFolder();
        using var journal = TaskJournal.Open(folder.Path, new TaskJournalOptions(), NullLogger.Instance);
        static TaskSpec Spec(long id) => new() { Code = new CodeTaskSpec { Code = $"{id} + 1" } };
        await journal.Submit([.. Enumerable.Range(1, 40).Select(i => ((long)i, "cap_a", 0L, Spec(i)))], new AssemblyRecords()).Within();

        // Two runs, two strays, a duplicate and two ids the journal never had, out of order.
        long[] asked = [21, 3, 40, 41, 5, 4, 20, 9, 22, 5, 0];
        var specs = journal.ReadSpecs(asked);

        long[] present = [3, 4, 5, 9, 20, 21, 22, 40];
        Assert.Equal(present, specs.Keys.Order());
        Assert.All(present, id => Assert.Equal(Spec(id), specs[id]));

        // The prepared statement is kept between reads.
        Assert.Equal([7L], journal.ReadSpecs([7]).Keys);
    }
}
