using System.Collections;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Internal.Scripting;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;

namespace CapCluster.Engine.Internal;

/// <summary>
/// Runs one request against the engine's namespace and shipped code, and builds the reply.
/// User errors become <see cref="RemoteError"/>s carrying the engine id, type, message and
/// stack trace; the engine stays usable.
/// </summary>
internal sealed partial class WorkRunner(EngineNamespace space, DelegateRunner delegates, Func<int> engineId) : IDisposable
{
    private readonly Dictionary<string, string> properties = [];

    public async Task<(EngineReply Reply, IReadOnlyList<ReadOnlyMemory<byte>> Blobs)> RunAsync(EngineRequest request, ReceivedValues incoming, CancellationToken cancellationToken)
    {
        try
        {
            return request.KindCase switch
            {
                EngineRequest.KindOneofCase.Execute => (await ExecuteAsync(request.Execute, cancellationToken).ConfigureAwait(false), []),
                EngineRequest.KindOneofCase.Push => Push(request.Push, incoming),
                EngineRequest.KindOneofCase.Pull => Pull(request.Pull),
                EngineRequest.KindOneofCase.Keys => (new EngineReply { Keys = new KeysReply { Keys = { space.Keys } } }, []),
                EngineRequest.KindOneofCase.Reset => Reset(),
                EngineRequest.KindOneofCase.History => History(request.History),
                EngineRequest.KindOneofCase.Apply => Apply(request.Apply, incoming),
                EngineRequest.KindOneofCase.Properties => (Properties(request.Properties), []),
                EngineRequest.KindOneofCase.Tasks => (await RunTasksAsync(request.Tasks, incoming, cancellationToken).ConfigureAwait(false), []),
                _ => (Error("NotSupportedException", $"this engine does not know the request {request.KindCase}"), []),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (new EngineReply { Error = ToRemote(e) }, []);
        }
    }

    public void Dispose() => delegates.Dispose();

    private async Task<EngineReply> ExecuteAsync(ExecuteRequest execute, CancellationToken cancellationToken)
    {
        var outcome = await space.ExecuteAsync(execute.Code, cancellationToken).ConfigureAwait(false);
        var reply = new ExecuteReply
        {
            ExecutionCount = outcome.ExecutionCount,
            Code = outcome.Code,
            Stdout = outcome.Stdout,
            Stderr = outcome.Stderr,
            HasValue = outcome.HasValue,
        };
        if (outcome.HasValue)
        {
            reply.ValueText = Display(outcome.Value);
            try
            {
                // Large arrays are not sent back with every execute: they stay on the engine, to be pulled by name.
                var encoded = ValueCodec.Encode(outcome.Value, "Out");
                if (encoded.Blobs.Count == 0)
                {
                    reply.Value = MessageBytes.StringOf(encoded.Tree);
                }
            }
            catch (UnsendableValueException)
            {
                // The text is still shown; a value that is not data does not travel.
            }
        }

        var result = new EngineReply { Execute = reply };
        if (outcome.Error is { } failure)
        {
            result.Error = ToRemote(failure);
        }

        return result;
    }

    private (EngineReply, IReadOnlyList<ReadOnlyMemory<byte>>) Push(PushRequest push, ReceivedValues incoming)
    {
        // A push whose values came apart from its request (see ControllerLink) names them in what it received.
        foreach (var named in push.Values.Count > 0 ? push.Values : incoming.Named)
        {
            space.Set(named.Name, incoming.Decode(named));
        }

        return (new EngineReply { Ack = new Ack() }, []);
    }

    private (EngineReply, IReadOnlyList<ReadOnlyMemory<byte>>) Pull(PullRequest pull)
    {
        var outgoing = new OutgoingValues();
        var reply = new ValuesReply();
        foreach (var name in pull.Names)
        {
            if (!space.TryGet(name, out var value))
            {
                return (Error("KeyNotFoundException", $"'{name}' is not defined on engine {engineId()} (Keys lists what is)"), []);
            }

            reply.Values.Add(outgoing.Add(name, value));
        }

        return (new EngineReply { Values = reply }, outgoing.Blobs);
    }

    private (EngineReply, IReadOnlyList<ReadOnlyMemory<byte>>) Reset()
    {
        space.Reset();
        return (new EngineReply { Ack = new Ack() }, []);
    }

    private (EngineReply, IReadOnlyList<ReadOnlyMemory<byte>>) History(HistoryRequest history)
    {
        var outcome = space.History(history.ExecutionCount);
        return outcome is null
            ? (Error("KeyNotFoundException", $"engine {engineId()} has no execution {history.ExecutionCount} in its history"), [])
            : (new EngineReply
            {
                Execute = new ExecuteReply
                {
                    ExecutionCount = outcome.ExecutionCount,
                    Code = outcome.Code,
                    Stdout = outcome.Stdout,
                    Stderr = outcome.Stderr,
                    HasValue = outcome.HasValue,
                    ValueText = outcome.HasValue ? Display(outcome.Value) : string.Empty,
                },
            }, []);
    }

    private (EngineReply, IReadOnlyList<ReadOnlyMemory<byte>>) Apply(ApplyRequest apply, ReceivedValues incoming)
    {
        var function = apply.Function;
        var missing = delegates.MissingAssemblies(Unsent(function), Declaring(function));
        if (missing.Count > 0)
        {
            return (new EngineReply { MissingAssemblies = new MissingAssemblies { Hashes = { missing } } }, []);
        }

        var result = RunFunction(apply, incoming);
        var outgoing = new OutgoingValues();
        var reply = new ValuesReply { Values = { outgoing.Add("result", result) } };
        return (new EngineReply { Values = reply }, outgoing.Blobs);
    }

    /// <summary>Loads the shipped images a request carries, binds captured values and arguments, and runs the delegate (mapped over a sequence when asked).</summary>
    private object? RunFunction(ApplyRequest apply, ReceivedValues incoming)
    {
        var function = apply.Function;
        var assemblies = AssembliesOf(function);
        var captured = new (string, object?)[function.Captured.Count];
        for (var i = 0; i < captured.Length; i++)
        {
            captured[i] = (function.Captured[i].Name, incoming.Decode(function.Captured[i]));
        }

        var arguments = new object?[apply.Arguments.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = incoming.Decode(apply.Arguments[i]);
        }

        if (!apply.Map)
        {
            return Invoke(function, assemblies, captured, arguments);
        }

        var results = new List<object?>();
        foreach (var item in (IEnumerable?)arguments.FirstOrDefault() ?? Array.Empty<object?>())
        {
            results.Add(Invoke(function, assemblies, captured, [item]));
        }

        return results;
    }

    // Called on the engine's worker loop, a thread-pool thread given over to user code: no Task.Run, which
    // would cost a thread hop per call (a delegate that waits blocks the loop either way).
    private object? Invoke(DelegateCall function, IReadOnlyList<string> assemblies, IReadOnlyList<(string, object?)> captured, IReadOnlyList<object?> arguments) =>
        delegates.Invoke(assemblies, function.DeclaringType, function.MethodToken, function.IsStatic, captured, arguments, ValueCodec.ConvertTo, function.Delegates);

    /// <summary>
    /// Keeps the images a function carries and returns its assemblies' hashes, declaring assembly first: a task's by its
    /// closure id (listed with the first task naming it, then one lookup), a MultiEngine apply's from its own list.
    /// </summary>
    private IReadOnlyList<string> AssembliesOf(DelegateCall function)
    {
        foreach (var image in function.Assemblies)
        {
            if (!image.Image.IsEmpty)
            {
                delegates.AddAssembly(image.Hash, image.Image.Memory);
            }
        }

        if (function.Closure.Length == 0)
        {
            return [.. function.Assemblies.Select(a => a.Hash)];
        }

        return function.Assemblies.Count > 0
            ? delegates.AddClosure(function.Closure, [.. function.Assemblies.Select(a => a.Hash)])
            : delegates.Closure(function.Closure);
    }

    /// <summary>The assemblies a function names without carrying their images, with the names the client gives them.</summary>
    private static IEnumerable<(string Hash, string Name)> Unsent(DelegateCall function) =>
        function.Assemblies.Where(a => a.Image.IsEmpty).Select(a => (a.Hash, a.Name));

    private static string Declaring(DelegateCall function) => function.Assemblies.Count > 0 ? function.Assemblies[0].Hash : string.Empty;

    private EngineReply Properties(PropertiesRequest request)
    {
        switch (request.KindCase)
        {
            case PropertiesRequest.KindOneofCase.Set:
                foreach (var (key, value) in request.Set.Values)
                {
                    properties[key] = value;
                }

                break;
            case PropertiesRequest.KindOneofCase.Delete:
                foreach (var key in request.Delete.Names)
                {
                    properties.Remove(key);
                }

                break;
            case PropertiesRequest.KindOneofCase.Clear:
                properties.Clear();
                break;
        }

        // Always the whole map: the controller keeps its view of the engine's properties from it (task requirements).
        return new EngineReply { Properties = new PropertyMap { Values = { properties } } };
    }

    private EngineReply Error(string type, string message) =>
        new() { Error = new RemoteError { EngineId = engineId(), Type = type, Message = message } };

    private RemoteError ToRemote(RemoteFailure failure) => new()
    {
        EngineId = engineId(),
        Type = failure.Type,
        Message = failure.Message,
        StackTrace = failure.StackTrace,
        CompileError = failure.IsCompileError,
        Line = failure.Line ?? 0,
        Column = failure.Column ?? 0,
    };

    private RemoteError ToRemote(Exception e)
    {
        var inner = e is System.Reflection.TargetInvocationException { InnerException: { } cause } ? cause : e;
        return new RemoteError
        {
            EngineId = engineId(),
            Type = inner.GetType().FullName ?? inner.GetType().Name,
            Message = inner.Message,
            StackTrace = inner.StackTrace ?? string.Empty,
        };
    }

    private static string Display(object? value) => value switch
    {
        null => "null",
        string s => s,
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? value.GetType().Name,
    };
}
