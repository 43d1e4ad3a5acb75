namespace CapCluster.Controller.Internal;

/// <summary>
/// How much call data the controller holds for clients (the chunks of a call, until every target engine was sent
/// them): per call, per session, and in all.
/// </summary>
/// <param name="MaxCallBytes">The most one call may carry (on lanes too, where the engines hold it).</param>
/// <param name="MaxSessionBytes">The most one session may have held at once.</param>
/// <param name="Controller">What all sessions hold, against the controller-wide limit.</param>
internal sealed record CallBudgets(long MaxCallBytes, long MaxSessionBytes, ByteBudget Controller);
