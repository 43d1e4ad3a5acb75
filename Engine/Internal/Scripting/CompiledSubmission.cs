using System.Reflection;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// One emitted submission of a chain. Running it constructs a new instance of its
/// submission class, which stores itself at <see cref="Slot"/> of the chain's submission
/// array; its instance fields are the variables it declares.
/// </summary>
internal sealed class CompiledSubmission(
    SubmissionChain chain,
    string path,
    int slot,
    Func<object?[], Task<object?>>? factory,
    Type? submissionType,
    IReadOnlyList<FieldInfo> fields,
    bool hasValue,
    bool declaresMembers,
    string? replaySource,
    IReadOnlyList<string> names)
{
    public SubmissionChain Chain { get; } = chain;

    /// <summary>The file name in stack traces: In[n] of the execute that compiled it.</summary>
    public string Path { get; } = path;

    public int Slot { get; } = slot;

    /// <summary>Null for a submission with nothing to run (only using directives).</summary>
    public Func<object?[], Task<object?>>? Factory { get; } = factory;

    public Type? SubmissionType { get; } = submissionType;

    /// <summary>User variables (instance fields) the submission declares.</summary>
    public IReadOnlyList<FieldInfo> Fields { get; } = fields;

    /// <summary>Ends with an expression whose value is the result, like a REPL.</summary>
    public bool HasValue { get; } = hasValue;

    /// <summary>Declares types, methods, properties, constants or using directives: anything
    /// that changes what later code binds to beyond plain variables.</summary>
    public bool DeclaresMembers { get; } = declaresMembers;

    /// <summary>The declarations to replay into a fresh chain (statements blanked out, lines
    /// kept), or null when there are none.</summary>
    public string? ReplaySource { get; } = replaySource;

    /// <summary>The names the code mentions (identifiers and the variables it declares): what
    /// decides whether it may run again unchanged.</summary>
    public IReadOnlyList<string> Names { get; } = names;

    /// <summary>Plain statements and variable declarations can run again as they are, when
    /// everything they could bind to is unchanged.</summary>
    public bool Reusable => Factory is not null && !DeclaresMembers;
}
