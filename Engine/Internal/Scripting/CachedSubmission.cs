namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// A compiled submission kept for running the same code text again. It may run again only
/// while every name it mentions binds as it did when it was compiled (<paramref name="Bindings"/>,
/// null for a name that was no variable) and no type, method or using was declared since
/// (<paramref name="DeclarationVersion"/>); otherwise the text would mean something else now.
/// </summary>
internal sealed record CachedSubmission(
    CompiledSubmission Submission, long DeclarationVersion, IReadOnlyList<(string Name, VariableBinding? Binding)> Bindings);
