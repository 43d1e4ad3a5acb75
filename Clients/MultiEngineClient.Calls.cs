using CapCluster.Client.Internal;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using CapCluster.Security;
using Google.Protobuf;

namespace CapCluster.Client;

/// <summary>How every engine operation is sent and its answers turned into results or errors.</summary>
public sealed partial class MultiEngineClient
{
    private AsyncResult<T> Submit<T>(
        IEnumerable<int>? targets,
        EngineRequest request,
        IReadOnlyList<ReadOnlyMemory<byte>> blobs,
        Func<IReadOnlyList<CallOutcome>, T> interpret,
        CancellationToken cancellationToken,
        Func<IReadOnlyList<CallOutcome>, Task<IReadOnlyList<CallOutcome>>>? followUp = null)
    {
        var chosen = targets?.ToList() ?? Targets?.ToList();
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IReadOnlyList<EngineCallMetadata> metadata = [];
        var result = RunAsync();
        return new AsyncResult<T>(result, sent.Task, () => metadata);

        async Task<T> RunAsync()
        {
            IReadOnlyList<CallOutcome> outcomes;
            try
            {
                outcomes = await session.CallAsync(chosen, request, blobs, () => sent.TrySetResult(), cancellationToken).ConfigureAwait(false);
                if (followUp is not null)
                {
                    outcomes = await followUp(outcomes).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                sent.TrySetException(e);
                throw;
            }

            var ordered = Order(outcomes, chosen);
            metadata = [.. ordered.Select(o => new EngineCallMetadata(
                o.EngineId, o.Submitted, o.Started, o.Completed,
                o.Reply?.Execute?.Stdout ?? string.Empty, o.Reply?.Execute?.Stderr ?? string.Empty))];
            ThrowIfFailed(ordered);
            return interpret(ordered);
        }
    }

    private static IReadOnlyList<CallOutcome> Order(IReadOnlyList<CallOutcome> outcomes, IReadOnlyList<int>? targets)
    {
        if (targets is null)
        {
            return [.. outcomes.OrderBy(o => o.EngineId)];
        }

        var order = targets.ToArray();
        return [.. outcomes.OrderBy(o => Array.IndexOf(order, o.EngineId) is var i && i < 0 ? int.MaxValue : i)];
    }

    private static void ThrowIfFailed(IReadOnlyList<CallOutcome> outcomes)
    {
        var errors = new List<CapClusterException>();
        foreach (var outcome in outcomes)
        {
            if (outcome.Refusal is { } refusal)
            {
                // The controller refused this operation for the capability (its allowed methods, its budgets), not an engine failure.
                errors.Add(CapabilityRefusedException.From(outcome.Failure ?? refusal.Reason, refusal));
            }
            else if (outcome.Failure is { } failure)
            {
                errors.Add(new EngineLostException(outcome.EngineId, outcome.EngineId < 0 ? failure : $"[engine {outcome.EngineId}] {failure}"));
            }
            else if (outcome.Reply?.Error is { } error)
            {
                errors.Add(new RemoteException(
                    outcome.EngineId, error.Type, error.Message, error.StackTrace, error.CompileError,
                    error.Line > 0 ? error.Line : null, error.Column > 0 ? error.Column : null));
            }
        }

        if (errors.Count == 1)
        {
            throw errors[0];
        }

        if (errors.Count > 1)
        {
            throw new CompositeRemoteException(errors);
        }
    }

    private static T Single<T>(IReadOnlyList<CallOutcome> outcomes, string name) =>
        outcomes[0].Values!.DecodeAs<T>(outcomes[0].Reply!.Values.Values.Single(v => v.Name == name));
}
