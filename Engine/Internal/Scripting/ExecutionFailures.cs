using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>Builds the <see cref="RemoteFailure"/> an execute reports, in one place.</summary>
internal static class ExecutionFailures
{
    /// <summary>All errors, one per line, "(line,column): error CSxxxx: message"; the position
    /// of the first is the failure's.</summary>
    public static RemoteFailure Compilation(IReadOnlyList<Diagnostic> errors)
    {
        var message = new StringBuilder();
        int? line = null, column = null;
        foreach (var error in errors)
        {
            var position = error.Location.GetLineSpan().StartLinePosition;
            line ??= position.Line + 1;
            column ??= position.Character + 1;
            if (message.Length > 0)
                message.Append('\n');
            message.Append(CultureInfo.InvariantCulture,
                $"({position.Line + 1},{position.Character + 1}): error {error.Id}: {error.GetMessage(CultureInfo.InvariantCulture)}");
        }
        return new RemoteFailure(RemoteFailure.CompilationErrorType, message.ToString(), "", true, line, column);
    }

    /// <summary>The exception as the user's code threw it; the position is that of the topmost
    /// frame in the submission's own file (In[n]).</summary>
    public static RemoteFailure Runtime(Exception exception, string submissionPath)
    {
        int? line = null, column = null;
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: true).GetFrames())
        {
            if (string.Equals(frame.GetFileName(), submissionPath, StringComparison.Ordinal) && frame.GetFileLineNumber() > 0)
            {
                line = frame.GetFileLineNumber();
                column = frame.GetFileColumnNumber() is > 0 and var c ? c : null;
                break;
            }
        }
        // Inner exceptions (a TypeInitializationException's cause, say) are part of what the user needs.
        var trace = exception.InnerException is null ? exception.StackTrace ?? "" : exception.ToString();
        return new RemoteFailure(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, trace, false, line, column);
    }
}
