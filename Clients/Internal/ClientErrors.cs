using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client.Internal;

/// <summary>
/// Every message a client shows a user about its own calls and tasks, built in one place (those about reaching the
/// controller are the connection's).
/// </summary>
internal static class ClientErrors
{
    /// <summary>
    /// A call made on, or still waiting on, a client that was disposed. The engines go on with a call already sent: leaving
    /// never waits for their work.
    /// </summary>
    public static ObjectDisposedException Disposed(string client, IReadOnlyList<int>? engines) =>
        new(client, $"the {client} was disposed: no answer from {Engines(engines)} will come to it. " +
            "A call already sent goes on there; another client's GetResultAsync (or %result in a new console) shows its output.");

    /// <summary>A task the controller no longer knows after a reconnection.</summary>
    public static TaskLostException TaskLost(long taskId, ControllerCallException answer, CapabilityFile capability) =>
        new(taskId,
            $"task {taskId} was lost with the controller: after the connection to {string.Join(", ", capability.Url.Locations)} was lost, " +
            $"the controller no longer knows it ({answer.Message}). It was cleared or evicted, or the controller was restarted without its task journal (--no-journal, or another --journal-folder); submit it again.",
            answer);

    /// <summary>A submission written to a stream that broke before the controller acknowledged it.</summary>
    public static TaskLostException Unacknowledged(Exception error) =>
        new(0, $"the task was sent but not acknowledged before the connection to the controller was lost; it may not have been queued " +
            $"and is not sent again (that could run it twice): {error.Message}", error);

    /// <summary>
    /// A submission written to a stream that the controller ended because it refuses the capability now (revoked,
    /// expired): the refusal, as any call of the capability gets it, saying what became of the submission.
    /// </summary>
    public static CapabilityRefusedException RefusedUnacknowledged(CapabilityRefusedException refused) =>
        new($"{refused.Message}. The task was sent but not acknowledged before the controller closed the connection; it may have " +
            "been queued, and is not sent again", refused.StatusCode, refused.Reason, refused, refused.Kind);

    /// <summary>Tasks that did not finish within a wait; <paramref name="outcomes"/>, when known, say what the unfinished ones are doing.</summary>
    public static TimeoutException NotFinished(long[] ids, TimeSpan limit, TaskOutcome?[]? outcomes)
    {
        var unfinished = ids.Select((id, i) => outcomes?[i] is not { } known ? $"task {id}"
            : known.IsFinished ? null : $"task {id} ({known.Status.ToString().ToLowerInvariant()})").OfType<string>().ToList();
        var named = string.Join(", ", unfinished.Take(5)) + (unfinished.Count > 5 ? $" and {unfinished.Count - 5} more" : "");
        var what = ids.Length == 1 ? named : $"{unfinished.Count} of {ids.Length} tasks ({named})";
        return new TimeoutException($"{what} did not finish within {Durations.Ago(limit)}; wait longer, or abort {(unfinished.Count == 1 ? "it" : "them")} with AbortAsync");
    }

    private static string Engines(IReadOnlyList<int>? engines) =>
        engines is null ? "the engines" : $"engine(s) {string.Join(", ", engines)}";
}
