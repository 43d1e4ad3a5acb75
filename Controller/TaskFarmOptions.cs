using CapCluster.Security;

namespace CapCluster.Controller;

/// <summary>
/// How the controller's task farm schedules and what it keeps: set on <see cref="ControllerOptions.Tasks"/>. Defaults
/// are the values below; <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed class TaskFarmOptions
{
    /// <summary>
    /// Most tasks in one batch sent to an engine. Below it, an engine's batches hold as many tasks as run in about
    /// <see cref="BatchTime"/>, judged by how long its last batches' tasks took (one task a batch until it answered one:
    /// a new engine's, and every engine's after the controller restarts), and a burst is shared among the engines that can
    /// take it. Many short tasks a batch cost fewer round trips; long tasks
    /// go one a batch, so that engines finish together. A batch is sized by the tasks before it, so a run of long tasks
    /// right after many short ones may take this many in its first batch: lower it when tasks of very different lengths
    /// follow each other. Default 256.
    /// </summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>How long a batch of tasks should run on its engine, as <see cref="BatchSize"/> says. Default 10 ms.</summary>
    public TimeSpan BatchTime { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Batches an engine may have sent or queued at once (one running, the next waiting). Default 2.</summary>
    public int BatchesPerEngine { get; set; } = 2;

    /// <summary>
    /// How many times an engine may be lost while it runs one task: at this many the task fails, whatever retries or
    /// recovery it asked for, saying it may be what ends engines (a task calling <c>Environment.Exit</c> or crashing its
    /// process would otherwise take an engine with it on every retry). Every task of a batch lost with its engine counts
    /// one. Default 2.
    /// </summary>
    public int MaxEngineLosses { get; set; } = 2;

    /// <summary>
    /// Finished results kept for retrieval by id; beyond it the oldest finished results are evicted (in the order they
    /// finished), and asking for one says so. Unfinished tasks are never evicted. Default 100,000.
    /// </summary>
    public int MaxFinishedResults { get; set; } = 100_000;

    /// <summary>
    /// The most bytes of finished results (encoded) one capability may have the controller hold, in memory and in its
    /// journal; beyond it that capability's oldest results are evicted (its newest is kept whatever its size), so a
    /// holder whose tasks return large values cannot spend others' memory or disk. Default 1 GiB.
    /// </summary>
    public long MaxResultBytesPerCapability { get; set; } = 1L << 30;

    /// <summary>
    /// The most bytes of unfinished tasks (their specs, with their inline values) one capability may have at the
    /// controller, in memory and in its journal; a submission past it is refused, saying so. Default 2 GiB.
    /// </summary>
    public long MaxQueuedBytesPerCapability { get; set; } = 2L << 30;

    /// <summary>
    /// Task ids reserved in the ledger at a time: one durable write per this many tasks, and a restarted controller
    /// continues after the last reserved block. Default 100,000.
    /// </summary>
    public long IdBlock { get; set; } = 100_000;

    /// <summary>
    /// The memory the specs of ready tasks may hold, about: each counts its encoded size and 500 bytes for the
    /// objects that hold it decoded. With a journal, the specs of tasks queued beyond this (without requirements or
    /// a recovery task) are dropped from memory once durable and read back just before they run, so a million queued
    /// tasks cost the controller an entry each, not their specs, while the specs of a burst of small ones stay in
    /// memory and are not read back from the journal's disk. Default 64 MiB: a no-op DelegateTask's spec encodes
    /// to 88 bytes, so about 110,000 of them.
    /// </summary>
    public long MaxQueuedSpecBytesInMemory { get; set; } = 64L << 20;

    /// <summary>
    /// The longest a GetResults call waits for unfinished tasks; a client asking for longer waits this long, then
    /// gets the tasks' current states (a client waiting longer asks again). From 1 s to <see cref="int.MaxValue"/> milliseconds
    /// (24.8 days). Default 1 hour.
    /// </summary>
    public TimeSpan MaxResultWait { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The most bytes of assembly images (shipped with delegate tasks) one capability may have the controller keep, in
    /// memory and in its journal; an image already kept costs nothing. Past it, tasks that ship new images are refused,
    /// saying so. Default 1 GiB.
    /// </summary>
    public long MaxAssemblyBytesPerCapability { get; set; } = 1L << 30;

    /// <summary>Checks the options and says what is wrong.</summary>
    /// <exception cref="CapClusterException">An option is out of range.</exception>
    public void Validate()
    {
        if (BatchSize < 1 || BatchesPerEngine < 1)
        {
            throw new CapClusterException($"--task-batch-size ({BatchSize}) and the batches per engine ({BatchesPerEngine}) must be at least 1");
        }

        if (BatchTime <= TimeSpan.Zero || BatchTime > TimeSpan.FromHours(1))
        {
            throw new CapClusterException($"--task-batch-time ({BatchTime.TotalMilliseconds} ms) must be more than 0 and at most an hour");
        }

        if (MaxAssemblyBytesPerCapability < 1)
        {
            throw new CapClusterException($"--max-assembly-bytes ({MaxAssemblyBytesPerCapability}) must be at least 1");
        }

        if (MaxResultBytesPerCapability < 1)
        {
            throw new CapClusterException($"--max-result-bytes ({MaxResultBytesPerCapability}) must be at least 1");
        }

        if (MaxQueuedBytesPerCapability < 1)
        {
            throw new CapClusterException($"--max-queued-bytes ({MaxQueuedBytesPerCapability}) must be at least 1");
        }

        if (MaxEngineLosses < 1)
        {
            throw new CapClusterException($"--max-engine-losses ({MaxEngineLosses}) must be at least 1");
        }

        if (MaxFinishedResults < 1)
        {
            throw new CapClusterException($"--max-finished-results ({MaxFinishedResults}) must be at least 1");
        }

        if (IdBlock < 1 || MaxQueuedSpecBytesInMemory < 0)
        {
            throw new CapClusterException($"the task id block ({IdBlock}) must be at least 1 and the queued spec bytes kept in memory ({MaxQueuedSpecBytesInMemory}) at least 0");
        }

        // Under a second, a client waiting for a task would ask again and again.
        if (MaxResultWait < TimeSpan.FromSeconds(1) || MaxResultWait > TimeSpan.FromMilliseconds(int.MaxValue))
        {
            throw new CapClusterException($"--max-result-wait ({MaxResultWait.TotalSeconds:0.###} s) must be between 1 and {int.MaxValue / 1000} s");
        }
    }

    /// <summary>A copy, so that a farm keeps the values it started with whatever its creator changes afterwards.</summary>
    internal TaskFarmOptions Copy() => (TaskFarmOptions)MemberwiseClone();
}
