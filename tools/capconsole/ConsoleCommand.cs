namespace CapCluster.Repl;

/// <summary>One input of <c>capcluster console</c>, as <see cref="MagicParser"/> reads it.</summary>
internal abstract record ConsoleCommand
{
    /// <summary>Nothing to do (an empty line).</summary>
    public sealed record Empty : ConsoleCommand;

    /// <summary>C# run here, in the console's own script, with <c>mec</c> and <c>tc</c> defined.</summary>
    public sealed record Local(string Code) : ConsoleCommand;

    /// <summary>
    /// <c>%px</c>, <c>%%px</c> or a line under <c>%autopx</c>: C# run on the engines. <paramref name="TargetOverride"/>
    /// and <paramref name="BlockOverride"/> override the session's for this call only when given.
    /// </summary>
    public sealed record Px(string Code, TargetSpec? TargetOverride = null, bool? BlockOverride = null) : ConsoleCommand;

    /// <summary><c>%autopx</c>: toggles sending every following input to the engines.</summary>
    public sealed record AutoPx : ConsoleCommand;

    /// <summary><c>%result</c> (the last %px call again) or <c>%result N</c> (execution N from the engines' history).</summary>
    public sealed record Result(int? ExecutionCount) : ConsoleCommand;

    /// <summary><c>%targets</c> shows the targets; <c>%targets 0,2</c> or <c>%targets all</c> sets them.</summary>
    public sealed record Targets(TargetSpec? Spec) : ConsoleCommand;

    /// <summary><c>%block</c> shows the mode; <c>%block on|off</c> sets whether %px waits for the engines.</summary>
    public sealed record Block(bool? On) : ConsoleCommand;

    /// <summary><c>%status</c>: the controller and its engines, as <c>capcluster status</c> prints them.</summary>
    public sealed record Status : ConsoleCommand;

    /// <summary><c>%help</c>.</summary>
    public sealed record Help : ConsoleCommand;

    /// <summary>Input that cannot run, with a one-line reason naming what was wrong.</summary>
    public sealed record Invalid(string Error) : ConsoleCommand;
}
