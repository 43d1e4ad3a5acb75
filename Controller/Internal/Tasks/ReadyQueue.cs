namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// The farm's ready tasks, in the order they go to engines: task entries, and runs. A run stands for a stretch of one
/// submission's tasks whose specs wait in the journal (consecutive ids, one owner, no requirements, never tried): one
/// small object however many tasks it holds, so that a million queued tasks do not keep a million entries, each with
/// its slot in the farm's table and its node here. A run gives its tasks entries as engines take them from its front,
/// or as a caller names one of them (the run is split around it). Each task capability's tasks wait in a line of their
/// own, in the order they came, and engines take from the lines in turn: a holder who queued a million tasks delays
/// another's next task by a share of one batch, not by its million. Touched only under the farm's lock.
/// </summary>
internal sealed class ReadyQueue
{
    // The lines of the capabilities with tasks waiting; each node of a line holds a TaskEntry or a Run.
    private readonly Dictionary<TaskOwner, Line> lines = [];

    // Those lines, the one whose turn comes next first.
    private readonly LinkedList<Line> turns = new();

    // The runs by their last id, which stays while a run gives up its front.
    private readonly SortedList<long, Run> runs = [];

    /// <summary>The tasks waiting, entries and the tasks of runs alike.</summary>
    public int Count { get; private set; }

    /// <summary>The runs (for tests and diagnostics: each is one object in memory).</summary>
    public int Runs => runs.Count;

    /// <summary>
    /// About the memory the specs of the entries waiting here hold: each its encoded size and <see cref="SpecObjectBytes"/>;
    /// a spilled entry and a run hold none.
    /// </summary>
    public long SpecBytes { get; private set; }

    /// <summary>
    /// What a decoded spec holds beyond its encoded size: its messages, their lists and strings. A no-op DelegateTask's
    /// spec (88 bytes encoded) holds about 500 bytes of them: with 1,000,000 of them queued, the controller's RSS grew
    /// by 49 MiB when about 87,000 more of their specs stayed in memory (2026-12-06).
    /// </summary>
    public const int SpecObjectBytes = 500;

    /// <summary>The task capabilities with tasks waiting (each has its line, and its turn).</summary>
    public int Holders => lines.Count;

    public void AddLast(TaskEntry entry)
    {
        if (!lines.TryGetValue(entry.Owner, out var line))
        {
            lines[entry.Owner] = line = new Line(entry.Owner);
            line.Turn = turns.AddLast(line);
        }

        entry.ReadyNode = line.AddLast(entry);
        entry.QueuedSpecBytes = entry.IsSpilled ? 0 : Math.Max(0, entry.SpecBytes) + SpecObjectBytes;
        SpecBytes += entry.QueuedSpecBytes;
        Count++;
    }

    /// <summary>Drops the spec of <paramref name="entry"/> (waiting here or not) from memory; the journal holds it.</summary>
    public void Spill(TaskEntry entry)
    {
        entry.Spill();
        SpecBytes -= entry.QueuedSpecBytes;
        entry.QueuedSpecBytes = 0;
    }

    /// <summary>Takes an entry out (an abort, or a task the journal could not keep); false if it was not waiting here.</summary>
    public bool Remove(TaskEntry entry)
    {
        if (entry.ReadyNode is null)
        {
            return false;
        }

        Unlink(entry);
        Count--;
        return true;
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> tasks of the capabilities the engine <paramref name="serves"/>, skipping entries
    /// that do not <paramref name="fit"/> it (the tasks of a run have no requirements, so they fit any engine): an equal
    /// share from each capability's line in turn, a line's from its front, and what one line cannot fill goes to the
    /// others. The next call begins with the next line. Entries made for a run's tasks are new to the caller, which must
    /// hold them.
    /// </summary>
    public List<TaskEntry> Take(int max, Func<TaskOwner, bool> serves, Func<TaskEntry, bool> fit)
    {
        var taken = new List<TaskEntry>();
        if (turns.First is not { } first)
        {
            return taken;
        }

        if (first.Next is null)
        {
            if (serves(first.Value.Owner))
            {
                TakeFrom(first.Value, max, fit, taken);
            }

            return taken;
        }

        List<Line> waiting = [.. turns.Where(line => serves(line.Owner))];
        turns.RemoveFirst();
        turns.AddLast(first);
        while (taken.Count < max && waiting.Count > 0)
        {
            var share = Math.Max(1, (max - taken.Count) / waiting.Count);
            var more = new List<Line>(waiting.Count);
            foreach (var line in waiting)
            {
                var wanted = Math.Min(share, max - taken.Count);
                if (wanted == 0)
                {
                    break;
                }

                // A line that filled its share may have more.
                if (TakeFrom(line, wanted, fit, taken) == wanted)
                {
                    more.Add(line);
                }
            }

            waiting = more;
        }

        return taken;
    }

    /// <summary>Takes up to <paramref name="wanted"/> tasks that fit from the front of <paramref name="line"/> into <paramref name="taken"/>; how many.</summary>
    private int TakeFrom(Line line, int wanted, Func<TaskEntry, bool> fit, List<TaskEntry> taken)
    {
        var end = taken.Count + wanted;
        var before = taken.Count;
        for (var node = line.First; node is not null && taken.Count < end;)
        {
            var next = node.Next;
            if (node.Value is TaskEntry entry)
            {
                if (fit(entry))
                {
                    Remove(entry);
                    taken.Add(entry);
                }
            }
            else
            {
                var run = (Run)node.Value;
                while (taken.Count < end && run.First <= run.Last)
                {
                    taken.Add(run.Entry(run.First++));
                    Count--;
                }

                if (run.First > run.Last)
                {
                    Drop(node);
                    runs.Remove(run.Last);
                }
            }

            node = next;
        }

        return taken.Count - before;
    }

    /// <summary>
    /// The entry of task <paramref name="id"/> if it waits in a run, taken out of it in its place (the run is split
    /// around it); null if no run holds it. The caller must hold the entry.
    /// </summary>
    public TaskEntry? Materialize(long id)
    {
        if (RunOf(id) is not { } run)
        {
            return null;
        }

        var node = run.Node!;
        if (id > run.First)
        {
            var before = new Run(run.First, id - 1, run.Owner, run.Subscriber, run.SubmittedUnixUs);
            before.Node = node.List!.AddBefore(node, before);
            runs.Add(before.Last, before);
        }

        var entry = run.Entry(id);
        entry.ReadyNode = node.List!.AddBefore(node, entry);
        run.First = id + 1;
        if (run.First > run.Last)
        {
            Drop(node);
            runs.Remove(run.Last);
        }

        return entry;
    }

    /// <summary>
    /// Turns stretches of at least <paramref name="minimum"/> consecutive <paramref name="candidates"/> (in id order)
    /// that wait here side by side, whose specs are durable in the journal and that nothing holds on to, into runs;
    /// returns the entries that became part of a run, which the caller must let go of.
    /// </summary>
    public List<TaskEntry> Collapse(IReadOnlyList<TaskEntry> candidates, int minimum)
    {
        var collapsed = new List<TaskEntry>();
        var start = 0;
        for (var i = 1; i <= candidates.Count; i++)
        {
            if (i < candidates.Count && Continues(candidates[i - 1], candidates[i]) && Collapsible(candidates[start]))
            {
                continue;
            }

            if (i - start >= minimum && Collapsible(candidates[start]))
            {
                var first = candidates[start];
                var run = new Run(first.Id, candidates[i - 1].Id, first.Owner, first.Subscriber, first.SubmittedUnixUs);
                run.Node = first.ReadyNode!.List!.AddBefore(first.ReadyNode, run);
                runs.Add(run.Last, run);
                for (var j = start; j < i; j++)
                {
                    Unlink(candidates[j]);
                    collapsed.Add(candidates[j]);
                }
            }

            start = i;
        }

        return collapsed;
    }

    private void Unlink(TaskEntry entry)
    {
        Drop(entry.ReadyNode!);
        entry.ReadyNode = null;
        SpecBytes -= entry.QueuedSpecBytes;
        entry.QueuedSpecBytes = 0;
    }

    /// <summary>Takes <paramref name="node"/> out of its line; a line left empty gives up its turn.</summary>
    private void Drop(LinkedListNode<object> node)
    {
        var line = (Line)node.List!;
        line.Remove(node);
        if (line.Count == 0)
        {
            turns.Remove(line.Turn!);
            lines.Remove(line.Owner);
        }
    }

    // The previous candidate may have left the queue already (an engine took it while the journal wrote the submission).
    private static bool Continues(TaskEntry previous, TaskEntry entry) =>
        Collapsible(entry)
        && entry.Id == previous.Id + 1
        && previous.ReadyNode is { } node
        && ReferenceEquals(node.Next, entry.ReadyNode)
        && ReferenceEquals(entry.Owner, previous.Owner)
        && ReferenceEquals(entry.Subscriber, previous.Subscriber)
        && entry.SubmittedUnixUs == previous.SubmittedUnixUs;

    /// <summary>A task that a run's entry made afresh would describe completely: waiting here, never tried, its spec plain and durable, nobody waiting on it.</summary>
    private static bool Collapsible(TaskEntry entry) =>
        entry.ReadyNode is not null && entry.CanSpill && entry.Attempts == 0 && !entry.AbortRequested && entry.Engine is null && !entry.IsWatched;

    private Run? RunOf(long id)
    {
        // The first run whose last id is at or after id.
        var lasts = runs.Keys;
        int low = 0, high = lasts.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (lasts[middle] < id)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low < lasts.Count && runs.Values[low] is { } run && run.First <= id ? run : null;
    }

    /// <summary>One capability's waiting tasks, in the order they came.</summary>
    private sealed class Line(TaskOwner owner) : LinkedList<object>
    {
        public TaskOwner Owner { get; } = owner;

        public LinkedListNode<Line>? Turn { get; set; }
    }

    /// <summary>Tasks First..Last of one submission, their specs in the journal.</summary>
    private sealed class Run(long first, long last, TaskOwner owner, TaskSubscriber? subscriber, long submittedUnixUs)
    {
        public long First { get; set; } = first;

        public long Last { get; } = last;

        public TaskOwner Owner { get; } = owner;

        public TaskSubscriber? Subscriber { get; } = subscriber;

        public long SubmittedUnixUs { get; } = submittedUnixUs;

        public LinkedListNode<object>? Node { get; set; }

        public TaskEntry Entry(long id) => TaskEntry.Spilled(id, Owner, Subscriber, SubmittedUnixUs);
    }
}
