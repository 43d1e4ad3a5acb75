using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Engine.Internal;

/// <summary>
/// Task batches: each task in order, each with its own clean-or-existing namespace, pushed values,
/// code or delegate, pulled names; one task's failure does not touch the next. Task values travel
/// inline in the reply (bounded by the message size), so a batch's results are one message. A task the controller
/// aborted before its turn came (<see cref="Aborted"/>) is skipped and answered as aborted.
/// </summary>
internal sealed partial class WorkRunner
{
    /// <summary>Tasks the controller aborted after sending them here: skipped when their turn comes.</summary>
    public AbortedTasks Aborted { get; } = new();

    private async Task<EngineReply> RunTasksAsync(TaskBatch batch, ReceivedValues incoming, CancellationToken cancellationToken)
    {
        var reply = new TaskBatchReply();
        TaskRequest? previous = null;
        for (var i = 0; i < batch.Tasks.Count; i++)
        {
            // A run of tasks that share one spec comes as the first, then "the same again": one request object, parsed once.
            var sent = batch.Tasks[i];
            var task = sent.SameAsPrevious ? previous : sent;
            previous = task;
            if (i < batch.TaskIds.Count && Aborted.TryTake(batch.TaskIds[i]))
            {
                // Aborted while it waited behind the tasks before it: it never starts.
                reply.Replies.Add(new TaskReply { Aborted = true });
                continue;
            }

            reply.Replies.Add(task is null
                ? new TaskReply { Error = ToRemote(new InvalidOperationException("the controller sent a task as the same as the one before it, first in its batch")) }
                : await RunTaskAsync(task, incoming, cancellationToken).ConfigureAwait(false));
        }

        return new EngineReply { Tasks = reply };
    }

    private async Task<TaskReply> RunTaskAsync(TaskRequest task, ReceivedValues incoming, CancellationToken cancellationToken)
    {
        var reply = new TaskReply { StartedUnixUs = Protocol.UnixMicroseconds.Now() };
        try
        {
            if (task.ClearBefore)
            {
                space.Reset();
            }

            // Indexed: a RepeatedField's enumerator is an object per loop, and this runs per task.
            for (var i = 0; i < task.Push.Count; i++)
            {
                space.Set(task.Push[i].Name, incoming.Decode(task.Push[i]));
            }

            if (task.BodyCase == TaskRequest.BodyOneofCase.Code)
            {
                var outcome = await space.ExecuteAsync(task.Code, cancellationToken).ConfigureAwait(false);
                reply.Stdout = outcome.Stdout;
                reply.Stderr = outcome.Stderr;
                if (outcome.Error is { } failure)
                {
                    reply.Error = ToRemote(failure);
                    return reply;
                }
            }
            else if (task.BodyCase == TaskRequest.BodyOneofCase.Function)
            {
                // A task naming a closure hears of a missing assembly from the closure; one that lists them (a client of its own) here.
                var missing = task.Function.Function.Closure.Length > 0 ? [] : delegates.MissingAssemblies(Unsent(task.Function.Function), Declaring(task.Function.Function));
                if (missing.Count > 0)
                {
                    throw new InvalidOperationException($"engine {engineId()} lacks the shipped assemblies {string.Join(", ", missing)}");
                }

                var result = RunFunction(task.Function, incoming);
                reply.Values.Add(OutgoingValues.Inline("result", result));
            }

            for (var i = 0; i < task.Pull.Count; i++)
            {
                var name = task.Pull[i];
                if (!space.TryGet(name, out var value))
                {
                    throw new KeyNotFoundException($"the task asked to pull '{name}', which is not defined on engine {engineId()}");
                }

                reply.Values.Add(OutgoingValues.Inline(name, value));
            }

            if (task.ClearAfter)
            {
                space.Reset();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply.Error = ToRemote(e);
        }
        finally
        {
            reply.CompletedUnixUs = Protocol.UnixMicroseconds.Now();
        }

        return reply;
    }
}
