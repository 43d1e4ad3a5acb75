namespace CapCluster.Controller.Internal;

/// <summary>
/// How much call data the controller holds for clients (the values of a call, until every target engine was sent
/// them): per call, per session, and in all; and how much of their results it holds for a client that does not read.
/// </summary>
/// <param name="MaxCallBytes">The most one call may carry (beside its session too, where the engines hold it).</param>
/// <param name="MaxSessionBytes">The most one session may have held at once.</param>
/// <param name="Controller">What all sessions hold, against the controller-wide limit.</param>
/// <param name="MaxSessionCalls">The most calls one session may have whose results are not all written to its client.</param>
/// <param name="MaxUnreadBytes">The most bytes of results one session may have waiting for its client to read them.</param>
/// <param name="Unread">What the sessions of each capability leave unread together, bounded per capability.</param>
internal sealed record CallBudgets(long MaxCallBytes, long MaxSessionBytes, ByteBudget Controller, int MaxSessionCalls, long MaxUnreadBytes, CapabilityBacklogs Unread);
