using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>
/// An error raised on an engine: which engine, the exception type there, its message and the
/// remote stack trace (with line numbers in the submitted code), or the compile error's position.
/// </summary>
public sealed class RemoteException(int engineId, string remoteType, string remoteMessage, string remoteStackTrace, bool isCompileError, int? line, int? column)
    : CapClusterException($"[engine {engineId}] {Summarize(remoteType, remoteMessage, isCompileError, line, column)}")
{
    /// <summary>What failed, where and why, without the engine: <c>System.X at line 2, column 1: message</c>, or <c>the code did not compile at line 2: ...</c>.</summary>
    public string Summary { get; } = Summarize(remoteType, remoteMessage, isCompileError, line, column);

    /// <summary>The engine that raised it.</summary>
    public int EngineId { get; } = engineId;

    /// <summary>The full name of the exception type on the engine (CompilationError for compile errors).</summary>
    public string RemoteType { get; } = remoteType;

    /// <summary>The exception's message on the engine.</summary>
    public string RemoteMessage { get; } = remoteMessage;

    /// <summary>The stack trace on the engine.</summary>
    public string RemoteStackTrace { get; } = remoteStackTrace;

    /// <summary>True when the code did not compile.</summary>
    public bool IsCompileError { get; } = isCompileError;

    /// <summary>1-based line in the submitted code, when known.</summary>
    public int? Line { get; } = line;

    /// <summary>1-based column in the submitted code, when known.</summary>
    public int? Column { get; } = column;

    /// <inheritdoc />
    public override string ToString() => Message + (RemoteStackTrace.Length > 0 ? Environment.NewLine + RemoteStackTrace : string.Empty);

    private static string Summarize(string type, string message, bool compile, int? line, int? column)
    {
        var where = line is int l ? $" at line {l}" + (column is int c ? $", column {c}" : string.Empty) : string.Empty;
        return compile ? $"the code did not compile{where}: {message}" : $"{type}{where}: {message}";
    }
}
