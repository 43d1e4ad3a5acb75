using System.Collections.ObjectModel;

namespace CapCluster.Client;

/// <summary>What every task can say besides what it runs. Defaults: no retries, no dependencies, no requirements.</summary>
public abstract record TaskDefinition
{
    /// <summary>How many times to run the task again after it failed or its engine died. Default 0.</summary>
    public int Retries { get; init; }

    /// <summary>Runs once when the task and all its retries failed; its result then stands for the task's.</summary>
    public TaskDefinition? RecoveryTask { get; init; }

    /// <summary>Ids of tasks that must succeed first; if one fails, this task fails naming it.</summary>
    public IReadOnlyList<long> After { get; init; } = [];

    /// <summary>Tasks of the same <see cref="TaskClient.RunAsync(IReadOnlyList{TaskDefinition}, CancellationToken)"/> batch that must succeed first.</summary>
    public List<TaskDefinition> AfterInBatch { get; } = [];

    /// <summary>Engine properties the engine must have (an empty value: just the name, e.g. "mpi").</summary>
    public IReadOnlyDictionary<string, string> Requires { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Run in a clean namespace. Default false.</summary>
    public bool ClearBefore { get; init; }

    /// <summary>Clean the namespace afterwards. Default false.</summary>
    public bool ClearAfter { get; init; }

    /// <summary>Fail (or retry) the task when it has not finished this long after it started. Default none.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>The seeds' StringTask: push values, run C# code, pull named results.</summary>
public sealed record CodeTask(string Code) : TaskDefinition
{
    /// <summary>Values set in the namespace before the code runs.</summary>
    public IReadOnlyDictionary<string, object?> Push { get; init; } = ReadOnlyDictionary<string, object?>.Empty;

    /// <summary>Names whose values come back as the result.</summary>
    public IReadOnlyList<string> Pull { get; init; } = [];
}

/// <summary>The seeds' MapTask: a compiled delegate and its arguments, shipped like <see cref="MultiEngineClient.ApplyAsync{TResult}(Delegate, IReadOnlyList{object?}, IEnumerable{int}?, CancellationToken)"/>.</summary>
public sealed record DelegateTask(Delegate Function, IReadOnlyList<object?> Arguments) : TaskDefinition
{
    /// <summary>Run the function on each element of the first argument (a sequence) and return the list of results.</summary>
    internal bool MapOverFirstArgument { get; init; }

    /// <summary>A task running <paramref name="function"/>() .</summary>
    public static DelegateTask Of<TResult>(Func<TResult> function) => new(function, []);

    /// <summary>A task running <paramref name="function"/>(<paramref name="argument"/>).</summary>
    public static DelegateTask Of<T, TResult>(Func<T, TResult> function, T argument) => new(function, [argument]);
}
