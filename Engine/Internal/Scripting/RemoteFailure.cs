namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// Why an execute failed, in the form the client shows the user (like ipyparallel's
/// RemoteError). <paramref name="Line"/> and <paramref name="Column"/> are 1-based in the
/// submitted code: the first compile error, or the top frame of the exception that lies in
/// the submission.
/// </summary>
internal sealed record RemoteFailure(
    string Type, string Message, string StackTrace, bool IsCompileError, int? Line, int? Column)
{
    public const string CompilationErrorType = "CompilationError";
}
